//! virt-inspector's XML (`guestctl inspect --xml`): the same elements, in the same
//! order, with the same attributes and values, indented by two spaces as
//! libxml2's text writer indents it, so that a consumer of virt-inspector's
//! output reads guestctl's unchanged. Where guestctl's JSON holds a value in
//! another form, the XML gives virt-inspector's:
//!
//! - elements whose value is unknown are left out, not empty; `epoch` only when
//!   not 0; `<applications/>` is always there (empty with `--no-packages`);
//! - mountpoints by mountpoint length, then name; filesystems by device name;
//! - apk: the release without its `r` (`2`, not `r2`), and apk's `T:` and
//!   pacman's `%DESC%` as `<description>` (virt-inspector has no summary for
//!   them).
//!
//! The differences that remain are listed in `docs/inspect-json.md`.

use crate::types::{Application, FilesystemInfo, Inspection, OperatingSystem};
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use std::io;

type W = Writer<Vec<u8>>;

/// The inspection as virt-inspector's XML document (UTF-8, ending in a newline).
pub fn to_xml(ins: &Inspection) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = write_document(&mut w, ins);
    let mut out = String::from_utf8_lossy(&w.into_inner()).into_owned();
    out.push('\n');
    out
}

fn write_document(w: &mut W, ins: &Inspection) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", None, None)))?;
    if ins.operatingsystems.is_empty() {
        w.create_element("operatingsystems").write_empty()?;
        return Ok(());
    }
    w.create_element("operatingsystems")
        .write_inner_content(|w| {
            for os in &ins.operatingsystems {
                write_os(w, os)?;
            }
            Ok(())
        })?;
    Ok(())
}

/// Text as libxml2 writes it: `<`, `>` and `&` escaped, and a carriage return
/// as a character reference (so it survives parsing).
fn text(s: &str) -> BytesText<'static> {
    let escaped = partial_escape(s).replace('\r', "&#13;");
    BytesText::from_escaped(escaped)
}

fn single(w: &mut W, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name).write_text_content(text(value))?;
    Ok(())
}

fn optional(w: &mut W, name: &str, value: Option<&str>) -> io::Result<()> {
    match value {
        Some(v) if !v.is_empty() => single(w, name, v),
        _ => Ok(()),
    }
}

fn write_os(w: &mut W, os: &OperatingSystem) -> io::Result<()> {
    w.create_element("operatingsystem")
        .write_inner_content(|w| {
            single(w, "root", &os.root)?;
            single(w, "name", &os.name)?;
            optional(w, "arch", os.arch.as_deref())?;
            optional(w, "distro", os.distro.as_deref())?;
            optional(w, "product_name", os.product_name.as_deref())?;
            optional(w, "product_variant", os.product_variant.as_deref())?;
            single(w, "major_version", &os.major_version.to_string())?;
            single(w, "minor_version", &os.minor_version.to_string())?;
            optional(w, "package_format", os.package_format.as_deref())?;
            optional(w, "package_management", os.package_management.as_deref())?;
            optional(w, "windows_systemroot", os.windows_systemroot.as_deref())?;
            optional(
                w,
                "windows_current_control_set",
                os.windows_current_control_set.as_deref(),
            )?;
            optional(w, "hostname", os.hostname.as_deref())?;
            optional(
                w,
                "osinfo",
                os.osinfo.as_deref().filter(|o| *o != "unknown"),
            )?;
            write_mountpoints(w, os)?;
            write_filesystems(w, os)?;
            write_drive_mappings(w, os)?;
            write_applications(w, os)
        })?;
    Ok(())
}

