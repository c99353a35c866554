//! Times the phases of an inspection-cache hit (`Cache::key`, `Cache::get`, the
//! whole `Cache::lookup`, dropping the result), for profiling the cache.
//!
//! ```text
//! guestctl mock-disk create -t small small.img
//! GUESTCTL_CACHE_DIR=cache guestctl inspect small.img
//! cargo run --release -p guestctl-inspect --example cache_lookup -- small.img cache 2000
//! ```
//! Also a driver for `valgrind --tool=callgrind` or `perf stat`
//! (`... small.img cache 1000 lookup` runs only whole lookups).

use guestctl_inspect::Cache;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const OPTIONS: &str = "packages=true,allow_backing=false";

fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [image, dir, rest @ ..] = args.as_slice() else {
        return Err("usage: cache_lookup IMAGE CACHE_DIR [ITERATIONS] [lookup]".into());
    };
    let n: usize = rest
        .first()
        .map_or(Ok(1000), |s| s.parse())
        .map_err(|e| format!("{e}"))?;
    let only_lookup = rest.get(1).is_some_and(|s| s == "lookup");
    let image = PathBuf::from(image);
    let cache = Cache::new(dir);
    if cache.lookup(&image, OPTIONS).is_none() {
        return Err("the cache misses: fill it with `guestctl inspect` first".into());
    }
    if only_lookup {
        for _ in 0..n {
            std::hint::black_box(cache.lookup(&image, OPTIONS));
        }
        return Ok(());
    }
    // The entry's body, to time its decoding alone.
    let entry = std::fs::read_dir(cache.dir())
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "entry"))
        .ok_or("no entry")?;
    let data = std::fs::read(&entry).map_err(|e| e.to_string())?;
    let nl = data
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("no header line")?;
    let body = data.get(nl + 1..).ok_or("no body")?;
    let (mut tk, mut tg, mut tl, mut td, mut tp, mut tr) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let t = Instant::now();
        let key = Cache::key(&image, OPTIONS).map_err(|e| e.to_string())?;
        tk.push(t.elapsed());
        let t = Instant::now();
        let hit = std::hint::black_box(cache.get(&key));
        tg.push(t.elapsed());
        drop(hit);
        let t = Instant::now();
        let hit = std::hint::black_box(cache.lookup(&image, OPTIONS));
        tl.push(t.elapsed());
        let t = Instant::now();
        drop(hit);
        td.push(t.elapsed());
        let t = Instant::now();
        let ins: Option<guestctl_inspect::Inspection> = postcard::from_bytes(body).ok();
        tp.push(t.elapsed());
        drop(std::hint::black_box(ins));
        let t = Instant::now();
        let bytes = std::fs::read(&entry).map_err(|e| e.to_string())?;
        tr.push(t.elapsed());
        drop(std::hint::black_box(bytes));
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "median of {n}: key {:.1} µs, get {:.1} µs, lookup {:.1} µs, drop {:.1} µs, \
         decode {:.1} µs, fs::read(entry) {:.1} µs",
        us(median(&mut tk)),
        us(median(&mut tg)),
        us(median(&mut tl)),
        us(median(&mut td)),
        us(median(&mut tp)),
        us(median(&mut tr))
    );
    Ok(())
}
