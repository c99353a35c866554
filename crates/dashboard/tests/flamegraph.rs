//! In-process flamegraphs with pprof (Linux, feature `flamegraph`).
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(all(feature = "flamegraph", target_os = "linux"))]

use guestctl_dashboard::profile;

#[inline(never)]
fn dashboard_busy_work(n: u64) -> u64 {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..n {
        x = x.rotate_left(5) ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d);
    }
    x
}

#[test]
fn profile_produces_a_flamegraph_naming_the_hot_function() {
    let mut sink = 0u64;
    let svg = profile("busy <test>", 5, || {
        sink ^= dashboard_busy_work(std::hint::black_box(300_000));
    })
    .unwrap();
    std::hint::black_box(sink);
    let text = String::from_utf8(svg).unwrap();
    assert!(text.contains("<svg"), "not an SVG");
    // The title is escaped by inferno, and the sampled stacks name our function.
    assert!(text.contains("busy &lt;test&gt;"), "title missing");
    assert!(
        text.contains("dashboard_busy_work"),
        "hot function not in the flamegraph"
    );
}

#[test]
fn flamegraph_paths_are_plain_relative_file_names() {
    use guestctl_dashboard::flamegraph_path;
    assert_eq!(
        flamegraph_path("os_inspection/ubuntu"),
        "flamegraphs/os_inspection_ubuntu.svg"
    );
    assert_eq!(
        flamegraph_path("../../etc/passwd"),
        "flamegraphs/_.._.._etc_passwd.svg"
    );
    assert_eq!(flamegraph_path(""), "flamegraphs/_.svg");
    assert!(flamegraph_path(&"x".repeat(1000)).len() < 200);
}

#[test]
fn profile_routine_reports_a_failing_operation() {
    use guestctl_dashboard::profile_routine;
    use guestctl_perf::PerfError;
    let mut n = 0;
    let mut routine = || -> Result<(), PerfError> {
        n += 1;
        if n > 3 {
            Err(PerfError::operation("disk vanished"))
        } else {
            Ok(())
        }
    };
    let e = profile_routine("failing", 10, &mut routine).unwrap_err();
    assert!(
        e.to_string().contains("disk vanished") || e.to_string().contains("profiler"),
        "{e}"
    );
}
