//! Memory per operation with the counting allocator installed (as in the guestctl
//! binary): exact, deterministic figures for routines with controlled allocations,
//! and memory regressions reported like time regressions, naming the metric.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;

use guestctl_perf::memory::{self, CountingAlloc};
use guestctl_perf::report::{markdown_report, terminal_table};
use guestctl_perf::store::parse_results;
use guestctl_perf::{
    BaselineAction, Metric, MockMeasurement, NoObserver, Params, PerfError, PerfTestSuite, Report,
    Unit, Verdict,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new(std::alloc::System);

/// The counters are process-wide: tests of this file run one at a time (and from
/// one `#[test]`, below, so that the harness starts no other test thread while a
/// test counts: those allocations would be counted too).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    let g = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    memory::set_counting(true);
    g
}

/// Fixed timings, so that only memory differs between runs.
fn times() -> Vec<f64> {
    (0..20).map(|i| 1e6 + (i % 5) as f64 * 1e3).collect()
}

/// A run of `op` whose every iteration allocates `n` buffers of `bytes` bytes, held
/// together, then freed.
fn run(bytes: usize, n: usize) -> PerfTestSuite {
    let mut suite = PerfTestSuite::new();
    let mut routine = move || -> Result<(), PerfError> {
        let held: Vec<Vec<u8>> = (0..n)
            .map(|_| std::hint::black_box(Vec::with_capacity(bytes)))
            .collect();
        std::hint::black_box(&held);
        Ok(())
    };
    suite
        .run_with(
            "op",
            Params::new(),
            20,
            &mut MockMeasurement::new(times()),
            &mut routine,
            &mut NoObserver,
        )
        .unwrap();
    suite
}

fn controlled_allocations_are_counted_exactly() {
    let _g = lock();
    assert!(memory::installed());
    let s = run(10_000, 3);
    let t = s.get("op").unwrap();
    let m = t.memory.as_ref().expect("memory recorded");
    assert_eq!(m.alloc_bytes.len(), 20);
    // 3 buffers of 10,000 bytes plus the outer Vec of 3 × 24-byte Vec headers.
    let expected = (3 * 10_000 + 3 * std::mem::size_of::<Vec<u8>>()) as f64;
    assert!(
        m.alloc_bytes.iter().all(|b| *b == expected),
        "{:?}",
        m.alloc_bytes
    );
    assert!(
        m.alloc_count.iter().all(|c| *c == 4.0),
        "{:?}",
        m.alloc_count
    );
    // All held at once: the peak is everything allocated.
    assert!(
        m.peak_heap_bytes.iter().all(|p| *p == expected),
        "{:?}",
        m.peak_heap_bytes
    );
    assert_eq!(t.allocated_bytes, Some(expected as u64));
    assert!(t.peak_rss_bytes.is_some() || !cfg!(target_os = "linux"));

    // Freed one by one instead of held: same bytes, peak of one buffer.
    let mut one_at_a_time = || -> Result<(), PerfError> {
        for _ in 0..3 {
            std::hint::black_box(Vec::<u8>::with_capacity(10_000));
        }
        Ok(())
    };
    let mut s2 = PerfTestSuite::new();
    s2.run_with(
        "seq",
        Params::new(),
        10,
        &mut MockMeasurement::new(times()),
        &mut one_at_a_time,
        &mut NoObserver,
    )
    .unwrap();
    let m2 = s2.get("seq").unwrap().memory.clone().unwrap();
    assert!(
        m2.alloc_bytes.iter().all(|b| *b == 30_000.0),
        "{:?}",
        m2.alloc_bytes
    );
    assert!(
        m2.peak_heap_bytes.iter().all(|p| *p == 10_000.0),
        "{:?}",
        m2.peak_heap_bytes
    );

    // The report shows it.
    let md = s.generate_report();
    assert!(md.contains("## Memory"), "{md}");
    let b = guestctl_perf::report::format_bytes(expected);
    assert!(md.contains(&format!("| op | {b} | 4 | {b} |")), "{md}");
}

fn counting_off_records_no_memory() {
    let _g = lock();
    memory::set_counting(false);
    let s = run(1000, 1);
    memory::set_counting(true);
    assert!(s.get("op").unwrap().memory.is_none());
    // Only the resident-set peak (not from the allocator) is left.
    let md = s.generate_report();
    assert!(
        md.contains("| op | – | – | – |") || !md.contains("## Memory"),
        "{md}"
    );
}

