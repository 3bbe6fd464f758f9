//! Isolation on Windows: the control channel is a local named pipe
//! (`\\.\pipe\plugboard-<pid>-<n>-<random>`, one instance, remote clients
//! refused) whose client end, with the log pipe's write end, is duplicated
//! into the runner after it starts; the runner learns their values on its
//! standard input, and that input, which the host never closes while the
//! runner should live, is its lifeline. The runner is put in a job object
//! that kills it when the host's handle to the job closes (the host ended,
//! however it ended) and carries the memory limit. The runner loads the
//! host's private copy by its path: the host keeps that copy open without
//! write or delete sharing, so nothing changes it meanwhile.
//!
//! `unsafe`: the Win32 calls (named pipes, overlapped reads and writes,
//! handles, the job object, the process snapshot).

use std::{
    fs::File,
    io::{self, BufRead, Write},
    os::windows::{
        io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle},
        process::CommandExt,
    },
    path::Path,
    process::{ChildStdin, Command, ExitStatus, Stdio},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use windows_sys::Win32::{
    Foundation::{
        DuplicateHandle, GetLastError, DUPLICATE_SAME_ACCESS, ERROR_BROKEN_PIPE, ERROR_IO_PENDING,
        ERROR_OPERATION_ABORTED, ERROR_PIPE_NOT_CONNECTED, GENERIC_READ, GENERIC_WRITE, HANDLE,
        INVALID_HANDLE_VALUE, WAIT_OBJECT_0, WAIT_TIMEOUT,
    },
    Storage::FileSystem::{
        CreateFileW, GetFileType, ReadFile, WriteFile, FILE_FLAG_FIRST_PIPE_INSTANCE,
        FILE_FLAG_OVERLAPPED, FILE_TYPE_PIPE, OPEN_EXISTING, PIPE_ACCESS_DUPLEX,
    },
    System::{
        Diagnostics::{
            Debug::{
                SetErrorMode, SetUnhandledExceptionFilter, EXCEPTION_EXECUTE_HANDLER,
                EXCEPTION_POINTERS, SEM_FAILCRITICALERRORS, SEM_NOGPFAULTERRORBOX,
            },
            ToolHelp::{
                CreateToolhelp32Snapshot, Process32FirstW, Process32NextW, PROCESSENTRY32W,
                TH32CS_SNAPPROCESS,
            },
        },
        JobObjects::{
            AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation,
            SetInformationJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
            JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
            JOB_OBJECT_LIMIT_PROCESS_MEMORY,
        },
        Pipes::{
            CreateNamedPipeW, GetNamedPipeClientProcessId, PIPE_READMODE_BYTE,
            PIPE_REJECT_REMOTE_CLIENTS, PIPE_TYPE_BYTE, PIPE_WAIT,
        },
        Threading::{
            CreateEventW, GetCurrentProcess, GetCurrentThread, GetExitCodeThread, TerminateProcess,
            WaitForSingleObject, INFINITE,
        },
        IO::{CancelIoEx, GetOverlappedResult, OVERLAPPED},
    },
};

use super::{RunnerChannels, Started, RUNNER_VARIABLE};
use crate::{isolation::wire::LibrarySource, private_copy::PrivateCopy};

/// One end of the control pipe, opened for overlapped I/O, with the event
/// its operations signal. Reads and writes wait for their completion; a
/// read gives up after the timeout (the call timeout, on the host's side).
struct Pipe {
    handle: OwnedHandle,
    event: OwnedHandle,
    timeout: Option<Duration>,
}

