//! The private, immutable copy a library is loaded from, so that replacing
//! or truncating the file in the plugins folder later cannot crash the host
//! (`dlopen` maps the file; a file changed under a mapping faults).
//!
//! On Linux the copy is a sealed `memfd` (no file system, cannot be written,
//! grown or shrunk once sealed); elsewhere a read-only file in a fresh
//! folder only this user can enter (0700). The copy is written from the
//! vetted bytes and sealed before anything opens it, so it holds exactly
//! them — as far as the loader reads: an ELF file's section headers, symbol
//! tables and debug information after its last loaded segment are vetted
//! but not copied (see [`Vetted::loaded_bytes`](crate::vet::Vetted)).
//!
//! No descriptor stays open once the library is mapped (a mapping keeps its
//! pages alive by itself). The loader remembers libraries by the path they
//! were opened under and returns the old library for a path it has seen, so
//! every copy is opened under a path never used before in this process: a
//! memfd through a symbolic link `<n>-<name>` to `/proc/self/fd/N` in the
//! host's own 0700 folder ([`Links`], made once per host; the descriptor
//! number `N` is reused as soon as it is closed, the link's name never is),
//! removed after `dlopen`. Only when no such folder can be made is the
//! memfd opened as `/proc/self/fd/N` and then kept open for the life of the
//! process. (A backtrace therefore cannot read a plugin's symbols from its
//! file.)
//!
//! This is one of the modules with `unsafe` (the `memfd` system calls).
//!
//! # Platform-specific behaviour
//!
//! On Windows the folder is `%TEMP%\plugboard-copy-XXXXXX` (the user's own
//! temporary folder, which other users cannot enter). The copy is read-only
//! and held open without write or delete sharing from its creation until it
//! is loaded, so nothing else writes or removes it in between; then the
//! host tries to remove it, which fails while the DLL is loaded (on Windows
//! as under Wine), so the copy usually stays until the process ends. The
//! first copy a process makes therefore first removes the copies of hosts
//! that have exited: a copy still loaded by a running host cannot be
//! deleted, and one still being made is held open. A PE file is copied
//! whole (the loader reads its headers and sections wherever they are).

#[cfg(target_os = "linux")]
use std::sync::{Arc, OnceLock};
use std::{
    fs::File,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

/// A private copy, alive until [`loaded`](PrivateCopy::loaded).
pub(crate) struct PrivateCopy {
    path: PathBuf,
    /// Keeps the memfd open, or the file and its folder in place.
    _keep: Keep,
}

// The fields are never read: holding them keeps the copy alive.
#[allow(dead_code)]
enum Keep {
    /// A memfd, opened through a link in the host's private folder.
    #[cfg(target_os = "linux")]
    Linked { memfd: File, link: Link },
    /// A memfd opened as `/proc/self/fd/N`: once mapped, kept open for
    /// good, or the next copy given descriptor `N` would load as this one.
    Memfd(File),
    /// A read-only file in a private folder.
    Dir(tempfile::TempDir),
    /// Someone else keeps it.
    Borrowed,
    /// Windows: the copy, open without write or delete sharing so that
    /// nothing changes or removes it before it is loaded, and its folder
    /// (fields drop in order: the handle closes before the folder goes).
    #[cfg(windows)]
    Held {
        file: File,
        folder: tempfile::TempDir,
    },
}

impl PrivateCopy {
    /// The path to `dlopen`.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The sealed memfd holding the copy, if it is one (what the runner of
    /// an isolated plugin inherits).
    #[cfg(unix)]
    pub(crate) fn descriptor(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        match &self._keep {
            #[cfg(target_os = "linux")]
            Keep::Linked { memfd: file, .. } => Some(file.as_fd()),
            Keep::Memfd(file) => Some(file.as_fd()),
            Keep::Dir(_) | Keep::Borrowed => None,
        }
    }

    /// The copy a runner of an isolated plugin was handed by its host: the
    /// sealed memfd it inherited as `file` (the runner loads one library,
    /// so it may keep the descriptor).
    #[cfg(target_os = "linux")]
    pub(crate) fn inherited(file: File) -> Self {
        use std::os::fd::AsRawFd;
        Self {
            path: PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd())),
            _keep: Keep::Memfd(file),
        }
    }

    /// The copy a runner of an isolated plugin was handed by its host: a
    /// private file the host keeps (and removes).
    pub(crate) fn borrowed(path: PathBuf) -> Self {
        Self {
            path,
            _keep: Keep::Borrowed,
        }
    }

    /// Call it once `dlopen` has run, with whether it mapped the library:
    /// closes the memfd and removes the link or the file with its folder
    /// (where the platform lets a mapped file go; Windows keeps a loaded DLL,
    /// which a later host removes). Only a mapped memfd without a link stays
    /// open (see the module docs).
    pub(crate) fn loaded(self, mapped: bool) {
        match self._keep {
            Keep::Memfd(file) if mapped => std::mem::forget(file),
            keep => drop(keep),
        }
    }
}

