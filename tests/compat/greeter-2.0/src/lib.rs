//! The demo `Greeter` interface 2.0: a breaking change (`greet` takes a
//! style, `shout` is gone).

#![allow(non_local_definitions)] // `#[sabi_trait]` expands to non-local impls.

use abi_stable::{
    sabi_trait,
    std_types::{RBox, RResult, RStr, RString},
    StableAbi,
};
use plugboard_interface::{HandshakeConfig, Interface, PluginError};

/// The demo application's handshake (unchanged across versions).
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig {
    cookie_key: "PLUGBOARD_DEMO_PLUGIN",
    cookie_value: "6f1c2a9e-greeter-kv-demo",
};

/// How to greet.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// "Hello, X!"
    Plain,
    /// "HELLO, X!"
    Loud,
}

/// Says hello, in a style.
#[sabi_trait]
pub trait Greeter: Send + Sync {
    /// Returns a greeting for `name` in `style`.
    #[sabi(last_prefix_field)]
    fn greet(&self, name: RStr<'_>, style: Style) -> RResult<RString, PluginError>;
}

/// A dispensed `Greeter` plugin object.
pub type GreeterBox = Greeter_TO<'static, RBox<()>>;

impl Interface for GreeterBox {
    const NAME: &'static str = "Greeter";
    const VERSION: &'static str = "2.0.0";
}