impl Pipe {
    fn new(handle: OwnedHandle, timeout: Option<Duration>) -> io::Result<Self> {
        // SAFETY: no security attributes, no name; a manual-reset event, as
        // overlapped operations expect.
        let event = unsafe { CreateEventW(std::ptr::null(), 1, 0, std::ptr::null()) };
        if event.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            handle,
            // SAFETY: `event` was just created and is owned by nothing else.
            event: unsafe { OwnedHandle::from_raw_handle(event) },
            timeout,
        })
    }

    fn try_clone(&self, timeout: Option<Duration>) -> io::Result<Self> {
        Self::new(self.handle.try_clone()?, timeout)
    }

    fn raw(&self) -> HANDLE {
        self.handle.as_raw_handle()
    }

    /// Waits for the overlapped operation `overlapped` (started on this
    /// pipe) for at most `timeout`; the bytes it moved, or `TimedOut` once
    /// it is cancelled.
    fn complete(&self, overlapped: &OVERLAPPED, timeout: Option<Duration>) -> io::Result<usize> {
        let millis = timeout.map_or(INFINITE, |t| {
            u32::try_from(t.as_millis()).map_or(INFINITE - 1, |ms| ms.clamp(1, INFINITE - 1))
        });
        // SAFETY: the event is open while `self` lives.
        let waited = unsafe { WaitForSingleObject(self.event.as_raw_handle(), millis) };
        let timed_out = waited == WAIT_TIMEOUT;
        if timed_out {
            // SAFETY: cancels only this operation, which is still running
            // on this handle; `overlapped` stays alive until it completes
            // below.
            unsafe { CancelIoEx(self.raw(), overlapped) };
        } else if waited != WAIT_OBJECT_0 {
            return Err(io::Error::last_os_error());
        }
        let mut moved = 0u32;
        // SAFETY: `overlapped` is the structure the operation was started
        // with; waiting (the last argument) returns only once the system
        // no longer uses it or the buffer.
        let done = unsafe { GetOverlappedResult(self.raw(), overlapped, &mut moved, 1) };
        if done != 0 {
            return Ok(moved as usize);
        }
        // SAFETY: reads this thread's last error.
        match unsafe { GetLastError() } {
            ERROR_OPERATION_ABORTED if timed_out => Err(io::ErrorKind::TimedOut.into()),
            error => Err(io::Error::from_raw_os_error(error as i32)),
        }
    }

    fn overlapped(&self) -> OVERLAPPED {
        OVERLAPPED {
            hEvent: self.event.as_raw_handle(),
            ..Default::default()
        }
    }
}

/// The reading end of the control channel.
pub(crate) struct Channel(Pipe);

impl io::Read for Channel {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let pipe = &self.0;
        let overlapped = pipe.overlapped();
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        // SAFETY: `buf` is valid for `len` bytes and, like `overlapped`,
        // outlives the operation: `complete` returns only once it is over.
        let started = unsafe {
            ReadFile(
                pipe.raw(),
                buf.as_mut_ptr(),
                len,
                std::ptr::null_mut(),
                std::ptr::from_ref(&overlapped).cast_mut(),
            )
        };
        // SAFETY: reads this thread's last error.
        if started == 0 && unsafe { GetLastError() } != ERROR_IO_PENDING {
            return end_of_file_if_closed(io::Error::last_os_error());
        }
        pipe.complete(&overlapped, pipe.timeout)
            .or_else(end_of_file_if_closed)
    }
}

/// The other side closed the pipe: end of file, as a socket would say.
fn end_of_file_if_closed(error: io::Error) -> io::Result<usize> {
    match error.raw_os_error().map(|e| e as u32) {
        Some(ERROR_BROKEN_PIPE | ERROR_PIPE_NOT_CONNECTED) => Ok(0),
        _ => Err(error),
    }
}

/// The writing end of the control channel (another handle to the same
/// pipe end).
pub(crate) struct Writer(Pipe);

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let pipe = &self.0;
        let overlapped = pipe.overlapped();
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        // SAFETY: `buf` is valid for `len` bytes and, like `overlapped`,
        // outlives the operation: `complete` returns only once it is over.
        let started = unsafe {
            WriteFile(
                pipe.raw(),
                buf.as_ptr(),
                len,
                std::ptr::null_mut(),
                std::ptr::from_ref(&overlapped).cast_mut(),
            )
        };
        // SAFETY: reads this thread's last error.
        if started == 0 && unsafe { GetLastError() } != ERROR_IO_PENDING {
            return Err(io::Error::last_os_error());
        }
        pipe.complete(&overlapped, None)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What the host holds for a runner: the job that kills it when closed,
/// and its standard input, which the runner reads to its end.
pub(crate) struct Lifeline {
    _job: Option<OwnedHandle>,
    _input: ChildStdin,
}

/// Where the runner finds the vetted bytes of `copy`: the private copy's
/// path (the host holds the copy open, so nobody changes it).
pub(crate) fn library_source(copy: &PrivateCopy) -> LibrarySource {
    LibrarySource::Path(copy.path().to_string_lossy().into_owned())
}