/// A link to a memfd in the host's private folder, removed when dropped
/// (the folder goes with the host and its last copy).
#[cfg(target_os = "linux")]
struct Link {
    path: PathBuf,
    _folder: Arc<tempfile::TempDir>,
}

#[cfg(target_os = "linux")]
impl Drop for Link {
    fn drop(&mut self) {
        // A link left behind (removing it failed) names a descriptor number
        // of this process only, and goes with the folder.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The host's private folder for the links copies are opened through: made
/// at the first copy, removed with the host (each link goes once `dlopen`
/// has returned). `None` when it could not be made (the copies are then
/// opened as `/proc/self/fd/N`). Other platforms need no links: there it
/// holds nothing.
#[derive(Default)]
pub(crate) struct Links(#[cfg(target_os = "linux")] OnceLock<Option<Arc<tempfile::TempDir>>>);

#[cfg(target_os = "linux")]
impl Links {
    fn folder(&self) -> Option<&Arc<tempfile::TempDir>> {
        self.0
            .get_or_init(|| match private_folder() {
                Ok(folder) => Some(Arc::new(folder)),
                Err(e) => {
                    log::debug!(
                        "no folder for links to private copies ({e}): their descriptors stay open"
                    );
                    None
                }
            })
            .as_ref()
    }
}

/// A name no copy of this process has had before: `<n>-<name>`, with
/// anything but ASCII letters, digits, `.`, `-` and `_` replaced by `_` (it
/// appears in the loader's messages).
fn unique_name(name: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{n}-{plain}")
}

/// A new folder only this user can enter.
#[cfg(not(windows))]
fn private_folder() -> io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("plugboard-").tempdir()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

/// Makes a private copy of `bytes` (named after `name` for diagnostics),
/// linked from the host's folder `links` where the platform needs a link.
pub(crate) fn make(bytes: &[u8], name: &str, links: &Links) -> io::Result<PrivateCopy> {
    make_copy(bytes, name, links)
}

#[cfg(target_os = "linux")]
fn make_copy(bytes: &[u8], name: &str, links: &Links) -> io::Result<PrivateCopy> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    let label: Vec<u8> = format!("plugboard:{name}")
        .bytes()
        .filter(|b| *b != 0)
        .chain(std::iter::once(0))
        .collect();
    // SAFETY: `label` is a NUL-terminated byte string that outlives the call;
    // memfd_create has no other preconditions.
    let fd = unsafe {
        libc::memfd_create(
            label.as_ptr().cast(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        )
    };
    if fd < 0 {
        return make_copy_in_private_dir(bytes, name);
    }
    // SAFETY: `fd` is a freshly created descriptor that nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut file = File::from(owned);
    file.write_all(bytes)?;
    let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE | libc::F_SEAL_SEAL;
    // SAFETY: `file` owns a valid memfd created with MFD_ALLOW_SEALING, and
    // F_ADD_SEALS takes an int argument.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let fd_path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    let Some(folder) = links.folder() else {
        return Ok(PrivateCopy {
            path: fd_path,
            _keep: Keep::Memfd(file),
        });
    };
    let link = folder.path().join(unique_name(name));
    if let Err(e) = std::os::unix::fs::symlink(&fd_path, &link) {
        log::debug!("no link to the private copy ({e}): its descriptor stays open");
        return Ok(PrivateCopy {
            path: fd_path,
            _keep: Keep::Memfd(file),
        });
    }
    Ok(PrivateCopy {
        path: link.clone(),
        _keep: Keep::Linked {
            memfd: file,
            link: Link {
                path: link,
                _folder: Arc::clone(folder),
            },
        },
    })
}

#[cfg(not(any(target_os = "linux", windows)))]
fn make_copy(bytes: &[u8], name: &str, _links: &Links) -> io::Result<PrivateCopy> {
    make_copy_in_private_dir(bytes, name)
}
/// The start of the name of a Windows copy's folder in `%TEMP%`.
#[cfg(windows)]
const COPY_PREFIX: &str = "plugboard-copy-";

#[cfg(windows)]
fn make_copy(bytes: &[u8], name: &str, _links: &Links) -> io::Result<PrivateCopy> {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::{FILE_SHARE_READ, FILE_SHARE_WRITE};

    static CLEAN_UP: std::sync::Once = std::sync::Once::new();
    CLEAN_UP.call_once(|| remove_stale_copies(&std::env::temp_dir()));

    let folder = tempfile::Builder::new().prefix(COPY_PREFIX).tempdir()?;
    let path = folder.path().join(unique_name(name));
    // Share modes keep the copy from being deleted (another host's clean-up)
    // or written by anyone else from its creation until it is loaded: the
    // writing handle shares reading only; a reading handle bridges to the
    // last one, which shares reading only too and stays open until the copy
    // is loaded (the loader opens it for reading, which it allows).
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .share_mode(FILE_SHARE_READ)
        .open(&path)?;
    let bridge = std::fs::OpenOptions::new()
        .read(true)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
        .open(&path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    let mut permissions = file.metadata()?.permissions();
    permissions.set_readonly(true);
    file.set_permissions(permissions)?;
    drop(file);
    let held = std::fs::OpenOptions::new()
        .read(true)
        .share_mode(FILE_SHARE_READ)
        .open(&path)?;
    drop(bridge);
    Ok(PrivateCopy {
        path,
        _keep: Keep::Held { file: held, folder },
    })
}

/// Removes the private copies that hosts which have exited left in `temp`
/// (Windows keeps a loaded DLL until its process ends). A copy a running
/// host has loaded cannot be deleted, one being made is held open without
/// delete sharing, and a folder with no file yet is left alone: only the
/// copies of processes that are gone disappear.
#[cfg(windows)]
fn remove_stale_copies(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let is_copy_folder = entry.file_name().to_string_lossy().starts_with(COPY_PREFIX)
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_copy_folder {
            continue;
        }
        let Ok(files) = std::fs::read_dir(entry.path()) else {
            continue;
        };
        let mut has_files = false;
        for file in files.flatten() {
            has_files = true;
            remove_read_only(&file.path());
        }
        if has_files && std::fs::remove_dir(entry.path()).is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        log::debug!(
            "removed {removed} private copies left in {} by hosts that have exited",
            crate::display::path(temp)
        );
    }
}

/// Removes a copy the host made read-only; a copy still in use stays, and
/// stays read-only.
#[cfg(windows)]
fn remove_read_only(path: &Path) {
    if std::fs::remove_file(path).is_ok() {
        return;
    }
    // Not every Windows (nor Wine) deletes a read-only file.
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let mut permissions = meta.permissions();
    if !permissions.readonly() {
        return;
    }
    permissions.set_readonly(false);
    if std::fs::set_permissions(path, permissions.clone()).is_ok()
        && std::fs::remove_file(path).is_err()
    {
        permissions.set_readonly(true);
        let _ = std::fs::set_permissions(path, permissions);
    }
}

/// A read-only copy in a new folder only this user can enter.
#[cfg(not(windows))]
fn make_copy_in_private_dir(bytes: &[u8], name: &str) -> io::Result<PrivateCopy> {
    let dir = private_folder()?;
    let path = dir.path().join(unique_name(name));
    let mut file = File::create(&path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    let mut permissions = file.metadata()?.permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&path, permissions)?;
    Ok(PrivateCopy {
        path,
        _keep: Keep::Dir(dir),
    })
}
