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
    io::{BufReader, Read},
    path::PathBuf,
    sync::{atomic::AtomicU64, Mutex},
};

use plugboard_interface::{ErasedObject, Factory, PluginError, PluginLibraryRef};

use super::{
    callback::{logs_sent, LogPipe, LOGS},
    child_load::{load, same_interfaces},
    os::{self, Channel},
    wire::{self, Frame, Refusal, ToChild, ToHost},
};
use crate::builder::Config;

/// Whether this process was started as the runner of an isolated plugin
/// by a host that still runs.
pub(crate) fn requested() -> bool {
    std::env::var(os::RUNNER_VARIABLE).is_ok_and(|value| {
        value
            .split_once(':')
            .and_then(|(_, host)| host.parse::<u32>().ok())
            .is_some_and(os::started_by)
    })
}

/// The runner's state, on its main thread only.
struct Server {
    reader: BufReader<Channel>,
    writer: os::Writer,
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

pub(super) fn send(body: ToHost) -> bool {
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
pub(super) fn receive() -> ToChild {
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
    let Some(os::RunnerChannels {
        reader,
        writer,
        logs,
        lifeline,
        library,
    }) = os::runner_channels()
    else {
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
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    let hello = match wire::receive::<ToChild>(&mut reader, &mut buf) {
        Ok(Some(ToChild::Hello(hello))) => hello,
        _ => std::process::exit(2),
    };
    let refuse = |reader: BufReader<Channel>, mut writer: os::Writer, refusal: Refusal| -> ! {
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

/// One request of the host; the answer, if it takes one.
pub(super) fn handle(request: ToChild) -> Option<ToHost> {
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