fn write_mountpoints(w: &mut W, os: &OperatingSystem) -> io::Result<()> {
    let mut mps: Vec<_> = os.mountpoints.iter().collect();
    mps.sort_by(|a, b| {
        (a.mountpoint.len(), &a.mountpoint).cmp(&(b.mountpoint.len(), &b.mountpoint))
    });
    w.create_element("mountpoints").write_inner_content(|w| {
        for m in mps {
            w.create_element("mountpoint")
                .with_attribute(("dev", m.device.as_str()))
                .write_text_content(text(&m.mountpoint))?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_filesystems(w: &mut W, os: &OperatingSystem) -> io::Result<()> {
    let mut fss: Vec<&FilesystemInfo> = os.filesystems.iter().collect();
    fss.sort_by(|a, b| a.device.cmp(&b.device));
    fss.dedup_by(|a, b| a.device == b.device);
    w.create_element("filesystems").write_inner_content(|w| {
        for f in fss {
            let fs_type = Some(f.fs_type.as_str()).filter(|t| *t != "unknown");
            let el = w
                .create_element("filesystem")
                .with_attribute(("dev", f.device.as_str()));
            if fs_type.is_none() && f.label.is_none() && f.uuid.is_none() {
                // libxml2 closes an element without content as `<x/>`.
                el.write_empty()?;
                continue;
            }
            el.write_inner_content(|w| {
                optional(w, "type", fs_type)?;
                optional(w, "label", f.label.as_deref())?;
                optional(w, "uuid", f.uuid.as_deref())
            })?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_drive_mappings(w: &mut W, os: &OperatingSystem) -> io::Result<()> {
    if os.drive_mappings.is_empty() {
        return Ok(());
    }
    let mut maps: Vec<_> = os.drive_mappings.iter().collect();
    maps.sort_by_key(|m| m.name.to_ascii_lowercase());
    w.create_element("drive_mappings")
        .write_inner_content(|w| {
            for m in maps {
                w.create_element("drive_mapping")
                    .with_attribute(("name", m.name.as_str()))
                    .write_text_content(text(&m.device))?;
            }
            Ok(())
        })?;
    Ok(())
}

fn write_applications(w: &mut W, os: &OperatingSystem) -> io::Result<()> {
    if os.applications.is_empty() {
        w.create_element("applications").write_empty()?;
        return Ok(());
    }
    let format = os.package_format.as_deref();
    w.create_element("applications").write_inner_content(|w| {
        for app in &os.applications {
            write_application(w, format, app)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_application(w: &mut W, format: Option<&str>, app: &Application) -> io::Result<()> {
    let one_line_is_description = matches!(format, Some("apk" | "pacman"));
    let release = match format {
        Some("apk") => app.release.strip_prefix('r').unwrap_or(&app.release),
        _ => app.release.as_str(),
    };
    let (summary, description) = if one_line_is_description {
        (None, app.summary.as_deref())
    } else {
        (app.summary.as_deref(), app.description.as_deref())
    };
    w.create_element("application").write_inner_content(|w| {
        single(w, "name", &app.name)?;
        optional(w, "display_name", app.display_name.as_deref())?;
        if app.epoch != 0 {
            single(w, "epoch", &app.epoch.to_string())?;
        }
        optional(w, "version", Some(app.version.as_str()))?;
        optional(w, "release", Some(release))?;
        optional(w, "arch", Some(app.arch.as_str()))?;
        optional(w, "install_path", app.install_path.as_deref())?;
        optional(w, "publisher", app.publisher.as_deref())?;
        optional(w, "url", app.url.as_deref())?;
        optional(w, "source_package", app.source_package.as_deref())?;
        optional(w, "summary", summary)?;
        optional(w, "description", description)
    })?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::types::{DriveMapping, Mountpoint, SCHEMA_VERSION};

    fn fs(device: &str, fs_type: &str, uuid: Option<&str>, label: Option<&str>) -> FilesystemInfo {
        FilesystemInfo {
            device: device.into(),
            fs_type: fs_type.into(),
            uuid: uuid.map(Into::into),
            label: label.map(Into::into),
            size: 1,
        }
    }

    fn os(name: &str, format: Option<&str>) -> OperatingSystem {
        OperatingSystem {
            root: "/dev/sda2".into(),
            name: name.into(),
            distro: Some("alpinelinux".into()),
            osinfo: Some("alpinelinux3.20".into()),
            product_name: Some("Alpine Linux v3.20".into()),
            product_variant: None,
            major_version: 3,
            minor_version: 20,
            build_id: None,
            arch: Some("x86_64".into()),
            hostname: Some("a<b&c".into()),
            package_format: format.map(Into::into),
            package_management: Some("apk".into()),
            windows_systemroot: None,
            windows_current_control_set: None,
            drive_mappings: Vec::new(),
            mountpoints: vec![
                Mountpoint {
                    mountpoint: "/boot".into(),
                    device: "/dev/sda1".into(),
                },
                Mountpoint {
                    mountpoint: "/".into(),
                    device: "/dev/sda2".into(),
                },
                Mountpoint {
                    mountpoint: "/usr".into(),
                    device: "/dev/sda3".into(),
                },
            ],
            filesystems: vec![
                fs("/dev/sda2", "ext4", Some("u-2"), None),
                fs("/dev/sda1", "vfat", Some("AB-CD"), Some("EFI")),
                fs("/dev/sda4", "unknown", None, None),
            ],
            applications: vec![Application {
                name: "musl".into(),
                epoch: 0,
                version: "1.2.5".into(),
                release: "r0".into(),
                arch: "x86_64".into(),
                url: Some("https://musl.libc.org/".into()),
                source_package: Some("musl".into()),
                summary: Some("the musl c library".into()),
                ..Application::default()
            }],
        }
    }

    fn doc(oses: Vec<OperatingSystem>) -> String {
        to_xml(&Inspection {
            schema_version: SCHEMA_VERSION,
            image: "x.img".into(),
            format: "raw".into(),
            size: 1,
            partition_table: "gpt".into(),
            filesystems: Vec::new(),
            operatingsystems: oses,
            diagnostics: Vec::new(),
        })
    }

    #[test]
    fn golden_linux() {
        let want = r#"<?xml version="1.0"?>
<operatingsystems>
  <operatingsystem>
    <root>/dev/sda2</root>
    <name>linux</name>
    <arch>x86_64</arch>
    <distro>alpinelinux</distro>
    <product_name>Alpine Linux v3.20</product_name>
    <major_version>3</major_version>
    <minor_version>20</minor_version>
    <package_format>apk</package_format>
    <package_management>apk</package_management>
    <hostname>a&lt;b&amp;c</hostname>
    <osinfo>alpinelinux3.20</osinfo>
    <mountpoints>
      <mountpoint dev="/dev/sda2">/</mountpoint>
      <mountpoint dev="/dev/sda3">/usr</mountpoint>
      <mountpoint dev="/dev/sda1">/boot</mountpoint>
    </mountpoints>
    <filesystems>
      <filesystem dev="/dev/sda1">
        <type>vfat</type>
        <label>EFI</label>
        <uuid>AB-CD</uuid>
      </filesystem>
      <filesystem dev="/dev/sda2">
        <type>ext4</type>
        <uuid>u-2</uuid>
      </filesystem>
      <filesystem dev="/dev/sda4"/>
    </filesystems>
    <applications>
      <application>
        <name>musl</name>
        <version>1.2.5</version>
        <release>0</release>
        <arch>x86_64</arch>
        <url>https://musl.libc.org/</url>
        <source_package>musl</source_package>
        <description>the musl c library</description>
      </application>
    </applications>
  </operatingsystem>
</operatingsystems>
"#;
        assert_eq!(doc(vec![os("linux", Some("apk"))]), want);
    }

    #[test]
    fn windows_elements_and_empty_applications() {
        let mut w = os("windows", None);
        w.distro = Some("windows".into());
        w.osinfo = Some("unknown".into());
        w.hostname = None;
        w.windows_systemroot = Some("/Windows".into());
        w.windows_current_control_set = Some("ControlSet001".into());
        w.drive_mappings = vec![
            DriveMapping {
                name: "E".into(),
                device: "/dev/sda3".into(),
            },
            DriveMapping {
                name: "C".into(),
                device: "/dev/sda2".into(),
            },
        ];
        w.applications.clear();
        let xml = doc(vec![w]);
        assert!(
            xml.contains(
                "    <windows_systemroot>/Windows</windows_systemroot>\n    \
             <windows_current_control_set>ControlSet001</windows_current_control_set>\n    \
             <mountpoints>"
            ),
            "{xml}"
        );
        assert!(xml.contains(
            "    <drive_mappings>\n      <drive_mapping name=\"C\">/dev/sda2</drive_mapping>\n      \
             <drive_mapping name=\"E\">/dev/sda3</drive_mapping>\n    </drive_mappings>\n    \
             <applications/>\n  </operatingsystem>"
        ), "{xml}");
        assert!(
            !xml.contains("<osinfo>") && !xml.contains("<hostname>"),
            "{xml}"
        );
    }

    #[test]
    fn no_operating_system() {
        assert_eq!(
            doc(vec![]),
            "<?xml version=\"1.0\"?>\n<operatingsystems/>\n"
        );
    }

    #[test]
    fn deb_keeps_summary_and_release() {
        let mut d = os("linux", Some("deb"));
        d.applications[0].release = "r1ubuntu2".into();
        d.applications[0].epoch = 1;
        d.applications[0].description = Some("line one\n.\nline\r three".into());
        let xml = doc(vec![d]);
        assert!(xml.contains("<epoch>1</epoch>\n        <version>1.2.5</version>\n        <release>r1ubuntu2</release>"), "{xml}");
        assert!(xml.contains("<summary>the musl c library</summary>\n        <description>line one\n.\nline&#13; three</description>"), "{xml}");
    }
}
