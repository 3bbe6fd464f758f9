//! The host's side of an isolated plugin: the runner process, the calls
//! made to it, what happens when it dies or stops answering, and the host
//! services it calls back.
//!
//! Calls to one runner take turns (one `Mutex`): the caller's own thread
//! writes the request and reads until the answer arrives, serving the
//! plugin's calls to host services on the way, so a call costs one round
//! trip and no thread hand-off. Log records come on a pipe of their own,
//! forwarded by a thread; every answer says how many records were sent
//! before it, and the caller waits for those, so a call's log lines reach
//! the host's logger before the call returns.

use std::{
    cell::RefCell,
    collections::HashMap,
    io::{self, BufReader},
    path::PathBuf,
    sync::{Arc, Mutex, MutexGuard},
    time::Instant,
};

use plugboard_interface::{PluginError, PluginErrorKind, Served};

use super::{
    exchange::finish,
    forward::{Forwarded, Tail},
    objects::RemoteObject,
    wire::{self, Hello, ToChild, ToHost},
    RestartPolicy, Settings,
};
use crate::{check::InterfaceSpec, private_copy::PrivateCopy, services::Shared};

/// An isolated plugin library: its runner process (while it runs) and how
/// to start it again.
pub(crate) struct Child {
    pub(super) library: String,
    pub(super) path: PathBuf,
    pub(super) runner: PathBuf,
    pub(super) settings: Settings,
    /// The vetted bytes, kept for restarts.
    pub(super) copy: PrivateCopy,
    pub(super) hello: Hello,
    pub(super) specs: Vec<InterfaceSpec>,
    pub(super) shared: Arc<Shared>,
    pub(super) state: Mutex<State>,
    /// Objects dropped while the runner was busy: (generation, id).
    pub(super) dropped: Mutex<Vec<(u64, u64)>>,
}

pub(super) enum State {
    Running(Box<Running>),
    Stopped(Stopped),
    Closed,
}

pub(super) struct Stopped {
    /// What happened, as the later calls report it.
    pub(super) cause: PluginError,
    pub(super) at: Instant,
    /// Consecutive failed starts or crashes.
    pub(super) failures: u32,
    /// The generation that ended.
    pub(super) generation: u64,
}

pub(super) struct Running {
    pub(super) process: std::process::Child,
    pub(super) reader: BufReader<super::os::Channel>,
    pub(super) writer: super::os::Writer,
    pub(super) buf: Vec<u8>,
    pub(super) generation: u64,
    pub(super) failures: u32,
    pub(super) _lifeline: super::os::Lifeline,
    pub(super) logs: Arc<Forwarded>,
    pub(super) stderr: Arc<Tail>,
    pub(super) services: HashMap<u64, Served>,
    pub(super) next_service: u64,
}

/// A runner that stopped answering: the error for calls, and what happened
/// in a few words (for a refused load).
#[derive(Clone)]
pub(super) struct Failure {
    pub(super) error: PluginError,
    pub(super) detail: String,
}

/// Why a runner stopped answering.
pub(super) enum Broken {
    TimedOut,
    Ended(io::Error),
}

