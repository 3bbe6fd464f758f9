//! What a host and the runner of an isolated plugin say to each other, and
//! how: `serde` messages written with `postcard`, each frame COBS-encoded
//! and ended by a zero byte (postcard's own framing for streams).
//!
//! Three channels: the control socket (requests and replies, both ways: the
//! host calls the plugin, the plugin calls the host's services), the log
//! pipe (the plugin's log records, child to host, never waited for), and
//! the child's standard error (raw text, forwarded line by line).

use std::io::{self, BufRead, Write};

use plugboard_interface::{MissingMethod, PluginError};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// The version of this protocol; host and runner must agree.
pub(crate) const PROTOCOL: u32 = 1;

/// The first message: what the runner loads, and how.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct Hello {
    /// [`PROTOCOL`].
    pub(crate) protocol: u32,
    /// The plugin file's path in the host (for messages).
    pub(crate) path: String,
    /// Where the runner finds the vetted bytes.
    pub(crate) library: LibrarySource,
    /// The file's metadata, in its text format, as the host vetted it.
    pub(crate) metadata: String,
    /// The negotiated application protocol version.
    pub(crate) app_protocol: u32,
    /// The host's name and version, as the plugin sees them.
    pub(crate) host_name: String,
    /// See `host_name`.
    pub(crate) host_version: String,
    /// `log::LevelFilter` as a number.
    pub(crate) max_log_level: u8,
    /// `PanicPolicy` as a number.
    pub(crate) panic_policy: u8,
    /// The interfaces the host registers: name, version and every method's
    /// signature, which the runner's own must equal.
    pub(crate) interfaces: Vec<InterfaceDigest>,
    /// The services the host offers, by name, with their interfaces.
    pub(crate) services: Vec<(String, InterfaceDigest)>,
}

/// Where the vetted bytes are.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) enum LibrarySource {
    /// A descriptor the runner inherited (a sealed memfd).
    Descriptor(i32),
    /// A private read-only copy.
    Path(String),
}

/// An interface as a host and a runner compare it.
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq, Clone)]
pub(crate) struct InterfaceDigest {
    pub(crate) name: String,
    pub(crate) version: String,
    /// `(name, since, signature)` of each method; empty for a hand-written
    /// interface.
    pub(crate) methods: Vec<(String, String, String)>,
}

/// Host to runner.
#[derive(Serialize, Deserialize, Debug)]
pub(crate) enum ToChild {
    /// Load the library (the first message).
    Hello(Box<Hello>),
    /// Make an object of the named plugin; answered with `Created`.
    Create { entry: String },
    /// Call a method; answered with `Returned`.
    Call {
        object: u64,
        method: u32,
        args: Vec<u8>,
    },
    /// Drop objects (not answered).
    Drop { objects: Vec<u64> },
    /// Change the library's log level (not answered).
    SetLogLevel { level: u8 },
    /// Ask whether the library has panicked; answered with `Poisoned`.
    Poisoned,
    /// Run the library's shutdown hook; answered with `ShutDown`, then the
    /// runner exits.
    Shutdown,
    /// The answer to `ServiceOpen`.
    ServiceOpened(Result<u64, PluginError>),
    /// The answer to `ServiceCall`.
    ServiceReturned(Result<Vec<u8>, PluginError>),
}

/// Runner to host, with how many log records the runner had sent when it
/// wrote it (the host forwards those before it goes on).
#[derive(Serialize, Deserialize, Debug)]
pub(crate) struct Frame {
    pub(crate) logs: u64,
    pub(crate) body: ToHost,
}

/// Runner to host.
#[derive(Serialize, Deserialize, Debug)]
pub(crate) enum ToHost {
    /// The library loaded and passed every check.
    Loaded(Box<Loaded>),
    /// The library was refused.
    Refused(Refusal),
    /// The answer to `Create`.
    Created(Result<u64, PluginError>),
    /// The answer to `Call`.
    Returned(Result<Vec<u8>, PluginError>),
    /// The answer to `Poisoned`.
    Poisoned(bool),
    /// The answer to `Shutdown`.
    ShutDown(Result<(), PluginError>),
    /// The plugin asks for one of the host's services (checked in the
    /// runner, against the same services the host offers).
    ServiceOpen { name: String },
    /// The plugin calls a service object.
    ServiceCall {
        object: u64,
        method: u32,
        args: Vec<u8>,
    },
    /// The plugin dropped service objects (not answered).
    ServiceDrop { objects: Vec<u64> },
}

