//! Isolation on Unix: the runner inherits a socket pair and pipes at fixed
//! descriptor numbers (and, on Linux, the sealed memfd and a parent-death
//! signal). `unsafe`: the code between `fork` and `exec`, taking over
//! inherited descriptors, and the control channel's `recv`.

use std::{
    fs::File,
    io,
    os::{
        fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
        unix::{net::UnixStream, process::CommandExt},
    },
    path::Path,
    process::{Command, ExitStatus, Stdio},
    sync::{mpsc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use super::{RunnerChannels, Started, RUNNER_VARIABLE};
use crate::{isolation::wire::LibrarySource, private_copy::PrivateCopy};

/// How long a read of the control channel polls before it sleeps (with a
/// single core, not at all: the other side could not run meanwhile).
fn spin() -> Duration {
    static SPIN: OnceLock<Duration> = OnceLock::new();
    *SPIN.get_or_init(|| match std::thread::available_parallelism() {
        Ok(n) if n.get() > 1 => Duration::from_micros(50),
        _ => Duration::ZERO,
    })
}

/// The reading end of the control channel. A read first polls for up to
/// 50 µs ([`spin`]) without sleeping, then blocks as usual (with the stream's read
/// timeout). A reply to a short call arrives within microseconds, and a
/// thread that slept for it pays for being woken up: on a virtual machine,
/// waking an idle virtual CPU costs tens of microseconds, more than the call.
/// At most that much CPU time is spent per read.
pub(crate) struct Channel(pub(crate) UnixStream);

impl io::Read for Channel {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (started, spin) = (Instant::now(), spin());
        loop {
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes, which
            // is all `recv` writes; the descriptor is the stream's, open
            // while `self` lives.
            let n = unsafe {
                libc::recv(
                    self.0.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if let Ok(n) = usize::try_from(n) {
                return Ok(n);
            }
            let error = io::Error::last_os_error();
            match error.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => {}
                _ => return Err(error),
            }
            if started.elapsed() >= spin {
                return self.0.read(buf);
            }
            std::hint::spin_loop();
        }
    }
}

/// Where the runner finds its channels.
pub(crate) const CONTROL_FD: RawFd = 3;
/// The log pipe's write end.
pub(crate) const LOG_FD: RawFd = 4;
/// The read end of a pipe only the host writes to (never does): its end of
/// file means the host is gone.
pub(crate) const LIFELINE_FD: RawFd = 5;
/// The sealed memfd with the vetted bytes (Linux).
pub(crate) const LIBRARY_FD: RawFd = 6;

/// The writing end of the control channel (a clone of the reading end's
/// socket).
pub(crate) type Writer = UnixStream;

/// The host's end of a pipe only it holds: the runner reads end of file
/// when it is dropped or the host dies.
pub(crate) type Lifeline = OwnedFd;

/// A pipe: (read end, write end), both close-on-exec.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = io::pipe()?;
    Ok((OwnedFd::from(read), OwnedFd::from(write)))
}

/// Where the runner finds the vetted bytes of `copy`: the sealed memfd it
/// inherits at [`LIBRARY_FD`], or the private file's path.
pub(crate) fn library_source(copy: &PrivateCopy) -> LibrarySource {
    match copy.descriptor() {
        Some(_) => LibrarySource::Descriptor(LIBRARY_FD),
        None => LibrarySource::Path(copy.path().to_string_lossy().into_owned()),
    }
}

/// Starts `runner` with the runner's channels at the descriptors above, the
/// library's memfd (if any) at [`LIBRARY_FD`], and, on Linux, a parent-death
/// signal; under `memory_limit` bytes of address space if given. Reads of
/// the control channel time out after `call_timeout`.
///
/// The runner is started from one long-lived thread of the host, because
/// Linux sends the parent-death signal when the thread that started a
/// process ends, not the process.
pub(crate) fn start(
    runner: &Path,
    copy: &PrivateCopy,
    memory_limit: Option<u64>,
    call_timeout: Option<Duration>,
) -> io::Result<Started> {
    let library = copy.descriptor();
    let (control, child_control) = UnixStream::pair()?;
    let (logs_read, logs_write) = pipe()?;
    let (stderr_read, stderr_write) = pipe()?;
    let (lifeline_read, lifeline_write) = pipe()?;
    let library = library.map(|fd| fd.try_clone_to_owned()).transpose()?;

    let host = std::process::id();
    let mut command = Command::new(runner);
    command
        .env(
            RUNNER_VARIABLE,
            format!("{}:{host}", crate::isolation::wire::PROTOCOL),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::from(stderr_write));
    let sources: [RawFd; 4] = [
        child_control.as_raw_fd(),
        logs_write.as_raw_fd(),
        lifeline_read.as_raw_fd(),
        library.as_ref().map_or(-1, |fd| fd.as_raw_fd()),
    ];
    let limit = memory_limit.map(|bytes| bytes as libc::rlim_t);
    // SAFETY: the closure runs in the child between fork and exec and only
    // makes async-signal-safe calls (fcntl, dup2, prctl, getppid, setrlimit,
    // _exit) on descriptors that are open in the child (inherited copies of
    // the host's, kept alive until `spawn` returns).
    unsafe {
        command.pre_exec(move || {
            place_descriptors(&sources)?;
            tie_to_parent(host)?;
            if let Some(limit) = limit {
                let rlimit = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &rlimit) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let process = spawn_from_long_lived_thread(command)?;
    drop((child_control, logs_write, lifeline_read, library));
    control.set_read_timeout(call_timeout)?;
    Ok(Started {
        process,
        writer: control.try_clone()?,
        reader: Channel(control),
        logs: File::from(logs_read),
        stderr: File::from(stderr_read),
        lifeline: lifeline_write,
    })
}

/// In the child before exec: moves `sources` to descriptors 3, 4, 5, 6
/// (those not close-on-exec), whatever numbers they had.
///
/// # Safety
///
/// Only between fork and exec; `sources` are open descriptors (or -1).
unsafe fn place_descriptors(sources: &[RawFd; 4]) -> io::Result<()> {
    // First out of the way (a source may sit where another must go), then
    // into place: dup2 clears close-on-exec on the copy; the temporaries
    // keep it and close at exec.
    let mut moved = [-1; 4];
    for (slot, &fd) in moved.iter_mut().zip(sources) {
        if fd >= 0 {
            // SAFETY: `fd` is open in the child (the caller's promise).
            *slot = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10) };
            if *slot < 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    for (target, &fd) in (CONTROL_FD..).zip(&moved) {
        // SAFETY: `fd` was just duplicated; dup2 onto a fixed number is
        // the documented way to hand a descriptor to the next program.
        if fd >= 0 && unsafe { libc::dup2(fd, target) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// In the child before exec: on Linux, asks for SIGKILL when the host
/// dies, then makes sure it has not died already.
///
/// # Safety
///
/// Only between fork and exec.
#[allow(unused_unsafe)]
unsafe fn tie_to_parent(host: u32) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_PDEATHSIG takes a signal number; no pointers.
        if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: getppid has no preconditions.
    if unsafe { libc::getppid() } as u32 != host {
        // The host died before the signal was armed.
        // SAFETY: _exit ends the child at once, as fork's child should.
        unsafe { libc::_exit(1) };
    }
    Ok(())
}

/// Runs `Command::spawn` on the host's spawner thread, which lives as long
/// as the process.
fn spawn_from_long_lived_thread(mut command: Command) -> io::Result<std::process::Child> {
    type Job = Box<dyn FnOnce() + Send>;
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, queue) = mpsc::channel::<Job>();
        let started = std::thread::Builder::new()
            .name("plugboard-spawner".to_owned())
            .spawn(move || {
                for job in queue {
                    job();
                }
            });
        if let Err(e) = started {
            log::warn!(
                "cannot start the spawner thread ({e}); starting runners from the caller's thread"
            );
        }
        Mutex::new(jobs)
    });
    let (reply, result) = mpsc::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(command.spawn());
    });
    let sent = spawner.lock().unwrap_or_else(|p| p.into_inner()).send(job);
    if let Err(mpsc::SendError(job)) = sent {
        // No spawner thread (it could not be started): start it from here.
        job();
    }
    result
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("the spawner thread is gone")))
}

