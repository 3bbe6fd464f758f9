//! OpenSSH's StrictModes for plugins: neither the file nor its folder may
//! be written by group or others, and both belong to this user or root.
//!
//! # Platform-specific behaviour
//!
//! On Windows, neither may be written by Everyone, Authenticated Users or
//! BUILTIN\Users according to its access control list (see `acl.rs`); the
//! owner is not checked.

use std::{fs, path::Path};

use crate::{LoadError, LoadErrorKind};

#[cfg(unix)]
pub(super) fn check_permissions(
    path: &Path,
    _file: &fs::File,
    meta: &fs::Metadata,
) -> Result<(), LoadError> {
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

/// Windows: neither the file (read from the open `file`) nor its folder may
/// be writable by Everyone, Authenticated Users or BUILTIN\Users.
#[cfg(windows)]
pub(super) fn check_permissions(
    path: &Path,
    file: &fs::File,
    _meta: &fs::Metadata,
) -> Result<(), LoadError> {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::{FILE_FLAG_BACKUP_SEMANTICS, READ_CONTROL};

    use super::acl;

    let unreadable = |cause| LoadError::new(path, LoadErrorKind::Unreadable { cause });
    let insecure = |what: &Path, kind: &str, group: acl::BroadGroup| {
        LoadError::new(
            path,
            LoadErrorKind::InsecureAcl {
                what: format!("{kind} {}", crate::display::path(what)),
                group: group.name.to_owned(),
                sid: group.sid.to_owned(),
            },
        )
    };
    if let Some(group) = acl::writable_by(file).map_err(unreadable)? {
        return Err(insecure(path, "file", group));
    }
    let real = fs::canonicalize(path).map_err(unreadable)?;
    if let Some(dir) = real.parent() {
        // Shown without the `\\?\` that canonicalize puts before a drive.
        let shown = dir
            .to_str()
            .and_then(|d| d.strip_prefix(r"\\?\"))
            .filter(|d| d.as_bytes().get(1) == Some(&b':'))
            .map_or(dir, Path::new);
        // A folder opens only with backup semantics; reading its ACL needs
        // nothing more than READ_CONTROL.
        let folder = fs::OpenOptions::new()
            .access_mode(READ_CONTROL)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
            .open(dir)
            .map_err(unreadable)?;
        if let Some(group) = acl::writable_by(&folder).map_err(unreadable)? {
            return Err(insecure(shown, "folder", group));
        }
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
pub(super) fn check_permissions(
    _path: &Path,
    _file: &fs::File,
    _meta: &fs::Metadata,
) -> Result<(), LoadError> {
    Ok(())
}
