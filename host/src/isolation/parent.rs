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
    collections::{HashMap, VecDeque},
    fs::File,
    io::{self, BufRead, BufReader},
    os::{fd::OwnedFd, unix::net::UnixStream},
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use plugboard_interface::{
    metadata::Metadata, Link, MethodTable, MissingMethod, PluginError, PluginErrorKind, Served,
};

use super::{
    os,
    wire::{self, Frame, Hello, InterfaceProblem, LibrarySource, Loaded, Refusal, ToChild, ToHost},
    RestartPolicy, Settings,
};
use crate::{
    check::InterfaceSpec, private_copy::PrivateCopy, services::Shared, DispenseError, LayoutReport,
    LoadError, LoadErrorKind,
};

/// How long a runner that closed its channel may take to finish exiting
/// before it is killed, and how long the forwarders may take to drain.
const GRACE: Duration = Duration::from_secs(2);

/// An isolated plugin library: its runner process (while it runs) and how
/// to start it again.
pub(crate) struct Child {
    library: String,
    path: PathBuf,
    runner: PathBuf,
    settings: Settings,
    /// The vetted bytes, kept for restarts.
    copy: PrivateCopy,
    hello: Hello,
    specs: Vec<InterfaceSpec>,
    shared: Arc<Shared>,
    state: Mutex<State>,
    /// Objects dropped while the runner was busy: (generation, id).
    dropped: Mutex<Vec<(u64, u64)>>,
}

enum State {
    Running(Box<Running>),
    Stopped(Stopped),
    Closed,
}

struct Stopped {
    /// What happened, as the later calls report it.
    cause: PluginError,
    at: Instant,
    /// Consecutive failed starts or crashes.
    failures: u32,
    /// The generation that ended.
    generation: u64,
}

struct Running {
    process: std::process::Child,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    buf: Vec<u8>,
    generation: u64,
    failures: u32,
    _lifeline: OwnedFd,
    logs: Arc<Forwarded>,
    stderr: Arc<Tail>,
    services: HashMap<u64, Served>,
    next_service: u64,
}

/// A runner that stopped answering: the error for calls, and what happened
/// in a few words (for a refused load).
#[derive(Clone)]
struct Failure {
    error: PluginError,
    detail: String,
}

/// Why a runner stopped answering.
enum Broken {
    TimedOut,
    Ended(io::Error),
}

