//! OpenSSH's StrictModes for plugins: neither the file nor its folder may
//! be written by group or others, and both belong to this user or root.

use std::{fs, path::Path};

use crate::{LoadError, LoadErrorKind};

#[cfg(unix)]
pub(super) fn check_permissions(path: &Path, meta: &fs::Metadata) -> Result<(), LoadError> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let insecure = |what: &Path, m: &fs::Metadata, kind: &'static str| {
        let mode = m.mode() & 0o7777;
        let writable_by_others = mode & 0o022 != 0;
        let owner_ok = m.uid() == me || m.uid() == 0;
        (writable_by_others || !owner_ok).then(|| {
            LoadError::new(
                path,
                LoadErrorKind::InsecurePermissions {
                    what: format!("{kind} {}", crate::display::path(what)),
                    mode,
                    owner: m.uid(),
                },
            )
        })
    };
    if let Some(e) = insecure(path, meta, "file") {
        return Err(e);
    }
    let unreadable = |cause| LoadError::new(path, LoadErrorKind::Unreadable { cause });
    let real = fs::canonicalize(path).map_err(unreadable)?;
    if let Some(dir) = real.parent() {
        let dir_meta = fs::metadata(dir).map_err(unreadable)?;
        if let Some(e) = insecure(dir, &dir_meta, "folder") {
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub(super) fn check_permissions(_path: &Path, _meta: &fs::Metadata) -> Result<(), LoadError> {
    Ok(())
}
