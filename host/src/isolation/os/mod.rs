//! The operating-system side of isolation: starting the runner with its
//! channels in place, tying its life to the host's, and reading how it
//! ended. One module per family (`unix`: a socket pair, pipes and
//! descriptors at fixed numbers; `windows`: a named pipe, a job object and
//! handles duplicated into the runner), both with the same surface:
//!
//! - [`start`] (host): the runner's process and the host's ends of its
//!   channels ([`Started`]);
//! - [`runner_channels`] (runner): this process's ends, if a live host
//!   started it as its runner;
//! - [`started_by`], [`exit_now`], [`describe`].
//!
//! Both are modules with `unsafe` (see docs/architecture.md).

use std::fs::File;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

/// The variable that tells a program it was started as a runner: the
/// protocol version and the host's process id.
pub(crate) const RUNNER_VARIABLE: &str = "PLUGBOARD_ISOLATED_RUNNER";

/// The host's ends of a started runner's channels.
pub(crate) struct Started {
    pub(crate) process: std::process::Child,
    /// Replies and calls from the runner (reads time out after the call
    /// timeout).
    pub(crate) reader: Channel,
    /// Requests to the runner.
    pub(crate) writer: Writer,
    /// The runner's log records.
    pub(crate) logs: File,
    /// The runner's standard error.
    pub(crate) stderr: File,
    /// Held, never written: dropping it (or the host's death) ends the
    /// runner.
    pub(crate) lifeline: Lifeline,
}

/// A runner's ends of its channels.
pub(crate) struct RunnerChannels {
    /// Requests from the host.
    pub(crate) reader: Channel,
    /// Replies to the host.
    pub(crate) writer: Writer,
    /// Where log records go.
    pub(crate) logs: File,
    /// Reads end of file when the host is gone.
    pub(crate) lifeline: Box<dyn std::io::Read + Send>,
    /// The sealed memfd with the vetted bytes (Linux), when the host
    /// passed one.
    pub(crate) library: Option<File>,
}

/// The runner's side: its channels, if this process was started as a
/// runner by a live host (checked against the parent's process id, so a
/// program a plugin starts, which inherits the variable, is not mistaken
/// for one).
pub(crate) fn runner_channels() -> Option<RunnerChannels> {
    let value = std::env::var(RUNNER_VARIABLE).ok()?;
    let (protocol, host) = value.split_once(':')?;
    if protocol != super::wire::PROTOCOL.to_string() || !started_by(host.parse().ok()?) {
        return None;
    }
    take_channels()
}
