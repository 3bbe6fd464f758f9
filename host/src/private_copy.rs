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

use std::{
    fs::File,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock,
    },
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
    Linked { memfd: File, link: Link },
    /// A memfd opened as `/proc/self/fd/N`: once mapped, kept open for
    /// good, or the next copy given descriptor `N` would load as this one.
    Memfd(File),
    /// A read-only file in a private folder.
    Dir(tempfile::TempDir),
    /// Someone else keeps it.
    Borrowed,
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
            Keep::Linked { memfd: file, .. } | Keep::Memfd(file) => Some(file.as_fd()),
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
    /// (where the platform lets a mapped file go; Windows keeps it). Only a
    /// mapped memfd without a link stays open (see the module docs).
    pub(crate) fn loaded(self, mapped: bool) {
        match self._keep {
            Keep::Memfd(file) if mapped => std::mem::forget(file),
            keep => drop(keep),
        }
    }
}

/// A link to a memfd in the host's private folder, removed when dropped
/// (the folder goes with the host and its last copy).
struct Link {
    path: PathBuf,
    _folder: Arc<tempfile::TempDir>,
}

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
/// opened as `/proc/self/fd/N`).
#[derive(Default)]
pub(crate) struct Links(OnceLock<Option<Arc<tempfile::TempDir>>>);

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

#[cfg(not(target_os = "linux"))]
fn make_copy(bytes: &[u8], name: &str, _links: &Links) -> io::Result<PrivateCopy> {
    make_copy_in_private_dir(bytes, name)
}

/// A read-only copy in a new folder only this user can enter.
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