thread_local! {
    /// The runners this thread is talking to (serving their calls to host
    /// services): a service that calls back into the same plugin gets an
    /// error instead of a deadlock.
    pub(super) static SERVING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

impl Child {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes a new object of plugin `entry` in the runner: its generation and id.
    pub(crate) fn create(&self, entry: &str) -> Result<(u64, u64), PluginError> {
        self.refuse_reentry()?;
        let mut state = self.lock();
        self.ensure_running(&mut state)?;
        let generation = running_generation(&state);
        match self
            .request(
                &mut state,
                ToChild::Create {
                    entry: entry.to_owned(),
                },
                &format!("the creation of a `{entry}` object"),
            )
            .map_err(|f| f.error)?
        {
            ToHost::Created(result) => result.map(|id| (generation, id)),
            other => Err(self.protocol_error(&other)),
        }
    }

    /// Calls method `method` of `object`, making the object again first if
    /// the runner was restarted since it was made.
    pub(super) fn call(
        &self,
        object: &RemoteObject,
        method: u32,
        args: Vec<u8>,
    ) -> Result<Vec<u8>, PluginError> {
        self.refuse_reentry()?;
        let mut state = self.lock();
        self.ensure_running(&mut state)?;
        let generation = running_generation(&state);
        let id = {
            let mut current = object.current.lock().unwrap_or_else(|p| p.into_inner());
            if current.0 != generation {
                let entry = object.entry.clone();
                match self
                    .request(
                        &mut state,
                        ToChild::Create { entry },
                        &format!("the creation of a `{}` object", object.entry),
                    )
                    .map_err(|f| f.error)?
                {
                    ToHost::Created(made) => *current = (generation, made?),
                    other => return Err(self.protocol_error(&other)),
                }
            }
            current.1
        };
        let name = object.method_name(method);
        match self
            .request(
                &mut state,
                ToChild::Call {
                    object: id,
                    method,
                    args,
                },
                &format!("a call to `{name}`"),
            )
            .map_err(|f| f.error)?
        {
            ToHost::Returned(result) => result,
            other => Err(self.protocol_error(&other)),
        }
    }

    /// Whether the library panicked (asked of the runner, if it runs).
    pub(crate) fn poisoned(&self) -> bool {
        if SERVING.with(|s| s.borrow().contains(&self.key())) {
            return false;
        }
        let mut state = self.lock();
        if !matches!(*state, State::Running(_)) {
            return false;
        }
        matches!(
            self.request(&mut state, ToChild::Poisoned, "a question"),
            Ok(ToHost::Poisoned(true))
        )
    }

    /// Sets the library's log level (not waited for).
    pub(crate) fn set_log_level(&self, level: u8) {
        if SERVING.with(|s| s.borrow().contains(&self.key())) {
            return;
        }
        if let State::Running(running) = &mut *self.lock() {
            let _ = wire::send(&mut running.writer, &ToChild::SetLogLevel { level });
        }
    }

    /// Runs the library's shutdown hook and lets the runner exit.
    pub(crate) fn shutdown(&self) -> Result<(), PluginError> {
        let mut state = self.lock();
        let result = match *state {
            State::Running(_) => {
                match self.request(&mut state, ToChild::Shutdown, "its shutdown") {
                    Ok(ToHost::ShutDown(result)) => result,
                    Ok(other) => Err(self.protocol_error(&other)),
                    Err(failure) => Err(failure.error),
                }
            }
            _ => Ok(()),
        };
        if let State::Running(running) = &mut *state {
            finish(&mut running.process);
        }
        *state = State::Closed;
        result
    }

    /// The runner's process id, while it runs.
    pub(crate) fn process_id(&self) -> Option<u32> {
        match &*self.lock() {
            State::Running(running) => Some(running.process.id()),
            _ => None,
        }
    }

    pub(super) fn key(&self) -> usize {
        self as *const Self as usize
    }

    pub(super) fn refuse_reentry(&self) -> Result<(), PluginError> {
        if SERVING.with(|s| s.borrow().contains(&self.key())) {
            return Err(PluginError::unsupported(format!(
                "a host service called by plugin library `{}` cannot call back into it while it waits for the service",
                self.library
            )));
        }
        Ok(())
    }

    /// Makes sure the runner runs: after a crash, restarts it if the policy
    /// says so and the backoff has passed.
    fn ensure_running(&self, state: &mut State) -> Result<(), PluginError> {
        let (cause, at, failures, generation) = match &*state {
            State::Running(_) => return Ok(()),
            State::Closed => {
                return Err(PluginError::new(
                    PluginErrorKind::Failed,
                    format!(
                        "plugin library `{}` was shut down with its host",
                        self.library
                    ),
                ))
            }
            State::Stopped(stopped) => (
                stopped.cause.clone(),
                stopped.at,
                stopped.failures,
                stopped.generation,
            ),
        };
        let not_running = |tail: String| {
            PluginError::new(
                cause.kind(),
                format!(
                    "plugin library `{}` is not running: {}{tail}",
                    self.library,
                    cause.message()
                ),
            )
        };
        let RestartPolicy::OnNextCall { backoff } = self.settings.restart else {
            return Err(not_running(
                "; the host does not restart it (restart policy: never)".to_owned(),
            ));
        };
        let wait = backoff.saturating_mul(1 << failures.saturating_sub(1).min(6));
        let waited = at.elapsed();
        if waited < wait {
            return Err(not_running(format!(
                "; it restarts on a call in {} ms",
                (wait - waited).as_millis().max(1)
            )));
        }
        log::info!(
            "{}: restarting the plugin's process ({}); objects dispensed before are made again, without their state",
            crate::display::path(&self.path),
            crate::display::controls_escaped(&cause.message())
        );
        match self.launch(state, generation + 1, failures) {
            Ok(_) => Ok(()),
            Err(failure) => {
                let error = failure.into_plugin_error();
                *state = State::Stopped(Stopped {
                    cause: error.clone(),
                    at: Instant::now(),
                    failures: failures + 1,
                    generation: generation + 1,
                });
                Err(error)
            }
        }
    }

    pub(super) fn release(&self, generation: u64, id: u64) {
        self.dropped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((generation, id));
        // Send it now if nobody is talking to the runner; else the next
        // request takes it along.
        if SERVING.with(|s| s.borrow().contains(&self.key())) {
            return;
        }
        if let Ok(mut state) = self.state.try_lock() {
            if let State::Running(running) = &mut *state {
                let _ = self.exchange_drops(running);
            }
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let State::Running(running) = &mut *self.lock() {
            let _ = running.process.kill();
            let _ = running.process.wait();
        }
    }
}

fn running_generation(state: &State) -> u64 {
    match state {
        State::Running(running) => running.generation,
        _ => 0,
    }
}
