//! Writes one guest's file tree into a directory for manual inspection, and
//! prints its ground truth as JSON:
//!
//! ```text
//! cargo run -p guestctl-mockdisk --example dump_guest -- /empty/dir fedora
//! ```

use guestctl_mockdisk::guest::{populate, FstabLine, GuestSpec};
use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(os)) = (args.next(), args.next()) else {
        return Err("usage: dump_guest EMPTY_DIR OS_TYPE".into());
    };
    let spec = GuestSpec {
        os: os.parse()?,
        hostname: "test-vm".into(),
        num_files: 20,
        num_packages: 50,
        seed: 1,
        fstab: vec![FstabLine {
            spec: "UUID=0b7c6a2e-55d1-4b8e-9a43-6f1d2c3b4a59".into(),
            mountpoint: "/".into(),
            fs_type: "ext4".into(),
            options: "defaults".into(),
            pass: 1,
        }],
    };
    let content = populate(&PathBuf::from(dir), &spec)?;
    println!("{}", serde_json::to_string_pretty(&content)?);
    Ok(())
}
