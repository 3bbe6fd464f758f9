//! Other processes as the isolation tests watch them: whether one is gone,
//! and waiting for one to end without polling; and whether these tests run
//! under Wine.

/// Whether process `pid` is gone (on Linux, a zombie nobody has reaped yet
/// counts as gone).
pub fn process_gone(pid: u32) -> bool {
    #[cfg(unix)]
    {
        // SAFETY: kill with signal 0 only checks that the process exists.
        let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
        !alive
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
    }
    #[cfg(windows)]
    {
        ProcessWatch::new(pid).is_none_or(|watch| watch.ended_within(std::time::Duration::ZERO))
    }
}

/// A process to wait for: a pidfd on Linux, a process handle on Windows.
pub struct ProcessWatch {
    #[cfg(target_os = "linux")]
    pidfd: std::os::fd::OwnedFd,
    #[cfg(windows)]
    handle: std::os::windows::io::OwnedHandle,
}

impl ProcessWatch {
    /// Watches process `pid`; `None` if it is already gone.
    #[cfg(any(target_os = "linux", windows))]
    pub fn new(pid: u32) -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::FromRawFd;
            // SAFETY: pidfd_open takes a pid and flags; it returns a new
            // descriptor or -1.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
            (fd >= 0).then(|| Self {
                // SAFETY: a new descriptor this process owns.
                pidfd: unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) },
            })
        }
        #[cfg(windows)]
        {
            use std::os::windows::io::FromRawHandle;
            use windows_sys::Win32::System::Threading::{OpenProcess, PROCESS_SYNCHRONIZE};
            // SAFETY: opens a handle to wait on the process; no pointers.
            let handle = unsafe { OpenProcess(PROCESS_SYNCHRONIZE, 0, pid) };
            (!handle.is_null()).then(|| Self {
                // SAFETY: a new handle this process owns.
                handle: unsafe { std::os::windows::io::OwnedHandle::from_raw_handle(handle) },
            })
        }
    }

    /// Whether the process ends within `limit` (which only bounds a
    /// failing test: the wait returns as soon as it ends).
    #[cfg(any(target_os = "linux", windows))]
    pub fn ended_within(&self, limit: std::time::Duration) -> bool {
        let millis = i32::try_from(limit.as_millis()).unwrap_or(i32::MAX);
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let mut poll = libc::pollfd {
                fd: self.pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut poll, 1, millis) == 1 }
        }
        #[cfg(windows)]
        {
            use std::os::windows::io::AsRawHandle;
            use windows_sys::Win32::{
                Foundation::WAIT_OBJECT_0, System::Threading::WaitForSingleObject,
            };
            // SAFETY: the handle is open while `self` lives.
            unsafe {
                WaitForSingleObject(self.handle.as_raw_handle(), millis as u32) == WAIT_OBJECT_0
            }
        }
    }
}

/// Whether this process runs under Wine (whose ntdll exports
/// `wine_get_version`); never on other systems.
pub fn under_wine() -> bool {
    #[cfg(windows)]
    {
        use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
        // SAFETY: NUL-terminated names; ntdll is loaded in every process.
        unsafe {
            let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
            !ntdll.is_null() && GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()).is_some()
        }
    }
    #[cfg(not(windows))]
    {
        false
    }
}
