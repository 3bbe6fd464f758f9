//! The runner of an isolated plugin: the host's own program, started again
//! with the runner's channels, turned into a server for one library by
//! [`PluginHostBuilder::build`](crate::PluginHostBuilder::build).
//!
//! It loads the vetted bytes the host hands over with the same steps as an
//! in-process load (the root module's layout, the loaded library against
//! its metadata, the registered interfaces, init), reports the outcome, and
//! then serves the host's requests one at a time on its main thread: make
//! an object, call a method (through the plugin's own serialized invoke, so
//! it needs no interface type), drop objects, shut down. A plugin's calls to
//! host services go back to the host on the same channel while the host
//! waits for the call that made them.

use std::{
    cell::RefCell,
    collections::HashMap,
    fs::File,
    io::{BufReader, Read},
    os::unix::net::UnixStream,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::Instant,
};

use plugboard_interface::{
    metadata, ErasedObject, Factory, HostContext, Link, LogRecord, PanicPolicy, PluginError,
    PluginLibraryRef, Remote,
};

use super::{
    os,
    wire::{
        self, Frame, Hello, LibrarySource, Loaded, LoadedEntry, LogLine, Refusal, ToChild, ToHost,
    },
};
use crate::{
    builder::Config, check, handshake, load, private_copy::PrivateCopy, services, LoadError,
    LoadErrorKind,
};

/// Whether this process was started as the runner of an isolated plugin
/// by a host that still runs.
pub(crate) fn requested() -> bool {
    std::env::var(os::RUNNER_VARIABLE).is_ok_and(|value| {
        value
            .split_once(':')
            .and_then(|(_, host)| host.parse::<u32>().ok())
            == Some(std::os::unix::process::parent_id())
    })
}

/// The log pipe to the host, and how many records went through it.
struct LogPipe {
    pipe: Mutex<File>,
    sent: AtomicU64,
}

static LOGS: OnceLock<LogPipe> = OnceLock::new();

