//! The demo plugin interfaces: `Greeter` and `KeyValue`.
//!
//! This crate plays the role of go-plugin's `shared/` package: the host and
//! every plugin depend on it, so both sides agree on the handshake and on the
//! interfaces. It is an ordinary user crate — a new interface never needs a
//! change in `plugboard-interface`.

// `#[sabi_trait]` expands to impls inside a const block, which rustc flags.
#![allow(non_local_definitions)]

use abi_stable::{
    sabi_trait,
    std_types::{RBox, ROption, RResult, RStr, RString, RVec},
};
use plugboard_interface::{HandshakeConfig, Interface, PluginError};

/// The handshake of the demo application, shared by its host and plugins.
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig {
    cookie_key: "PLUGBOARD_DEMO_PLUGIN",
    cookie_value: "6f1c2a9e-greeter-kv-demo",
};

/// The application protocol version the demo plugins speak.
pub const PROTOCOL_VERSION: u32 = 1;

/// Says hello: the classic go-plugin "basic" example.
///
/// Version history: 1.0 had `greet`; 1.1 added `shout` (optional: plugins
/// built against 1.0 still load, and `shout` then returns
/// [`PluginError::method_missing`]).
#[sabi_trait]
pub trait Greeter: Send + Sync {
    /// Returns a greeting for `name`.
    ///
    /// `last_prefix_field` marks the end of the methods every 1.x plugin has;
    /// it has been on `greet` since 1.0 and must never move.
    #[sabi(last_prefix_field)]
    fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError>;

    /// Returns a loud greeting for `name`. Since 1.1.
    fn shout(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
        let _ = name;
        RResult::RErr(PluginError::method_missing("shout"))
    }
}

/// A dispensed `Greeter` plugin object.
pub type GreeterBox = Greeter_TO<'static, RBox<()>>;

impl Interface for GreeterBox {
    const NAME: &'static str = "Greeter";
    const VERSION: &'static str = "1.1.0";
    const OPTIONAL_METHODS: &'static [(&'static str, &'static str)] = &[("shout", "1.1.0")];
}

/// A stateful key-value store.
///
/// Methods take `&self` so that one object can be shared between threads;
/// implementations keep their state behind a lock.
#[sabi_trait]
pub trait KeyValue: Send + Sync {
    /// Stores `value` under `key`, replacing any earlier value.
    fn put(&self, key: RStr<'_>, value: RStr<'_>) -> RResult<(), PluginError>;
    /// The value stored under `key`, if any.
    fn get(&self, key: RStr<'_>) -> RResult<ROption<RString>, PluginError>;
    /// Removes `key`; returns whether it was present.
    fn delete(&self, key: RStr<'_>) -> RResult<bool, PluginError>;
    /// All keys, sorted.
    ///
    /// The last method of 1.0: later minor versions add methods after it.
    #[sabi(last_prefix_field)]
    fn list(&self) -> RResult<RVec<RString>, PluginError>;
}

/// A dispensed `KeyValue` plugin object.
pub type KeyValueBox = KeyValue_TO<'static, RBox<()>>;

impl Interface for KeyValueBox {
    const NAME: &'static str = "KeyValue";
    const VERSION: &'static str = "1.0.0";
}

/// A helper the *host* offers plugins (go-plugin's bidirectional example):
/// the `counter` plugin asks the host to do its arithmetic.
#[sabi_trait]
pub trait AddHelper: Send + Sync {
    /// `a + b`, or an error on overflow.
    #[sabi(last_prefix_field)]
    fn sum(&self, a: i64, b: i64) -> RResult<i64, PluginError>;
}

/// The host's `AddHelper` service object.
pub type AddHelperBox = AddHelper_TO<'static, RBox<()>>;

impl Interface for AddHelperBox {
    const NAME: &'static str = "AddHelper";
    const VERSION: &'static str = "1.0.0";
}

/// The name under which demo hosts offer their [`AddHelper`].
pub const ADD_HELPER_SERVICE: &str = "add-helper";

/// Named counters; the plugin calls back into the host to add.
#[sabi_trait]
pub trait Counter: Send + Sync {
    /// Adds `delta` to counter `key` (starting at 0) and returns the total.
    fn add(&self, key: RStr<'_>, delta: i64) -> RResult<i64, PluginError>;
    /// The total of counter `key` (0 if never added to).
    #[sabi(last_prefix_field)]
    fn get(&self, key: RStr<'_>) -> RResult<i64, PluginError>;
}

/// A dispensed `Counter` plugin object.
pub type CounterBox = Counter_TO<'static, RBox<()>>;

impl Interface for CounterBox {
    const NAME: &'static str = "Counter";
    const VERSION: &'static str = "1.0.0";
}

/// The interface the benchmarks call (`cargo bench`, `host/benches/`): the
/// smallest possible method, and a small string-returning one.
#[sabi_trait]
pub trait Calc: Send + Sync {
    /// `a + b` (wrapping).
    fn add(&self, a: u64, b: u64) -> u64;
    /// `"Hello, {name}!"`.
    #[sabi(last_prefix_field)]
    fn greet(&self, name: RStr<'_>) -> RString;
}

/// A dispensed `Calc` plugin object.
pub type CalcBox = Calc_TO<'static, RBox<()>>;

impl Interface for CalcBox {
    const NAME: &'static str = "Calc";
    const VERSION: &'static str = "1.0.0";
}

/// The demo host's [`AddHelper`]: a checked addition. Hosts offer it to
/// plugins as the [`ADD_HELPER_SERVICE`]; it runs in the host.
pub struct HostAdder;

impl AddHelper for HostAdder {
    fn sum(&self, a: i64, b: i64) -> RResult<i64, PluginError> {
        a.checked_add(b)
            .ok_or_else(|| PluginError::failed(format!("{a} + {b} overflows")))
            .into()
    }
}

/// A new [`AddHelperBox`] around [`HostAdder`], for
/// `PluginHostBuilder::service`.
pub fn host_adder() -> AddHelperBox {
    AddHelperBox::from_value(HostAdder, abi_stable::sabi_trait::TD_Opaque)
}
