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
