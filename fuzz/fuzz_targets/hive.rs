//! Registry hive: open, walk every key (bounded: at most 20,000 keys visited, so
//! a DAG of shared subkey lists cannot blow up), read every value, and open a
//! few well-known paths. Errors are fine; panics, hangs and OOM are bugs.
#![no_main]

use guestctl_hive::Hive;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(h) = Hive::new(data) else { return };
    let _ = h.open_key("Microsoft\\Windows NT\\CurrentVersion");
    let _ = h.open_key("Select");
    let Ok(root) = h.root_key() else { return };
    let mut stack = vec![root];
    let mut visited = 0usize;
    while let Some(k) = stack.pop() {
        visited += 1;
        if visited > 20_000 {
            break;
        }
        if let Ok(values) = k.values() {
            for v in values {
                let _ = v.data.as_str();
                let _ = k.value(&v.name);
            }
        }
        if let Ok(subs) = k.subkeys() {
            if stack.len() + subs.len() <= 20_000 {
                stack.extend(subs);
            }
        }
    }
});
