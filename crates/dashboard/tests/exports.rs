//! Bencher, github-action-benchmark and JUnit exports; the baseline acceptance rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use guestctl_dashboard::{
    bmf_json, github_benchmark_json, junit_xml, refusal_reasons, should_accept,
};
use guestctl_perf::{BaselineAction, Report};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;

#[test]
fn bmf_has_latency_with_interval_per_test() {
    let (_, cur) = suite_pair();
    let v: Value = serde_json::from_slice(&bmf_json(&cur)).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), cur.tests.len());
    for t in &cur.tests {
        let m = &obj[&t.name]["latency"];
        assert_eq!(m["value"].as_f64().unwrap(), t.summary.median);
        assert_eq!(
            m["lower_value"].as_f64().unwrap(),
            t.summary.median_ci.lower
        );
        assert_eq!(
            m["upper_value"].as_f64().unwrap(),
            t.summary.median_ci.upper
        );
        assert!(m["lower_value"].as_f64() <= m["value"].as_f64());
    }
}

#[test]
fn github_action_benchmark_custom_smaller_is_better() {
    let (_, cur) = suite_pair();
    let v: Value = serde_json::from_slice(&github_benchmark_json(&cur)).unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), cur.tests.len());
    for (item, t) in items.iter().zip(&cur.tests) {
        assert_eq!(item["name"], t.name.as_str());
        assert_eq!(item["unit"], "ns");
        assert_eq!(item["value"].as_f64().unwrap(), t.summary.median);
        assert!(item["range"].as_str().unwrap().starts_with("± "));
        assert!(item["extra"].as_str().unwrap().contains(&cur.git_commit));
    }
}

/// Parses `xml` fully (well-formedness) and returns (testcase names, failure types).
fn parse_junit(xml: &str) -> (Vec<String>, Vec<String>, usize) {
    let mut r = Reader::from_str(xml);
    let mut cases = Vec::new();
    let mut failures = Vec::new();
    let mut skipped = 0;
    let mut depth = 0i32;
    loop {
        match r.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"skipped" => {
                let _ = e;
                skipped += 1;
            }
            Event::Start(e) => {
                depth += 1;
                let attr = |k: &[u8]| {
                    e.attributes()
                        .map(|a| a.unwrap())
                        .find(|a| a.key.as_ref() == k)
                        .map(|a| a.unescape_value().unwrap().into_owned())
                };
                match e.name().as_ref() {
                    b"testcase" => {
                        assert!(attr(b"classname").is_some() && attr(b"time").is_some());
                        cases.push(attr(b"name").unwrap());
                    }
                    b"failure" => failures.push(attr(b"type").unwrap()),
                    _ => {}
                }
            }
            Event::End(_) => depth -= 1,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced elements");
    (cases, failures, skipped)
}

#[test]
fn junit_is_well_formed_with_failures_for_regressions_and_missed_targets() {
    let (base, cur) = suite_pair();
    let cmp = compare(&cur, &base);
    let compared = |fail_on_target_miss| {
        let mut r = Report::new(
            cur.clone(),
            BaselineAction::Compared { path: "b".into() },
            Some(cmp.clone()),
        );
        r.fail_on_target_miss = fail_on_target_miss;
        r
    };
    let xml = junit_xml(&compared(true));
    println!("{xml}");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    let (cases, failures, skipped) = parse_junit(&xml);
    // Every current test plus the missing one; the hostile name round-trips.
    assert_eq!(cases.len(), cur.tests.len() + 1);
    assert!(cases.contains(&"weird <name> & \"quotes\"".to_string()));
    assert_eq!(skipped, 1);
    // os_inspection +25 % and cache_lookup +50 % regress; cache_lookup also misses its
    // target: one <failure> per testcase (as JUnit allows), naming both reasons.
    assert_eq!(
        failures,
        vec![
            "regression".to_string(),
            "regression, target_missed".to_string()
        ],
    );
    assert!(xml.contains("failures=\"2\""));
    assert!(xml.contains("slower than the baseline (threshold 5.0%)"));
    // Without a comparison only the target can fail.
    let mut alone = Report::new(cur.clone(), BaselineAction::None, None);
    alone.fail_on_target_miss = true;
    let (_, failures, _) = parse_junit(&junit_xml(&alone));
    assert_eq!(failures, vec!["target_missed".to_string()]);
    // By default a missed target is a warning: in the test's output, not a failure,
    // and the exit status, JUnit and the annotations agree.
    let report = compared(false);
    let xml = junit_xml(&report);
    let (_, failures, _) = parse_junit(&xml);
    assert_eq!(failures, vec!["regression", "regression"], "{xml}");
    assert!(
        xml.contains("warning: target of 100 µs missed by operation cache_lookup (not a failure)")
    );
    alone.fail_on_target_miss = false;
    assert_eq!(parse_junit(&junit_xml(&alone)).1, Vec::<String>::new());
    assert_eq!(alone.exit_code(), 0);
    let gh = guestctl_perf::report::github_annotations(&alone);
    assert!(
        gh.starts_with("::warning title=Target missed%3A cache_lookup::"),
        "{gh}"
    );
    alone.fail_on_target_miss = true;
    assert_eq!(alone.exit_code(), 2);
    let gh = guestctl_perf::report::github_annotations(&alone);
    assert!(
        gh.starts_with("::error title=Target missed%3A cache_lookup::"),
        "{gh}"
    );
}

#[test]
fn accept_only_without_regressions_or_missing_tests() {
    let (base, cur) = suite_pair();
    let cmp = compare(&cur, &base);
    assert!(!should_accept(&cmp));
    let why = refusal_reasons(&cmp);
    assert!(
        why.iter()
            .any(|w| w.starts_with("old_test: in the baseline but missing")),
        "{why:?}"
    );
    assert!(
        why.iter()
            .any(|w| w.starts_with("os_inspection/ubuntu: regressed +")),
        "{why:?}"
    );
    // A run against itself: nothing regressed, nothing missing.
    assert!(should_accept(&compare(&cur, &cur)));
    // Faster than the baseline is fine; a new test is fine.
    let mut base2 = cur.clone();
    base2.tests.retain(|t| t.name != "cache_lookup");
    let cmp2 = compare(&base, &base2);
    assert!(!cmp2.improvements().is_empty());
    assert!(should_accept(&cmp2), "{:?}", refusal_reasons(&cmp2));
}
