//! The emitted JSON conforms to docs/schema/results.schema.json, checked by a small
//! validator of the keywords the schema uses (type, required, properties, items,
//! prefixItems, additionalProperties, $ref, const, enum, minimum, minItems, minLength).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_perf::{MockMeasurement, NoObserver, Params, PerfTestSuite, SuiteConfig, Targets};
use serde_json::Value;

fn schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/schema/results.schema.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/$defs/").expect("local $ref");
            &root["$defs"][name]
        }
        None => s,
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_u64() || v.is_i64(),
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        other => panic!("unknown type {other}"),
    }
}

fn validate(root: &Value, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    let s = resolve(root, schema);
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_ok(t.as_str().unwrap(), v)),
            _ => panic!("bad type"),
        };
        if !ok {
            errs.push(format!("{at}: expected type {t}, got {v}"));
            return;
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            errs.push(format!("{at}: expected {c}, got {v}"));
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errs.push(format!("{at}: {v} not in {e:?}"));
        }
    }
    if let (Some(m), Some(x)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if x < m {
            errs.push(format!("{at}: {x} < minimum {m}"));
        }
    }
    if let (Some(m), Some(x)) = (s.get("minLength").and_then(Value::as_u64), v.as_str()) {
        if (x.chars().count() as u64) < m {
            errs.push(format!("{at}: shorter than {m}"));
        }
    }
    if let Some(obj) = v.as_object() {
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let k = r.as_str().unwrap();
            if !obj.contains_key(k) {
                errs.push(format!("{at}: missing required field {k}"));
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => validate(root, ps, val, &format!("{at}.{k}"), errs),
                None => {
                    if let Some(ap) = s.get("additionalProperties") {
                        validate(root, ap, val, &format!("{at}.{k}"), errs);
                    }
                }
            }
        }
    }
    if let Some(arr) = v.as_array() {
        if let Some(m) = s.get("minItems").and_then(Value::as_u64) {
            if (arr.len() as u64) < m {
                errs.push(format!("{at}: fewer than {m} items"));
            }
        }
        if let Some(pi) = s.get("prefixItems").and_then(Value::as_array) {
            for (i, (ps, val)) in pi.iter().zip(arr).enumerate() {
                validate(root, ps, val, &format!("{at}[{i}]"), errs);
            }
        }
        if let Some(is) = s.get("items") {
            for (i, val) in arr.iter().enumerate() {
                validate(root, is, val, &format!("{at}[{i}]"), errs);
            }
        }
    }
}

fn check(v: &Value) -> Vec<String> {
    let root = schema();
    let mut errs = Vec::new();
    validate(&root, &root, v, "$", &mut errs);
    errs
}

fn sample_run() -> Value {
    let targets = Targets::parse(
        "schema_version = 1\n[operations.op]\ntarget_ms = 2.0\nspec_week12_target_ms = 400\nspec_baseline_ms = 500\n",
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let mut suite = PerfTestSuite::with_config(SuiteConfig {
        targets,
        ..SuiteConfig::default()
    });
    let values: Vec<f64> = vec![1e6, 1.1e6, 0.9e6, 5e6, 1.05e6];
    suite
        .run_with(
            "op",
            Params::new(),
            5,
            &mut MockMeasurement::new(values),
            &mut || Ok(()),
            &mut NoObserver,
        )
        .unwrap();
    let mut p = Params::new();
    p.insert("disk_type".into(), "minimal".into());
    suite
        .run_with(
            "other/minimal",
            p,
            12,
            &mut MockMeasurement::new(vec![10.0, 11.0]),
            &mut || Ok(()),
            &mut NoObserver,
        )
        .unwrap();
    serde_json::to_value(suite.to_run()).unwrap()
}

#[test]
fn emitted_results_conform_to_the_schema() {
    let v = sample_run();
    let errs = check(&v);
    assert!(errs.is_empty(), "{errs:#?}");
    // The run above exercises the optional parts too.
    assert!(v["tests"][0]["target"]["status"].is_string());
    assert!(!v["tests"][0]["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn process_results_conform_to_the_schema() {
    let spec = guestctl_perf::process::CommandBench {
        name: "true".into(),
        argv: vec!["true".into()],
        runs: 2,
        warmup: 0,
        show_output: false,
        ignore_failure: false,
        prepare: None,
    };
    let opts = guestctl_perf::Options {
        bootstrap_resamples: 100,
        ..Default::default()
    };
    let r = guestctl_perf::process::bench_command(&spec, &opts, &mut NoObserver).unwrap();
    let mut suite = PerfTestSuite::new();
    suite.push(r);
    let errs = check(&serde_json::to_value(suite.to_run()).unwrap());
    assert!(errs.is_empty(), "{errs:#?}");
}

#[test]
fn memory_and_instruction_results_conform_to_the_schema() {
    let mut suite = PerfTestSuite::new();
    let mut work = || Ok(());
    let mut r = suite
        .run_with(
            "op",
            Params::new(),
            2,
            &mut MockMeasurement::new(vec![10.0, 11.0])
                .with_unit(guestctl_perf::Unit::Instructions),
            &mut work,
            &mut NoObserver,
        )
        .unwrap()
        .clone();
    r.memory = Some(guestctl_perf::MemoryStats {
        alloc_bytes: vec![100.0, 100.0],
        alloc_count: vec![2.0, 2.0],
        peak_heap_bytes: vec![64.0, 64.0],
    });
    r.allocated_bytes = Some(100);
    r.peak_rss_bytes = Some(1 << 20);
    suite.push(r);
    let v = serde_json::to_value(suite.to_run()).unwrap();
    assert_eq!(v["tests"][0]["unit"], "instructions");
    assert!(v["tests"][0]["memory"]["alloc_bytes"].is_array());
    let errs = check(&v);
    assert!(errs.is_empty(), "{errs:#?}");
    // A memory figure of the wrong type is caught.
    let mut bad = v.clone();
    bad["tests"][0]["memory"]["alloc_bytes"] = serde_json::json!("lots");
    assert!(!check(&bad).is_empty());
}

#[test]
fn the_validator_catches_violations() {
    // A validator that accepts everything would make the tests above meaningless.
    let mut v = sample_run();
    v.as_object_mut().unwrap().remove("machine");
    v["schema_version"] = Value::from(2);
    v["tests"][0]["summary"]
        .as_object_mut()
        .unwrap()
        .remove("p95");
    v["tests"][1]["unit"] = Value::from("furlongs");
    let errs = check(&v);
    let all = errs.join("\n");
    assert!(all.contains("$: missing required field machine"), "{all}");
    assert!(all.contains("$.schema_version: expected 1"), "{all}");
    assert!(
        all.contains("$.tests[0].summary: missing required field p95"),
        "{all}"
    );
    assert!(all.contains("$.tests[1].unit"), "{all}");
}