thread_local! {
    /// The runners this thread is talking to (serving their calls to host
    /// services): a service that calls back into the same plugin gets an
    /// error instead of a deadlock.
    static SERVING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

impl Child {
    /// Starts a runner for the vetted `copy` of `path` and has it load the
    /// library; the runner's report, or why it refused.
    pub(crate) fn start(
        path: &Path,
        copy: PrivateCopy,
        metadata: &Metadata,
        protocol: u32,
        config: &crate::builder::Config,
    ) -> Result<(Arc<Child>, Loaded), LoadError> {
        let runner = match &config.isolation.runner {
            Some(runner) => runner.clone(),
            None => std::env::current_exe().map_err(|e| {
                LoadError::new(
                    path,
                    LoadErrorKind::Isolation {
                        reason: format!("cannot find this program to run the plugin in: {e}"),
                    },
                )
            })?,
        };
        let library = match copy.descriptor() {
            Some(_) => LibrarySource::Descriptor(os::LIBRARY_FD),
            None => LibrarySource::Path(copy.path().to_string_lossy().into_owned()),
        };
        let hello = Hello {
            protocol: wire::PROTOCOL,
            path: path.display().to_string(),
            library,
            metadata: metadata.to_text(),
            app_protocol: protocol,
            host_name: config.shared.host_name.clone(),
            host_version: config.shared.host_version.clone(),
            max_log_level: log::max_level() as u8,
            panic_policy: config.panic_policy as u8,
            interfaces: super::digests(&config.specs),
            services: config.shared.service_digests(),
        };
        let child = Arc::new(Child {
            library: metadata.library.clone(),
            path: path.to_owned(),
            runner,
            settings: config.isolation.clone(),
            copy,
            hello,
            specs: config.specs.clone(),
            shared: Arc::clone(&config.shared),
            state: Mutex::new(State::Closed),
            dropped: Mutex::new(Vec::new()),
        });
        let loaded = {
            let mut state = child.lock();
            child
                .launch(&mut state, 1, 0)
                .map_err(|failure| failure.into_load_error(path))?
        };
        Ok((child, loaded))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the runner and has it load the library (`state` becomes
    /// `Running`, or `Stopped` with the reason).
    fn launch(
        &self,
        state: &mut State,
        generation: u64,
        failures: u32,
    ) -> Result<Loaded, LaunchFailure> {
        let started = os::start(
            &self.runner,
            self.copy.descriptor(),
            self.settings.memory_limit,
        )
        .map_err(|e| {
            LaunchFailure::Refused(LoadErrorKind::Isolation {
                reason: format!(
                    "cannot start {} to run the plugin in: {e}",
                    crate::display::path(&self.runner)
                ),
            })
        })?;
        if let Err(e) = started.control.set_read_timeout(self.settings.call_timeout) {
            return Err(LaunchFailure::Refused(LoadErrorKind::Isolation {
                reason: format!("cannot set up the channel to the plugin's process: {e}"),
            }));
        }
        let logs = Forwarded::start(started.logs, &self.library, &self.shared);
        let stderr = Tail::start(started.stderr, &self.library);
        let writer = started.control.try_clone().map_err(|e| {
            LaunchFailure::Refused(LoadErrorKind::Isolation {
                reason: format!("cannot set up the channel to the plugin's process: {e}"),
            })
        })?;
        *state = State::Running(Box::new(Running {
            process: started.process,
            reader: BufReader::new(started.control),
            writer,
            buf: Vec::new(),
            generation,
            failures,
            _lifeline: started.lifeline,
            logs,
            stderr,
            services: HashMap::new(),
            next_service: 1,
        }));
        match self.request(
            state,
            ToChild::Hello(Box::new(self.hello.clone())),
            "its load",
        ) {
            Ok(ToHost::Loaded(loaded)) => Ok(*loaded),
            Ok(ToHost::Refused(refusal)) => {
                self.stop(state, None);
                Err(LaunchFailure::Refused(refusal_kind(
                    refusal,
                    &self.specs,
                    &self.path,
                )))
            }
            Ok(other) => {
                let error = self.protocol_error(&other);
                self.stop(state, Some(error.clone()));
                Err(LaunchFailure::Failed(Failure {
                    detail: error.message().to_owned(),
                    error,
                }))
            }
            Err(failure) => Err(LaunchFailure::Failed(failure)),
        }
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
    fn call(
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

    fn key(&self) -> usize {
        self as *const Self as usize
    }

    fn refuse_reentry(&self) -> Result<(), PluginError> {
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
            self.path.display(),
            cause.message()
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

    /// Sends `request` and reads until its answer, serving the runner's
    /// calls to host services meanwhile. If the runner stops answering, it
    /// is stopped, `state` becomes `Stopped` and the error says why.
    fn request(
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

    fn exchange(&self, running: &mut Running, request: ToChild) -> Result<ToHost, Broken> {
        let dropped: Vec<u64> = {
            let mut dropped = self.dropped.lock().unwrap_or_else(|p| p.into_inner());
            let generation = running.generation;
            let mine = dropped
                .iter()
                .filter(|(g, _)| *g == generation)
                .map(|(_, id)| *id)
                .collect();
            dropped.clear();
            mine
        };
        if !dropped.is_empty() {
            wire::send(&mut running.writer, &ToChild::Drop { objects: dropped })
                .map_err(Broken::Ended)?;
        }
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

    fn open_service(&self, running: &mut Running, name: &str) -> Result<u64, PluginError> {
        let served = self.shared.serve(name)?;
        let id = running.next_service;
        running.next_service += 1;
        running.services.insert(id, served);
        Ok(id)
    }

    /// Stops the runner (if it still runs) and says why, for the calls that
    /// follow.
    fn stop(&self, state: &mut State, cause: Option<PluginError>) {
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
    fn broken(&self, running: &mut Running, broken: Broken, during: &str) -> Failure {
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

    fn protocol_error(&self, answer: &ToHost) -> PluginError {
        PluginError::failed(format!(
            "the process of plugin library `{}` answered out of turn ({answer:?})",
            self.library
        ))
    }

    fn release(&self, generation: u64, id: u64) {
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

    fn exchange_drops(&self, running: &mut Running) -> io::Result<()> {
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

/// Lets a runner that was asked to stop exit, or kills it.
fn finish(process: &mut std::process::Child) {
    if wait_briefly(process).is_none() {
        let _ = process.kill();
        let _ = process.wait();
    }
}

/// The runner's exit status, if it ends within [`GRACE`].
fn wait_briefly(process: &mut std::process::Child) -> Option<std::process::ExitStatus> {
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

/// Why a runner could not be started or load the library.
enum LaunchFailure {
    /// The runner refused the library, as an in-process load would.
    Refused(LoadErrorKind),
    /// The runner crashed or timed out.
    Failed(Failure),
}

impl LaunchFailure {
    fn into_load_error(self, path: &Path) -> LoadError {
        let kind = match self {
            Self::Refused(kind) => kind,
            Self::Failed(Failure { error, detail }) => match error.kind() {
                PluginErrorKind::TimedOut => LoadErrorKind::TimedOut { reason: detail },
                PluginErrorKind::Crashed => LoadErrorKind::Crashed { reason: detail },
                _ => LoadErrorKind::Isolation { reason: detail },
            },
        };
        LoadError::new(path, kind)
    }

    fn into_plugin_error(self) -> PluginError {
        match self {
            Self::Refused(kind) => PluginError::failed(format!(
                "the plugin's process could not load it again: {kind}"
            )),
            Self::Failed(failure) => failure.error,
        }
    }
}

/// The load refusal a runner reported, as the host's own kind.
fn refusal_kind(refusal: Refusal, specs: &[InterfaceSpec], path: &Path) -> LoadErrorKind {
    match refusal {
        Refusal::OpenFailed { reason } => LoadErrorKind::OpenFailed { reason },
        Refusal::NotAPlugin => LoadErrorKind::NotAPlugin,
        Refusal::AbiStableMismatch { expected, found } => {
            LoadErrorKind::AbiStableMismatch { expected, found }
        }
        Refusal::IncompatibleFramework { summary, details } => {
            LoadErrorKind::IncompatibleFramework { summary, details }
        }
        Refusal::MetadataMismatch { reason } => LoadErrorKind::MetadataMismatch { reason },
        Refusal::BadEntry { plugin, reason } => LoadErrorKind::BadEntry { plugin, reason },
        Refusal::Interface {
            plugin,
            interface,
            found,
            problem,
        } => {
            let Some(spec) = specs.iter().find(|s| s.name == interface) else {
                return LoadErrorKind::Isolation {
                    reason: format!("the plugin's process refused plugin `{plugin}` for an interface this host does not register ({interface})"),
                };
            };
            let path = path.to_owned();
            LoadErrorKind::IncompatibleInterface(match problem {
                InterfaceProblem::Version => DispenseError::IncompatibleVersion {
                    plugin,
                    path,
                    interface: spec.name,
                    expected: spec.version,
                    found,
                },
                InterfaceProblem::Layout { summary, details } => DispenseError::LayoutMismatch {
                    plugin,
                    path,
                    interface: spec.name,
                    expected: spec.version,
                    found: found.into_boxed_str(),
                    report: Box::new(LayoutReport { summary, details }),
                },
            })
        }
        Refusal::InitFailed { reason } => LoadErrorKind::InitFailed { reason },
        Refusal::Runner { reason } => LoadErrorKind::Isolation { reason },
    }
}

/// A plugin object in a runner, as the host's `Remote` reaches it.
pub(crate) struct RemoteObject {
    child: Arc<Child>,
    entry: String,
    methods: &'static MethodTable,
    /// The methods the plugin lacks (built against an older minor): calls
    /// to them do not travel.
    missing: Vec<String>,
    /// The runner generation the object was made in, and its id there.
    current: Mutex<(u64, u64)>,
}

impl RemoteObject {
    /// A new object of plugin `entry`, whose interface has `methods`.
    pub(crate) fn create(
        child: &Arc<Child>,
        entry: &str,
        methods: &'static MethodTable,
        missing: &[MissingMethod],
    ) -> Result<Self, DispenseError> {
        let made = child
            .create(entry)
            .map_err(|error| DispenseError::FactoryFailed {
                plugin: entry.to_owned(),
                path: child.path.clone(),
                error,
            })?;
        Ok(Self {
            child: Arc::clone(child),
            entry: entry.to_owned(),
            methods,
            missing: missing.iter().map(|m| m.name.clone()).collect(),
            current: Mutex::new(made),
        })
    }

    fn method_name(&self, method: u32) -> &'static str {
        let methods: &'static [plugboard_interface::MethodInfo] = self.methods.methods.as_slice();
        methods
            .get(method as usize)
            .map_or("an unknown method", |m| m.name.as_str())
    }
}

impl Link for RemoteObject {
    fn call(&self, method: u32, args: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        let name = self.method_name(method);
        if self.missing.iter().any(|m| m == name) {
            return Err(PluginError::method_missing(name));
        }
        self.child.call(self, method, args)
    }
}

impl Drop for RemoteObject {
    fn drop(&mut self) {
        let (generation, id) = *self.current.get_mut().unwrap_or_else(|p| p.into_inner());
        self.child.release(generation, id);
    }
}

/// The forwarder of a runner's log records: how many it has passed on.
struct Forwarded {
    count: Mutex<(u64, bool)>,
    changed: Condvar,
}

impl Forwarded {
    fn start(pipe: File, library: &str, shared: &Arc<Shared>) -> Arc<Self> {
        let this = Arc::new(Self {
            count: Mutex::new((0, false)),
            changed: Condvar::new(),
        });
        let me = Arc::clone(&this);
        let library = library.to_owned();
        let shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name(format!("plugboard-logs-{library}"))
            .spawn(move || {
                let mut reader = BufReader::new(pipe);
                let mut buf = Vec::new();
                while let Ok(Some(line)) = wire::receive::<wire::LogLine>(&mut reader, &mut buf) {
                    shared.emit(
                        &library,
                        line.level,
                        &line.target,
                        &line.message,
                        line.module_path.as_deref(),
                        line.file.as_deref(),
                        line.line,
                    );
                    me.advance(false);
                }
                me.advance(true);
            });
        if spawned.is_err() {
            this.advance(true);
        }
        this
    }

    fn advance(&self, ended: bool) {
        let mut count = self.count.lock().unwrap_or_else(|p| p.into_inner());
        if ended {
            count.1 = true;
        } else {
            count.0 += 1;
        }
        self.changed.notify_all();
    }

    /// Waits until `n` records were forwarded (or the pipe ended).
    fn wait_for(&self, n: u64) {
        let deadline = Instant::now() + GRACE;
        let mut count = self.count.lock().unwrap_or_else(|p| p.into_inner());
        while count.0 < n && !count.1 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return;
            };
            count = match self.changed.wait_timeout(count, left) {
                Ok((count, _)) => count,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

/// A runner's standard error: forwarded line by line to the host's logger,
/// the last lines kept for the report of a crash.
struct Tail {
    state: Mutex<(VecDeque<String>, bool)>,
    changed: Condvar,
}

impl Tail {
    const KEEP: usize = 4;

    fn start(pipe: File, library: &str) -> Arc<Self> {
        let this = Arc::new(Self {
            state: Mutex::new((VecDeque::new(), false)),
            changed: Condvar::new(),
        });
        let me = Arc::clone(&this);
        let target = format!("plugin::{library}::stderr");
        let spawned = std::thread::Builder::new()
            .name(format!("plugboard-stderr-{library}"))
            .spawn(move || {
                let mut reader = BufReader::new(pipe);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                    if text.is_empty() {
                        continue;
                    }
                    log::warn!(target: &target, "{text}");
                    let mut state = me.state.lock().unwrap_or_else(|p| p.into_inner());
                    if state.0.len() == Self::KEEP {
                        state.0.pop_front();
                    }
                    state.0.push_back(text);
                }
                me.state.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
                me.changed.notify_all();
            });
        if spawned.is_err() {
            this.state.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
        }
        this
    }

    /// Waits (at most `limit`) for the end of the runner's standard error.
    fn wait_done(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while !state.1 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return;
            };
            state = match self.changed.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(p) => p.into_inner().0,
            };
        }
    }

    fn last_lines(&self) -> Vec<String> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0.iter().cloned().collect()
    }
}
