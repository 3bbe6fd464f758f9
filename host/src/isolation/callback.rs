//! What a plugin in a runner sends its host besides answers: its log
//! records (on the log pipe, from any thread) and its calls to the host's
//! services (on the control channel, from the thread of the host's call,
//! while the host waits for that call).

use std::{
    fs::File,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, OnceLock,
    },
};

use plugboard_interface::{Link, LogRecord, PluginError, Remote};

use super::{
    child::{handle, receive, send},
    wire::{self, LogLine, ToChild, ToHost},
};

/// The log pipe to the host, and how many records went through it.
pub(super) struct LogPipe {
    pub(super) pipe: Mutex<File>,
    pub(super) sent: AtomicU64,
}

pub(super) static LOGS: OnceLock<LogPipe> = OnceLock::new();

/// How many log records have been sent to the host.
pub(super) fn logs_sent() -> u64 {
    LOGS.get().map_or(0, |l| l.sent.load(Ordering::SeqCst))
}

/// Sends one of the plugin's log records to the host (any thread).
pub(crate) fn forward_log(record: &LogRecord<'_>) {
    let Some(logs) = LOGS.get() else { return };
    let line = LogLine {
        level: record.level,
        target: record.target.to_string(),
        message: record.message.to_string(),
        module_path: record.module_path.map(|m| m.to_string()).into_option(),
        file: record.file.map(|f| f.to_string()).into_option(),
        line: record.line.into_option(),
    };
    let mut pipe = logs.pipe.lock().unwrap_or_else(|p| p.into_inner());
    if wire::send(&mut *pipe, &line).is_ok() {
        logs.sent.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits for the host's answer to a service request, serving the host's
/// own requests meanwhile (a call it makes while its service runs).
fn answer() -> ToChild {
    loop {
        match receive() {
            answer @ (ToChild::ServiceOpened(_) | ToChild::ServiceReturned(_)) => return answer,
            request => {
                if let Some(answer) = handle(request) {
                    send(answer);
                }
            }
        }
    }
}

fn not_on_this_thread() -> PluginError {
    PluginError::unsupported(
        "a plugin running in its own process can call host services only from the thread a host's call runs on, while that call runs",
    )
}

/// Opens the host's service `name` (already checked here against this
/// program's own offer, which is the host's): a remote object.
pub(crate) fn open_service(name: &str) -> Result<Remote, PluginError> {
    if !send(ToHost::ServiceOpen {
        name: name.to_owned(),
    }) {
        return Err(not_on_this_thread());
    }
    match answer() {
        ToChild::ServiceOpened(result) => Ok(Remote::new(ServiceLink { id: result? })),
        _ => Err(PluginError::failed("the host answered out of turn")),
    }
}

/// A host service object, as a plugin in a runner reaches it.
struct ServiceLink {
    id: u64,
}

impl Link for ServiceLink {
    fn call(&self, method: u32, args: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        if !send(ToHost::ServiceCall {
            object: self.id,
            method,
            args,
        }) {
            return Err(not_on_this_thread());
        }
        match answer() {
            ToChild::ServiceReturned(result) => result,
            _ => Err(PluginError::failed("the host answered out of turn")),
        }
    }
}

impl Drop for ServiceLink {
    fn drop(&mut self) {
        // Off the main thread there is no channel: the host frees the
        // object with the runner.
        send(ToHost::ServiceDrop {
            objects: vec![self.id],
        });
    }
}