/// Starts `runner`, hands it its channels and puts it in a job that ends it
/// with the host (under `memory_limit` bytes of committed memory if given).
/// Reads of the control channel time out after `call_timeout`.
pub(crate) fn start(
    runner: &Path,
    _copy: &PrivateCopy,
    memory_limit: Option<u64>,
    call_timeout: Option<Duration>,
) -> io::Result<Started> {
    let (server, client) = control_pipe()?;
    let (logs_read, logs_write) = io::pipe()?;
    let mut command = Command::new(runner);
    command
        .env(
            RUNNER_VARIABLE,
            format!(
                "{}:{}",
                crate::isolation::wire::PROTOCOL,
                std::process::id()
            ),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        // No console window for a runner of a windowed application.
        .creation_flags(windows_sys::Win32::System::Threading::CREATE_NO_WINDOW);
    let mut process = command.spawn()?;
    let handed = hand_over(
        &process,
        memory_limit,
        &client,
        &OwnedHandle::from(logs_write),
    );
    let (job, mut input) = match handed.and_then(|job| {
        let input = process
            .stdin
            .take()
            .ok_or_else(|| io::Error::other("no stdin"))?;
        Ok((job, input))
    }) {
        Ok(handed) => handed,
        Err(e) => {
            let _ = process.kill();
            let _ = process.wait();
            return Err(e);
        }
    };
    let stderr = process
        .stderr
        .take()
        .map(|stderr| File::from(OwnedHandle::from(stderr)));
    let (Some(stderr), Ok(())) = (stderr, input.flush()) else {
        let _ = process.kill();
        let _ = process.wait();
        return Err(io::Error::other(
            "the runner's standard streams are missing",
        ));
    };
    let server = Pipe::new(server, call_timeout)?;
    Ok(Started {
        process,
        writer: Writer(server.try_clone(None)?),
        reader: Channel(server),
        logs: File::from(OwnedHandle::from(logs_read)),
        stderr,
        lifeline: Lifeline {
            _job: job,
            _input: input,
        },
    })
}

/// Puts `process` in a job and duplicates its channels into it, then
/// writes their values on its standard input. The job, if one could be
/// made (without one, the runner still ends when its input closes; a
/// memory limit needs one).
fn hand_over(
    process: &std::process::Child,
    memory_limit: Option<u64>,
    control: &OwnedHandle,
    logs: &OwnedHandle,
) -> io::Result<Option<OwnedHandle>> {
    let job = match job(process, memory_limit) {
        Ok(job) => Some(job),
        Err(e) if memory_limit.is_none() => {
            log::debug!("cannot put the runner in a job object ({e}); it ends when its input does");
            None
        }
        Err(e) => {
            return Err(io::Error::other(format!(
                "cannot put it under the memory limit: {e}"
            )))
        }
    };
    let control = duplicate_into(process, control)?;
    let logs = duplicate_into(process, logs)?;
    let Some(input) = process.stdin.as_ref() else {
        return Err(io::Error::other("the runner has no standard input"));
    };
    writeln!(&*input, "{control} {logs}")?;
    Ok(job)
}

/// A job that kills its processes when its last handle closes and lets
/// none of them wait on a crash dialog, with `process` in it.
fn job(process: &std::process::Child, memory_limit: Option<u64>) -> io::Result<OwnedHandle> {
    // SAFETY: no security attributes, no name.
    let raw = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
    if raw.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` was just created and is owned by nothing else.
    let job = unsafe { OwnedHandle::from_raw_handle(raw) };
    let mut limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
    limits.BasicLimitInformation.LimitFlags =
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
    if let Some(bytes) = memory_limit {
        limits.BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_PROCESS_MEMORY;
        limits.ProcessMemoryLimit = usize::try_from(bytes).unwrap_or(usize::MAX);
    }
    // SAFETY: `limits` is the structure this information class names, and
    // the size is its size.
    let set = unsafe {
        SetInformationJobObject(
            job.as_raw_handle(),
            JobObjectExtendedLimitInformation,
            std::ptr::from_ref(&limits).cast(),
            std::mem::size_of_val(&limits) as u32,
        )
    };
    // SAFETY: both handles are open: the job's above, the process's while
    // `process` lives.
    if set == 0
        || unsafe { AssignProcessToJobObject(job.as_raw_handle(), process.as_raw_handle()) } == 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(job)
}

/// A copy of `handle` in `process`, as the number that names it there.
fn duplicate_into(process: &std::process::Child, handle: &OwnedHandle) -> io::Result<usize> {
    let mut target: HANDLE = std::ptr::null_mut();
    // SAFETY: every handle is open (ours while borrowed, the process's
    // while `process` lives); the new one belongs to `process`.
    let duplicated = unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            handle.as_raw_handle(),
            process.as_raw_handle(),
            &mut target,
            0,
            0,
            DUPLICATE_SAME_ACCESS,
        )
    };
    if duplicated == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(target as usize)
}

/// A new local named pipe: the host's end and the runner's, both for
/// overlapped I/O. Only one instance, opened here at once and checked to
/// be this process's own, so nobody else can be on the other end.
fn control_pipe() -> io::Result<(OwnedHandle, OwnedHandle)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
    let name = format!(
        r"\\.\pipe\plugboard-{}-{}-{:016x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        u64::from_ne_bytes(random)
    );
    let wide: Vec<u16> = name.encode_utf16().chain(Some(0)).collect();
    // SAFETY: `wide` is a NUL-terminated name; no security attributes.
    let server = unsafe {
        CreateNamedPipeW(
            wide.as_ptr(),
            PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
            PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
            1,
            64 * 1024,
            64 * 1024,
            0,
            std::ptr::null(),
        )
    };
    if server == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `server` was just created and is owned by nothing else.
    let server = unsafe { OwnedHandle::from_raw_handle(server) };
    // SAFETY: as above; not inheritable (no security attributes).
    let client = unsafe {
        CreateFileW(
            wide.as_ptr(),
            GENERIC_READ | GENERIC_WRITE,
            0,
            std::ptr::null(),
            OPEN_EXISTING,
            FILE_FLAG_OVERLAPPED,
            std::ptr::null_mut(),
        )
    };
    if client == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `client` was just opened and is owned by nothing else.
    let client = unsafe { OwnedHandle::from_raw_handle(client) };
    let mut owner = 0u32;
    // SAFETY: the pipe is open; `owner` is a valid place for the id.
    if unsafe { GetNamedPipeClientProcessId(server.as_raw_handle(), &mut owner) } == 0 {
        return Err(io::Error::last_os_error());
    }
    if owner != std::process::id() {
        return Err(io::Error::other(
            "another process connected to the plugin's channel first",
        ));
    }
    Ok((server, client))
}

/// Whether `host` is this process's parent.
pub(crate) fn started_by(host: u32) -> bool {
    parent_id() == Some(host)
}

/// This process's parent, from a snapshot of the processes.
fn parent_id() -> Option<u32> {
    // SAFETY: a snapshot of the processes; no pointers.
    let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
    if snapshot == INVALID_HANDLE_VALUE {
        return None;
    }
    // SAFETY: `snapshot` was just made and is owned by nothing else.
    let snapshot = unsafe { OwnedHandle::from_raw_handle(snapshot) };
    let me = std::process::id();
    let mut entry = PROCESSENTRY32W {
        dwSize: std::mem::size_of::<PROCESSENTRY32W>() as u32,
        ..Default::default()
    };
    // SAFETY: `entry` is a PROCESSENTRY32W with its size set, as asked.
    let mut more = unsafe { Process32FirstW(snapshot.as_raw_handle(), &mut entry) } != 0;
    while more {
        if entry.th32ProcessID == me {
            return Some(entry.th32ParentProcessID);
        }
        // SAFETY: as above.
        more = unsafe { Process32NextW(snapshot.as_raw_handle(), &mut entry) } != 0;
    }
    None
}

/// Takes over the handles the host duplicated into this process (their
/// values arrive on standard input, which then stays open as the lifeline).
/// From here on a crash ends the process at once, with the exception's
/// code as its exit code: no error dialog, no just-in-time debugger (Wine
/// starts one, and so does a Windows with a debugger registered).
pub(super) fn take_channels() -> Option<RunnerChannels> {
    // SAFETY: sets this process's error mode and top-level exception
    // filter; `end_on_crash` is a valid filter for the process's life.
    unsafe {
        SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
        SetUnhandledExceptionFilter(Some(end_on_crash));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    let mut values = line.split_whitespace().map(|v| v.parse::<usize>().ok());
    let (Some(Some(control)), Some(Some(logs)), None) =
        (values.next(), values.next(), values.next())
    else {
        return None;
    };
    let is_pipe = |value: usize| {
        // SAFETY: GetFileType only reads what an open handle is; a value
        // that is no handle gives FILE_TYPE_UNKNOWN.
        unsafe { GetFileType(value as RawHandle) == FILE_TYPE_PIPE }
    };
    if !(is_pipe(control) && is_pipe(logs)) {
        return None;
    }
    // SAFETY: the host duplicated these handles into this process for its
    // runner (the variable and the parent's id say this is it) and sent
    // their values; nothing else in the program owns them.
    let (control, logs) = unsafe {
        (
            OwnedHandle::from_raw_handle(control as RawHandle),
            OwnedHandle::from_raw_handle(logs as RawHandle),
        )
    };
    let control = Pipe::new(control, None).ok()?;
    watch_serving_thread();
    Some(RunnerChannels {
        writer: Writer(control.try_clone(None).ok()?),
        reader: Channel(control),
        logs: File::from(logs),
        lifeline: Box::new(std::io::stdin()),
        library: None,
    })
}

/// The runner's top-level exception filter: ends the process with the
/// exception's code, which the host describes.
///
/// # Safety
///
/// Called by the system with the exception's valid pointers.
unsafe extern "system" fn end_on_crash(info: *const EXCEPTION_POINTERS) -> i32 {
    // SAFETY: the system passes valid pointers (checked for null anyway).
    let code = unsafe {
        info.as_ref()
            .and_then(|info| info.ExceptionRecord.as_ref())
            .map_or(255, |record| record.ExceptionCode as u32)
    };
    // SAFETY: ends this process; the pseudo-handle needs no closing.
    unsafe { TerminateProcess(GetCurrentProcess(), code) };
    EXCEPTION_EXECUTE_HANDLER
}

/// Ends the process if the calling thread (the one that serves the plugin,
/// which only ever ends by ending the process) ends on its own: a plugin
/// that calls `ExitThread`, or Wine, which answers a stack overflow by
/// ending the thread instead of the process. Without this the runner would
/// live on without answering, and the host would wait for its call
/// timeout. The process ends with the thread's exit code (255 if that was
/// 0), after a line on standard error that the host's error quotes.
fn watch_serving_thread() {
    let mut thread: HANDLE = std::ptr::null_mut();
    // SAFETY: turns this thread's pseudo-handle into a real handle of this
    // process; `thread` is a valid place for it.
    let duplicated = unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            GetCurrentThread(),
            GetCurrentProcess(),
            &mut thread,
            0,
            0,
            DUPLICATE_SAME_ACCESS,
        )
    };
    if duplicated == 0 {
        return;
    }
    // SAFETY: a new handle this process owns.
    let thread = unsafe { OwnedHandle::from_raw_handle(thread) };
    let _ = std::thread::Builder::new()
        .name("plugboard-serving-watch".to_owned())
        .spawn(move || {
            // SAFETY: the handle is open while `thread` lives.
            unsafe { WaitForSingleObject(thread.as_raw_handle(), INFINITE) };
            let mut code = 0u32;
            // SAFETY: as above; `code` is a valid place for the code.
            unsafe { GetExitCodeThread(thread.as_raw_handle(), &mut code) };
            eprintln!(
                "plugboard runner: the thread serving the plugin ended (code 0x{code:08X}) without ending its process"
            );
            let code = if code == 0 { 255 } else { code };
            // SAFETY: ends this process; the pseudo-handle needs no closing.
            unsafe { TerminateProcess(GetCurrentProcess(), code) };
        });
}

/// Ends the runner at once (its host is gone), without running the
/// libraries' detach code: another thread may be inside plugin code.
pub(crate) fn exit_now() -> ! {
    // SAFETY: ends this process; the pseudo-handle needs no closing.
    unsafe { TerminateProcess(GetCurrentProcess(), 0) };
    std::process::abort()
}

/// How a runner ended, in words.
pub(crate) fn describe(status: ExitStatus) -> String {
    let Some(code) = status.code() else {
        return "ended".to_owned();
    };
    let code = code as u32;
    if code < 0xC000_0000 {
        return format!("exited with status {code}");
    }
    let name = match code {
        0xC000_0005 => " (an access violation: a bad memory access)",
        0xC000_00FD => " (a stack overflow)",
        0xC000_0409 => " (a fail-fast exit: it aborted)",
        0xC000_001D => " (an illegal instruction)",
        0xC000_0094 => " (an integer division by zero)",
        0xC000_0374 => " (a corrupted heap)",
        0xC000_0017 | 0xC000_012D => " (out of memory)",
        _ => "",
    };
    format!("ended with exception 0x{code:08X}{name}")
}