/// How many log records have been sent to the host.
fn logs_sent() -> u64 {
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

/// The runner's state, on its main thread only.
struct Server {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    buf: Vec<u8>,
    root: PluginLibraryRef,
    /// The factories of the plugins the host may dispense (those of the
    /// interfaces it registers, which passed their checks here).
    factories: HashMap<String, Factory>,
    objects: HashMap<u64, ErasedObject>,
    next: u64,
}

thread_local! {
    static SERVER: RefCell<Option<Server>> = const { RefCell::new(None) };
}

fn with_server<R>(f: impl FnOnce(&mut Server) -> R) -> Option<R> {
    SERVER.with(|server| server.borrow_mut().as_mut().map(f))
}

fn send(body: ToHost) -> bool {
    with_server(|s| {
        wire::send(
            &mut s.writer,
            &Frame {
                logs: logs_sent(),
                body,
            },
        )
        .is_ok()
    })
    .unwrap_or(false)
}

/// The next message from the host; the runner ends when the host has gone.
fn receive() -> ToChild {
    let message = with_server(|s| wire::receive::<ToChild>(&mut s.reader, &mut s.buf));
    match message {
        Some(Ok(Some(message))) => message,
        // The host closed the channel (or died): nothing more to do.
        _ => std::process::exit(0),
    }
}

/// Serves one isolated plugin library for the host that started this
/// process, then exits. `config` is this program's host configuration,
/// which must register the same interfaces and services as the host's.
pub(crate) fn serve(config: Config) -> ! {
    let Some((control, logs, lifeline, library)) = os::runner_channels() else {
        eprintln!("plugboard runner: this program was not started by a plugboard host");
        std::process::exit(2);
    };
    // The host's death closes the lifeline: the runner ends, even while a
    // call spins.
    let _ = std::thread::Builder::new()
        .name("plugboard-lifeline".to_owned())
        .spawn(move || {
            let mut lifeline = lifeline;
            let _ = lifeline.read(&mut [0u8; 1]);
            os::exit_now();
        });
    let _ = LOGS.set(LogPipe {
        pipe: Mutex::new(logs),
        sent: AtomicU64::new(0),
    });
    let writer = match control.try_clone() {
        Ok(writer) => writer,
        Err(e) => {
            eprintln!("plugboard runner: cannot use the channel to the host: {e}");
            std::process::exit(2);
        }
    };
    let mut reader = BufReader::new(control);
    let mut buf = Vec::new();
    let hello = match wire::receive::<ToChild>(&mut reader, &mut buf) {
        Ok(Some(ToChild::Hello(hello))) => hello,
        _ => std::process::exit(2),
    };
    let refuse = |reader: BufReader<UnixStream>, mut writer: UnixStream, refusal: Refusal| -> ! {
        let _ = wire::send(
            &mut writer,
            &Frame {
                logs: logs_sent(),
                body: ToHost::Refused(refusal),
            },
        );
        drop(reader);
        std::process::exit(0);
    };
    if let Err(reason) = same_interfaces(&hello, &config) {
        refuse(reader, writer, Refusal::Runner { reason });
    }
    let path = PathBuf::from(&hello.path);
    match load(&hello, &config, &path, library) {
        Ok((root, loaded, factories)) => {
            SERVER.with(|server| {
                *server.borrow_mut() = Some(Server {
                    reader,
                    writer,
                    buf,
                    root,
                    factories,
                    objects: HashMap::new(),
                    next: 1,
                })
            });
            send(ToHost::Loaded(Box::new(loaded)));
            loop {
                let request = receive();
                let shutdown = matches!(request, ToChild::Shutdown);
                if let Some(answer) = handle(request) {
                    send(answer);
                }
                if shutdown {
                    std::process::exit(0);
                }
            }
        }
        Err(error) => refuse(reader, writer, super::refusal::refusal(error)),
    }
}

/// Checks that this program registers the interfaces and services the host
/// does, in the same versions (else calls would not mean the same).
fn same_interfaces(hello: &Hello, config: &Config) -> Result<(), String> {
    if hello.protocol != wire::PROTOCOL {
        return Err(format!(
            "the runner speaks isolation protocol {}, the host {}",
            wire::PROTOCOL,
            hello.protocol
        ));
    }
    let mine = super::digests(&config.specs);
    for theirs in &hello.interfaces {
        match mine.iter().find(|m| m.name == theirs.name) {
            Some(m) if m == theirs => {}
            Some(m) => {
                return Err(format!(
                    "the runner program registers {} {}, the host {} {}: run plugins in a build of the host's own program",
                    m.name, m.version, theirs.name, theirs.version
                ))
            }
            None => {
                return Err(format!(
                    "the runner program does not register {}, which the host does: the runner must be the host's own program, or built with the same host configuration",
                    theirs.name
                ))
            }
        }
    }
    let my_services = config.shared.service_digests();
    for (name, theirs) in &hello.services {
        if !my_services.iter().any(|(n, d)| n == name && d == theirs) {
            return Err(format!(
                "the runner program does not offer the host's service `{name}` ({} {}) in the same version",
                theirs.name, theirs.version
            ));
        }
    }
    Ok(())
}

type Outcome = (PluginLibraryRef, Loaded, HashMap<String, Factory>);

/// The in-process load steps, run here on the bytes the host vetted.
fn load(
    hello: &Hello,
    config: &Config,
    path: &Path,
    library: Option<File>,
) -> Result<Outcome, LoadError> {
    let metadata = metadata::parse(hello.metadata.as_bytes()).map_err(|e| {
        LoadError::new(
            path,
            LoadErrorKind::BadMetadata {
                reason: e.to_string(),
            },
        )
    })?;
    let copy = private_copy(&hello.library, library)
        .map_err(|reason| LoadError::new(path, LoadErrorKind::Isolation { reason }))?;
    let mut clock = Instant::now();
    let mut lap = || {
        let now = Instant::now();
        let micros = (now - clock).as_micros() as u64;
        clock = now;
        micros
    };
    let opened = load::open(path, copy)?;
    let dlopen = opened.dlopen.as_micros() as u64;
    let layout = lap().saturating_sub(dlopen);
    let entries = handshake::confirm(path, &opened.root, &metadata, hello.app_protocol)?;
    let registered = check::registered(path, entries, &config.specs)?;
    let interfaces = lap();
    let shared = Arc::new(
        config
            .shared
            .for_runner(&hello.host_name, &hello.host_version),
    );
    let panic_policy = if hello.panic_policy == PanicPolicy::RefuseAfterPanic as u8 {
        PanicPolicy::RefuseAfterPanic
    } else {
        PanicPolicy::KeepServing
    };
    let meta = opened.root.metadata();
    load::init(
        path,
        &opened,
        HostContext {
            services: services::for_runner(meta.name.as_str(), &shared),
            max_log_level: hello.max_log_level,
            panic_policy,
        },
    )?;
    let init = lap();
    let mut factories = HashMap::new();
    let entries: Vec<LoadedEntry> = entries
        .iter()
        .zip(&registered)
        .map(|(entry, passed)| {
            if passed.is_some() && entry.methods().is_some() {
                factories.insert(entry.name().to_owned(), entry.factory());
            }
            LoadedEntry {
                name: entry.name().to_owned(),
                interface: entry.interface().to_owned(),
                interface_version: entry.interface_version().to_owned(),
                registered: passed.as_ref().map(|(_, missing)| {
                    missing
                        .iter()
                        .map(|m| (m.name.clone(), m.since.clone()))
                        .collect()
                }),
            }
        })
        .collect();
    let loaded = Loaded {
        name: meta.name.to_string(),
        version: meta.version.to_string(),
        description: meta.description.to_string(),
        entries,
        micros: [dlopen, layout, interfaces, init],
    };
    Ok((opened.root, loaded, factories))
}

/// The private copy the host handed over.
fn private_copy(source: &LibrarySource, library: Option<File>) -> Result<PrivateCopy, String> {
    match (source, library) {
        #[cfg(target_os = "linux")]
        (LibrarySource::Descriptor(_), Some(file)) => Ok(PrivateCopy::inherited(file)),
        (LibrarySource::Path(path), _) => Ok(PrivateCopy::borrowed(PathBuf::from(path))),
        _ => Err("the host's copy of the library did not reach its process".to_owned()),
    }
}

/// One request of the host; the answer, if it takes one.
fn handle(request: ToChild) -> Option<ToHost> {
    match request {
        ToChild::Create { entry } => Some(ToHost::Created(create(&entry))),
        ToChild::Call {
            object,
            method,
            args,
        } => {
            let taken = with_server(|s| s.objects.remove(&object)).flatten();
            let Some(mut taken) = taken else {
                return Some(ToHost::Returned(Err(PluginError::failed(
                    "the plugin object is gone (or busy in another call)",
                ))));
            };
            let result = taken.invoke(method, &args);
            with_server(|s| s.objects.insert(object, taken));
            Some(ToHost::Returned(result))
        }
        ToChild::Drop { objects } => {
            let dropped: Vec<ErasedObject> = with_server(|s| {
                objects
                    .iter()
                    .filter_map(|id| s.objects.remove(id))
                    .collect()
            })
            .unwrap_or_default();
            // Outside the borrow: a destructor may call host services.
            drop(dropped);
            None
        }
        ToChild::SetLogLevel { level } => {
            if let Some(set) = with_server(|s| s.root.set_max_log_level()) {
                set(level);
            }
            None
        }
        ToChild::Poisoned => {
            let poisoned = with_server(|s| s.root.poisoned()).is_some_and(|f| f());
            Some(ToHost::Poisoned(poisoned))
        }
        ToChild::Shutdown => {
            let shutdown = with_server(|s| s.root.shutdown());
            Some(ToHost::ShutDown(
                shutdown.map_or(Ok(()), |f| f().into_result()),
            ))
        }
        ToChild::Hello(_) | ToChild::ServiceOpened(_) | ToChild::ServiceReturned(_) => None,
    }
}

fn create(entry: &str) -> Result<u64, PluginError> {
    let factory = with_server(|s| s.factories.get(entry).copied())
        .flatten()
        .ok_or_else(|| {
            PluginError::failed(format!(
                "no plugin `{entry}` of a registered #[interface] trait in this library"
            ))
        })?;
    // SAFETY: only factories of entries whose `#[interface]` method table
    // passed the registered interface's checks in this process are kept
    // (see `load`); they write a `RawObject`.
    let object = unsafe { ErasedObject::from_factory(factory) }?;
    Ok(with_server(|s| {
        let id = s.next;
        s.next += 1;
        s.objects.insert(id, object);
        id
    })
    .unwrap_or(0))
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
