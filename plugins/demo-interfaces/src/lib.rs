//! The demo application's plugin interfaces and handshake.
//!
//! This crate plays the role of go-plugin's `shared/` package: the host and
//! every plugin depend on it, so both sides agree on the handshake and on the
//! interfaces. It is an ordinary user crate, written in plain Rust: a new
//! interface never needs a change in `plugboard-interface`.

use plugboard_interface::{interface, HandshakeConfig, PluginError};

/// The handshake of the demo application, shared by its host and plugins.
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig {
    cookie_key: "PLUGBOARD_DEMO_PLUGIN",
    cookie_value: "6f1c2a9e-greeter-kv-demo",
};

/// The application protocol version the demo plugins speak.
pub const PROTOCOL_VERSION: u32 = 1;

/// Says hello: the classic go-plugin "basic" example.
///
/// Version history: 1.0 had `greet`; 1.1 added `shout`. Plugins built
/// against 1.0 still load, and `shout` on them reports `MethodMissing`.
#[interface(version = "1.1.0")]
pub trait Greeter: Send + Sync {
    /// Returns a greeting for `name`.
    fn greet(&self, name: &str) -> Result<String, PluginError>;

    /// Returns a loud greeting for `name`. Plugins that do not shout keep
    /// this default.
    #[since("1.1.0")]
    fn shout(&self, name: &str) -> Result<String, PluginError> {
        let _ = name;
        Err(PluginError::unsupported("this greeter does not shout"))
    }
}

/// A stateful key-value store.
///
/// Methods take `&self` so that one object can be shared between threads;
/// implementations keep their state behind a lock.
#[interface(version = "1.0.0")]
pub trait KeyValue: Send + Sync {
    /// Stores `value` under `key`, replacing any earlier value.
    fn put(&self, key: &str, value: &str) -> Result<(), PluginError>;
    /// The value stored under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<String>, PluginError>;
    /// Removes `key`; returns whether it was present.
    fn delete(&self, key: &str) -> Result<bool, PluginError>;
    /// All keys, sorted.
    fn list(&self) -> Result<Vec<String>, PluginError>;
}

/// A helper the *host* offers plugins (go-plugin's bidirectional example):
/// the `counter` plugin asks the host to do its arithmetic.
#[interface(version = "1.0.0")]
pub trait AddHelper: Send + Sync {
    /// `a + b`, or an error on overflow.
    fn sum(&self, a: i64, b: i64) -> Result<i64, PluginError>;
}

/// The name under which demo hosts offer their [`AddHelper`].
pub const ADD_HELPER_SERVICE: &str = "add-helper";

/// Named counters; the plugin calls back into the host to add.
#[interface(version = "1.0.0")]
pub trait Counter: Send + Sync {
    /// Adds `delta` to counter `key` (starting at 0) and returns the total.
    fn add(&self, key: &str, delta: i64) -> Result<i64, PluginError>;
    /// The total of counter `key` (0 if never added to).
    fn get(&self, key: &str) -> Result<i64, PluginError>;
}

/// The interface the benchmarks call (`cargo bench`, `host/benches/`): the
/// smallest possible method, a fallible one, and a string-returning one.
#[interface(version = "1.0.0")]
pub trait Calc: Send + Sync {
    /// `a + b` (wrapping).
    fn add(&self, a: u64, b: u64) -> u64;
    /// `a + b`, or an error on overflow.
    fn checked_add(&self, a: u64, b: u64) -> Result<u64, PluginError>;
    /// `"Hello, {name}!"`.
    fn greet(&self, name: &str) -> String;
}

/// The demo host's [`AddHelper`]: a checked addition. Hosts offer it to
/// plugins as the [`ADD_HELPER_SERVICE`]; it runs in the host.
pub struct HostAdder;

impl AddHelper for HostAdder {
    fn sum(&self, a: i64, b: i64) -> Result<i64, PluginError> {
        a.checked_add(b)
            .ok_or_else(|| PluginError::failed(format!("{a} + {b} overflows")))
    }
}
