//! Build one disk from the command line: `quick TYPE OS LAYOUT TABLE FORMAT FILES PKGS OUT`.
use guestctl_mockdisk::*;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let d = MockDiskBuilder::new()
        .disk_type(a[1].parse()?)
        .os_type(a[2].as_str())
        .layout(a[3].parse()?)
        .partition_table(a[4].parse()?)
        .format(a[5].parse()?)
        .num_files(a[6].parse()?)
        .num_packages(a[7].parse()?)
        .on_progress({
            let t = std::time::Instant::now();
            move |s| eprintln!("{:7.3} {s}", t.elapsed().as_secs_f64())
        })
        .build(&a[8])?;
    eprintln!("{:.3} s", d.manifest().generation_seconds);
    Ok(())
}
