//! Windows applications: the subkeys of the SOFTWARE hive's `Uninstall` keys,
//! native (`Microsoft\Windows\CurrentVersion\Uninstall`) and 32-bit on 64-bit
//! (`WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall`), as
//! virt-inspector lists them: every subkey with a `DisplayName`.

use crate::types::Application;
use guestctl_hive::{Hive, HiveError, Key};

/// The Uninstall keys read, native first.
pub const UNINSTALL_KEYS: &[&str] = &[
    "Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
];

/// The applications of a SOFTWARE hive's bytes, sorted by name (the subkey's
/// name: display names depend on the language).
pub fn software_applications(bytes: &[u8]) -> Result<Vec<Application>, HiveError> {
    let hive = Hive::new(bytes)?;
    let mut apps = Vec::new();
    for path in UNINSTALL_KEYS {
        let Some(key) = hive.open_key(path)? else {
            continue;
        };
        for sub in key.subkeys()? {
            if let Some(app) = application(&sub)? {
                apps.push(app);
            }
        }
    }
    apps.sort();
    Ok(apps)
}

fn application(key: &Key<'_>) -> Result<Option<Application>, HiveError> {
    let text = |name: &str| -> Result<Option<String>, HiveError> {
        Ok(key
            .value(name)?
            .and_then(|v| v.as_str().map(|s| s.trim_end_matches('\0').to_string()))
            .filter(|s| !s.is_empty()))
    };
    let Some(display_name) = text("DisplayName")? else {
        return Ok(None);
    };
    Ok(Some(Application {
        name: key.name().to_string(),
        display_name: Some(display_name),
        version: text("DisplayVersion")?.unwrap_or_default(),
        install_path: text("InstallLocation")?,
        publisher: text("Publisher")?,
        url: text("URLInfoAbout")?,
        description: text("Comments")?,
        ..Application::default()
    }))
}