/// Whether `host` is this process's parent.
pub(crate) fn started_by(host: u32) -> bool {
    host == std::os::unix::process::parent_id()
}

/// Takes over the descriptors a host placed for its runner.
pub(super) fn take_channels() -> Option<RunnerChannels> {
    let is_open = |fd: RawFd| {
        // SAFETY: F_GETFD only reads the descriptor's flags.
        unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
    };
    if ![CONTROL_FD, LOG_FD, LIFELINE_FD].into_iter().all(is_open) {
        return None;
    }
    // SAFETY: the host placed these descriptors for this program (the
    // variable and the parent's id say this process is its runner); nothing
    // else in the program owns them.
    let (control, logs, lifeline) = unsafe {
        (
            UnixStream::from_raw_fd(CONTROL_FD),
            File::from_raw_fd(LOG_FD),
            File::from_raw_fd(LIFELINE_FD),
        )
    };
    // SAFETY: as above, for the library's descriptor when the host passed one.
    let library = is_open(LIBRARY_FD).then(|| unsafe { File::from_raw_fd(LIBRARY_FD) });
    for fd in [CONTROL_FD, LOG_FD, LIFELINE_FD, LIBRARY_FD] {
        // SAFETY: sets close-on-exec on descriptors this process owns, so a
        // program the plugin starts does not inherit them.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    let writer = control.try_clone().ok()?;
    Some(RunnerChannels {
        reader: Channel(control),
        writer,
        logs,
        lifeline: Box::new(lifeline),
        library,
    })
}

/// Ends the runner at once (its host is gone).
pub(crate) fn exit_now() -> ! {
    // SAFETY: _exit ends the process without running atexit handlers or
    // destructors, which is the point: another thread may be inside plugin
    // code.
    unsafe { libc::_exit(0) }
}

/// How a runner ended, in words.
pub(crate) fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        let name = match signal {
            libc::SIGSEGV => " (SIGSEGV, a bad memory access)",
            libc::SIGBUS => " (SIGBUS, a bad memory access)",
            libc::SIGABRT => " (SIGABRT: it aborted)",
            libc::SIGKILL => " (SIGKILL)",
            libc::SIGILL => " (SIGILL, an illegal instruction)",
            libc::SIGFPE => " (SIGFPE, an arithmetic fault)",
            libc::SIGTERM => " (SIGTERM)",
            libc::SIGSYS => " (SIGSYS, a forbidden system call)",
            _ => "",
        };
        let core = if status.core_dumped() {
            ", core dumped"
        } else {
            ""
        };
        format!("was killed by signal {signal}{name}{core}")
    } else {
        match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => "ended".to_owned(),
        }
    }
}
