//! The private, immutable copy a library is loaded from, so that replacing
//! or truncating the file in the plugins folder later cannot crash the host
//! (`dlopen` maps the file; a file changed under a mapping faults).
//!
//! On Linux the copy is a sealed `memfd` (no file system, cannot be written,
//! grown or shrunk once sealed); elsewhere a read-only file in a fresh
//! folder only this user can enter (0700). Either way the copy is read back
//! and compared with the vetted bytes before it is loaded.
//! This is one of the modules with `unsafe` (the `memfd` system calls).

use std::{
    fs::File,
    io::{self, Read, Seek, Write},
    path::{Path, PathBuf},
};

/// A private copy, alive until dropped (load it before dropping it).
pub(crate) struct PrivateCopy {
    path: PathBuf,
    /// Keeps the memfd open, or the file and its folder in place.
    _keep: Keep,
}

// The fields are never read: holding them keeps the copy alive.
#[allow(dead_code)]
enum Keep {
    File(File),
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
            Keep::File(file) => Some(file.as_fd()),
            Keep::Dir(_) | Keep::Borrowed => None,
        }
    }

    /// The copy a runner of an isolated plugin was handed by its host: the
    /// sealed memfd it inherited as `file`.
    #[cfg(target_os = "linux")]
    pub(crate) fn inherited(file: File) -> Self {
        use std::os::fd::AsRawFd;
        Self {
            path: PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd())),
            _keep: Keep::File(file),
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

    /// Call it once the path was given to `dlopen`. A memfd stays open for
    /// the life of the process: the loader remembers libraries by path, and a
    /// `/proc/self/fd/N` path is reused as soon as descriptor `N` is closed,
    /// so closing it would make the next copy's `dlopen` return this library.
    /// A copy in a private folder has a unique path, and is removed (where
    /// the platform lets a mapped file go; Windows keeps it).
    pub(crate) fn loaded(self) {
        match self._keep {
            Keep::File(file) => std::mem::forget(file),
            Keep::Dir(dir) => drop(dir),
            Keep::Borrowed => {}
        }
    }
}

/// Makes a private copy of `bytes` (named after `name` for diagnostics) and
/// checks that it reads back as exactly the vetted bytes.
pub(crate) fn make(bytes: &[u8], name: &str) -> io::Result<PrivateCopy> {
    let copy = make_copy(bytes, name)?;
    let mut file = File::open(&copy.path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if bytes.get(at..at + n) != Some(&buf[..n]) {
            return Err(io::Error::other(
                "the private copy does not read back as the vetted bytes",
            ));
        }
        at += n;
    }
    if at != bytes.len() {
        return Err(io::Error::other(
            "the private copy is shorter than the vetted bytes",
        ));
    }
    Ok(copy)
}

#[cfg(target_os = "linux")]
fn make_copy(bytes: &[u8], name: &str) -> io::Result<PrivateCopy> {
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
    file.rewind()?;
    let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE | libc::F_SEAL_SEAL;
    // SAFETY: `file` owns a valid memfd created with MFD_ALLOW_SEALING, and
    // F_ADD_SEALS takes an int argument.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(PrivateCopy {
        path: PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd())),
        _keep: Keep::File(file),
    })
}

#[cfg(not(target_os = "linux"))]
fn make_copy(bytes: &[u8], name: &str) -> io::Result<PrivateCopy> {
    make_copy_in_private_dir(bytes, name)
}

/// A read-only copy in a new folder only this user can enter.
fn make_copy_in_private_dir(bytes: &[u8], name: &str) -> io::Result<PrivateCopy> {
    let dir = tempfile::Builder::new().prefix("plugboard-").tempdir()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    let path = dir.path().join(name);
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
