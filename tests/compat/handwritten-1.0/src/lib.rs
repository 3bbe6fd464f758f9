//! A hand-written `abi_stable` interface, as plugboard users wrote them
//! before `#[interface]`: version 1.0.

#![allow(non_local_definitions)] // `#[sabi_trait]` expands to non-local impls.

use abi_stable::{
    sabi_trait,
    std_types::{RBox, RResult, RStr, RString},
};
use plugboard_interface::{HandshakeConfig, Interface, PluginError};

/// The demo application's handshake.
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig {
    cookie_key: "PLUGBOARD_DEMO_PLUGIN",
    cookie_value: "6f1c2a9e-greeter-kv-demo",
};

/// Says hello.
#[sabi_trait]
pub trait HandGreeter: Send + Sync {
    /// Returns a greeting for `name`.
    #[sabi(last_prefix_field)]
    fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError>;
}

/// The trait object.
pub type HandGreeterBox = HandGreeter_TO<'static, RBox<()>>;

impl Interface for HandGreeterBox {
    const NAME: &'static str = "HandGreeter";
    const VERSION: &'static str = "1.0.0";
}