/// What the runner found when it loaded the library.
#[derive(Serialize, Deserialize, Debug)]
pub(crate) struct Loaded {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) description: String,
    pub(crate) entries: Vec<LoadedEntry>,
    /// Microseconds of `dlopen`, the root-module layout check, the
    /// interface checks and init, in the runner.
    pub(crate) micros: [u64; 4],
}

/// One plugin of the loaded library.
#[derive(Serialize, Deserialize, Debug)]
pub(crate) struct LoadedEntry {
    pub(crate) name: String,
    pub(crate) interface: String,
    pub(crate) interface_version: String,
    /// For an interface the host registers: it passed, and lacks these
    /// methods. `None` for the others.
    pub(crate) registered: Option<Vec<(String, String)>>,
}

impl LoadedEntry {
    pub(crate) fn missing_methods(&self) -> Vec<MissingMethod> {
        self.registered
            .iter()
            .flatten()
            .map(|(name, since)| MissingMethod {
                name: name.clone(),
                since: since.clone(),
            })
            .collect()
    }
}

/// Why the runner refused the library: the refusals of the steps that run
/// there, as the host reports them in-process.
#[derive(Serialize, Deserialize, Debug)]
pub(crate) enum Refusal {
    OpenFailed {
        reason: String,
    },
    NotAPlugin,
    AbiStableMismatch {
        expected: String,
        found: String,
    },
    IncompatibleFramework {
        summary: String,
        details: String,
    },
    MetadataMismatch {
        reason: String,
    },
    BadEntry {
        plugin: String,
        reason: String,
    },
    /// A plugin cannot be used as an interface the host registers.
    Interface {
        plugin: String,
        interface: String,
        found: String,
        problem: InterfaceProblem,
    },
    InitFailed {
        reason: String,
    },
    /// Anything else (the runner itself could not go on).
    Runner {
        reason: String,
    },
}

/// Why a plugin cannot be used as a registered interface.
#[derive(Serialize, Deserialize, Debug)]
pub(crate) enum InterfaceProblem {
    /// Its major version differs.
    Version,
    /// Its layout or methods differ.
    Layout { summary: String, details: String },
}

/// One log record of the plugin.
#[derive(Serialize, Deserialize, Debug)]
pub(crate) struct LogLine {
    pub(crate) level: u8,
    pub(crate) target: String,
    pub(crate) message: String,
    pub(crate) module_path: Option<String>,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u32>,
}

/// Writes one message as a frame.
pub(crate) fn send<T: Serialize>(to: &mut impl Write, message: &T) -> io::Result<()> {
    let bytes = postcard::to_allocvec_cobs(message).map_err(io::Error::other)?;
    to.write_all(&bytes)?;
    to.flush()
}

/// Reads one frame; `Ok(None)` at the end of the stream.
pub(crate) fn receive<T: DeserializeOwned>(
    from: &mut impl BufRead,
    buf: &mut Vec<u8>,
) -> io::Result<Option<T>> {
    buf.clear();
    if from.read_until(0, buf)? == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&0) {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the stream ended inside a message",
        ));
    }
    postcard::from_bytes_cobs(buf)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_back_to_back() {
        let mut stream = Vec::new();
        let first = ToChild::Call {
            object: 7,
            method: 2,
            args: vec![0, 1, 0, 255],
        };
        send(&mut stream, &first).unwrap();
        send(&mut stream, &ToChild::Poisoned).unwrap();
        let mut reader = io::BufReader::new(&stream[..]);
        let mut buf = Vec::new();
        match receive::<ToChild>(&mut reader, &mut buf).unwrap() {
            Some(ToChild::Call {
                object,
                method,
                args,
            }) => assert_eq!((object, method, args), (7, 2, vec![0, 1, 0, 255])),
            other => panic!("got {other:?}"),
        }
        assert!(matches!(
            receive::<ToChild>(&mut reader, &mut buf).unwrap(),
            Some(ToChild::Poisoned)
        ));
        assert!(receive::<ToChild>(&mut reader, &mut buf).unwrap().is_none());
    }

    #[test]
    fn a_stream_cut_inside_a_frame_is_an_error() {
        let mut stream = Vec::new();
        send(&mut stream, &ToChild::Shutdown).unwrap();
        stream.pop();
        let mut reader = io::BufReader::new(&stream[..]);
        let error = receive::<ToChild>(&mut reader, &mut Vec::new()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }
}