fn memory_regression_is_flagged_naming_the_metric() {
    let _g = lock();
    let base = run(1000, 2);
    let cur = run(2000, 2);
    let cmp = cur.compare_with_baseline(&base, 5.0);
    // Time is identical; the bytes allocated and the peak doubled.
    let time = cmp
        .tests
        .iter()
        .find(|t| t.metric == Metric::Samples)
        .unwrap();
    assert_eq!(time.verdict(), Some(Verdict::Unchanged));
    let alloc = cmp
        .tests
        .iter()
        .find(|t| t.metric == Metric::AllocBytes)
        .unwrap();
    assert_eq!(alloc.verdict(), Some(Verdict::Regression));
    assert_eq!(alloc.unit, Unit::Bytes);
    assert_eq!(alloc.label(), "op [alloc_bytes]");
    let peak = cmp
        .tests
        .iter()
        .find(|t| t.metric == Metric::PeakHeapBytes)
        .unwrap();
    assert_eq!(peak.verdict(), Some(Verdict::Regression));
    assert!(cmp.has_regressions());
    assert_eq!(cmp.exit_code(), guestctl_perf::EXIT_REGRESSION);
    // The overall (time) change ignores memory.
    assert_eq!(cmp.overall_ratio, Some(1.0));

    let md = cmp.generate_report();
    let reg = md.split("### ❌ Regressions").nth(1).unwrap();
    let reg = reg.split("### Unchanged").next().unwrap();
    assert!(reg.contains("- op [alloc_bytes]: "), "{md}");
    assert!(reg.contains("% more ("), "{md}");
    assert!(reg.contains("- op [peak_heap_bytes]: "), "{md}");
    assert!(!reg.contains("- op: "), "{md}");

    let report = Report::new(
        cur.to_run(),
        BaselineAction::Compared { path: "b".into() },
        Some(cmp.clone()),
    );
    let term = terminal_table(&report);
    assert!(term.contains("regression: op [alloc_bytes]: "), "{term}");
    // Memory figures are deterministic checks, outside the time verdict counts.
    assert!(term.contains("0 regression(s)"), "{term}");
    assert!(
        term.contains("memory (deterministic, against the threshold): 2 regression(s)"),
        "{term}"
    );
    assert!(markdown_report(&report).contains("op [alloc_bytes]"));

    // Less memory is an improvement.
    let back = base.compare_with_baseline(&cur, 5.0);
    assert!(!back.has_regressions());
    assert_eq!(back.improvements().len(), 2);

    // The same allocations are unchanged.
    let same = run(1000, 2).compare_with_baseline(&base, 5.0);
    assert!(!same.has_regressions());
    assert!(same
        .tests
        .iter()
        .all(|t| t.verdict() == Some(Verdict::Unchanged)));
}

fn baselines_without_memory_still_load_and_compare() {
    let _g = lock();
    let cur = run(1000, 1);
    // An older results file: the same run without the memory fields.
    let mut v = serde_json::to_value(cur.to_run()).unwrap();
    for t in v["tests"].as_array_mut().unwrap() {
        let o = t.as_object_mut().unwrap();
        o.remove("memory");
        o.remove("allocated_bytes");
        o.remove("peak_rss_bytes");
    }
    let bytes = serde_json::to_vec(&v).unwrap();
    let old = parse_results(&bytes, std::path::Path::new("old.json"), "n/a").unwrap();
    assert!(old.tests[0].memory.is_none());
    let cmp = cur.compare_with_baseline(&PerfTestSuite::from_run(old), 5.0);
    // Only time is compared, without errors.
    assert_eq!(cmp.tests.len(), 1);
    assert_eq!(cmp.tests[0].metric, Metric::Samples);
    assert!(cmp.tests[0].error.is_none());
    // And the new file round-trips with its memory.
    let json = guestctl_perf::report::to_json_bytes(&cur.to_run()).unwrap();
    let back = parse_results(&json, std::path::Path::new("new.json"), "n/a").unwrap();
    assert_eq!(back.tests[0].memory, cur.get("op").unwrap().memory);
}

/// Counting switched off stops the counters dead, and switched on counts each
/// allocation exactly. Off, the allocator's cost is one relaxed load and no
/// counter update, which this checks; its cost in time is not asserted (on a
/// shared machine a timed bound is either noise or too loose to mean anything).
fn counting_off_touches_no_counter() {
    let _g = lock();
    let pairs = 10_000u64;
    let allocate = || {
        for i in 0..pairs {
            std::hint::black_box(Box::new(i));
        }
    };
    memory::set_counting(false);
    let before = memory::counters();
    allocate();
    let off = memory::counters();
    memory::set_counting(true);
    allocate();
    let on = memory::counters();
    assert_eq!(off, before, "counters moved with counting off");
    assert_eq!(on.count - off.count, pairs);
    assert_eq!(on.allocated - off.allocated, pairs * 8);
    assert_eq!(on.live, off.live, "every box was freed");
}

/// `perf bench` results carry the peak RSS of every run (from `wait4`): compared like
/// time, as `peak_rss_bytes`.
fn peak_rss_of_external_commands_is_compared() {
    let _g = lock();
    let bench = |rss: u64| {
        let mut s = PerfTestSuite::new();
        let mut work = || Ok(());
        let mut r = s
            .run_with(
                "cmd",
                Params::new(),
                12,
                &mut MockMeasurement::new(times()),
                &mut work,
                &mut NoObserver,
            )
            .unwrap()
            .clone();
        r.memory = None;
        r.process = Some(guestctl_perf::record::ProcessStats {
            user_ns: vec![1.0; 12],
            sys_ns: vec![1.0; 12],
            max_rss_bytes: (0..12).map(|i| rss + i * 4096).collect(),
            exit_codes: vec![Some(0); 12],
            command: vec!["true".into()],
        });
        s.push(r);
        s
    };
    let cmp = bench(40 << 20).compare_with_baseline(&bench(20 << 20), 5.0);
    let rss = cmp
        .tests
        .iter()
        .find(|t| t.metric == Metric::PeakRssBytes)
        .expect("peak RSS compared");
    assert_eq!(rss.verdict(), Some(Verdict::Regression));
    assert_eq!(rss.label(), "cmd [peak_rss_bytes]");
    let md = cmp.generate_report();
    assert!(
        md.contains("- cmd [peak_rss_bytes]: 99.9% more (20.0 MiB → 40.0 MiB)"),
        "{md}"
    );
}

/// Every case of this file, in one test: nothing else runs in this process while
/// the allocator counts (libtest spawning and reporting other tests allocates, and
/// the counters see every thread).
#[test]
fn memory_measurement() {
    controlled_allocations_are_counted_exactly();
    counting_off_records_no_memory();
    memory_regression_is_flagged_naming_the_metric();
    baselines_without_memory_still_load_and_compare();
    counting_off_touches_no_counter();
    peak_rss_of_external_commands_is_compared();
}
