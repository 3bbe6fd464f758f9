//! Talking to a runner: one request and its answer (serving the runner's
//! calls to host services meanwhile), and what happens when the runner
//! stops answering.

use std::{
    io,
    time::{Duration, Instant},
};

use plugboard_interface::{PluginError, PluginErrorKind};

use super::{
    os,
    parent::{Broken, Child, Failure, Running, State, Stopped, SERVING},
    wire::{self, Frame, ToChild, ToHost},
};

/// How long a runner that closed its channel may take to finish exiting
/// before it is killed, and how long the forwarders may take to drain.
pub(super) const GRACE: Duration = Duration::from_secs(2);

impl Child {
    /// Sends `request` and reads until its answer, serving the runner's
    /// calls to host services meanwhile. If the runner stops answering, it
    /// is stopped, `state` becomes `Stopped` and the error says why.
    pub(super) fn request(
        &self,
        state: &mut State,
        request: ToChild,
        during: &str,
    ) -> Result<ToHost, Failure> {
        let State::Running(running) = state else {
            let error = PluginError::failed("the plugin's process is not running");
            return Err(Failure {
                detail: error.message().to_owned(),
                error,
            });
        };
        SERVING.with(|s| s.borrow_mut().push(self.key()));
        let outcome = self.exchange(running, request);
        SERVING.with(|s| {
            s.borrow_mut().pop();
        });
        match outcome {
            Ok(answer) => {
                running.failures = 0;
                Ok(answer)
            }
            Err(broken) => {
                let failure = self.broken(running, broken, during);
                self.stop(state, Some(failure.error.clone()));
                Err(failure)
            }
        }
    }

    pub(super) fn exchange(
        &self,
        running: &mut Running,
        request: ToChild,
    ) -> Result<ToHost, Broken> {
        self.exchange_drops(running).map_err(Broken::Ended)?;
        wire::send(&mut running.writer, &request).map_err(Broken::Ended)?;
        loop {
            let frame: Frame = match wire::receive(&mut running.reader, &mut running.buf) {
                Ok(Some(frame)) => frame,
                Ok(None) => {
                    return Err(Broken::Ended(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the channel closed",
                    )))
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(Broken::TimedOut)
                }
                Err(e) => return Err(Broken::Ended(e)),
            };
            running.logs.wait_for(frame.logs);
            let reply = match frame.body {
                ToHost::ServiceOpen { name } => {
                    ToChild::ServiceOpened(self.open_service(running, &name))
                }
                ToHost::ServiceCall {
                    object,
                    method,
                    args,
                } => ToChild::ServiceReturned(match running.services.get_mut(&object) {
                    Some(served) => served.invoke(method, &args),
                    None => Err(PluginError::failed("no such service object")),
                }),
                ToHost::ServiceDrop { objects } => {
                    for id in objects {
                        running.services.remove(&id);
                    }
                    continue;
                }
                answer => return Ok(answer),
            };
            wire::send(&mut running.writer, &reply).map_err(Broken::Ended)?;
        }
    }

    pub(super) fn open_service(
        &self,
        running: &mut Running,
        name: &str,
    ) -> Result<u64, PluginError> {
        let served = self.shared.serve(name)?;
        let id = running.next_service;
        running.next_service += 1;
        running.services.insert(id, served);
        Ok(id)
    }

    /// Stops the runner (if it still runs) and says why, for the calls that
    /// follow.
    pub(super) fn stop(&self, state: &mut State, cause: Option<PluginError>) {
        if let State::Running(running) = state {
            finish(&mut running.process);
            let cause = cause.unwrap_or_else(|| PluginError::failed("the plugin's process ended"));
            *state = State::Stopped(Stopped {
                cause,
                at: Instant::now(),
                failures: running.failures + 1,
                generation: running.generation,
            });
        }
    }

    /// The error for the call that found the runner broken: its kind and
    /// what happened ("its process (pid N) was killed by ... during ...").
    pub(super) fn broken(&self, running: &mut Running, broken: Broken, during: &str) -> Failure {
        let pid = running.process.id();
        let (kind, what) = match broken {
            Broken::TimedOut => {
                let _ = running.process.kill();
                let _ = running.process.wait();
                let limit = self
                    .settings
                    .call_timeout
                    .map_or_else(String::new, |t| format!(" within {} ms", t.as_millis()));
                (
                    PluginErrorKind::TimedOut,
                    format!(
                        "its process (pid {pid}) did not answer {during}{limit} and was stopped"
                    ),
                )
            }
            Broken::Ended(error) => {
                let status = wait_briefly(&mut running.process);
                running.stderr.wait_done(GRACE);
                let how = match status {
                    Some(status) => os::describe(status),
                    None => format!("closed its channel ({error})"),
                };
                (
                    PluginErrorKind::Crashed,
                    format!("its process (pid {pid}) {how} during {during}"),
                )
            }
        };
        let last = running.stderr.last_lines();
        let detail = if last.is_empty() {
            what
        } else {
            format!("{what}; its last output: {}", last.join(" / "))
        };
        let verb = if kind == PluginErrorKind::TimedOut {
            "timed out"
        } else {
            "crashed"
        };
        Failure {
            error: PluginError::new(
                kind,
                format!("plugin library `{}` {verb}: {detail}", self.library),
            ),
            detail,
        }
    }

    pub(super) fn protocol_error(&self, answer: &ToHost) -> PluginError {
        PluginError::failed(format!(
            "the process of plugin library `{}` answered out of turn ({answer:?})",
            self.library
        ))
    }

    pub(super) fn exchange_drops(&self, running: &mut Running) -> io::Result<()> {
        let mut dropped = self.dropped.lock().unwrap_or_else(|p| p.into_inner());
        let objects: Vec<u64> = dropped
            .iter()
            .filter(|(g, _)| *g == running.generation)
            .map(|(_, id)| *id)
            .collect();
        dropped.clear();
        if objects.is_empty() {
            return Ok(());
        }
        wire::send(&mut running.writer, &ToChild::Drop { objects })
    }
}

/// Lets a runner that was asked to stop exit, or kills it.
pub(super) fn finish(process: &mut std::process::Child) {
    if wait_briefly(process).is_none() {
        let _ = process.kill();
        let _ = process.wait();
    }
}

/// The runner's exit status, if it ends within [`GRACE`].
pub(super) fn wait_briefly(process: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + GRACE;
    loop {
        match process.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            _ => return None,
        }
    }
}
