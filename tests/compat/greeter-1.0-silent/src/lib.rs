//! The demo `Greeter` interface 1.0 with a silent layout change: `greet`
//! gained a parameter, but `Interface::VERSION` still says 1.0.0.

#![allow(non_local_definitions)] // `#[sabi_trait]` expands to non-local impls.

use abi_stable::{
    sabi_trait,
    std_types::{RBox, RResult, RStr, RString},
};
use plugboard_interface::{HandshakeConfig, Interface, PluginError};

/// The demo application's handshake (unchanged across versions).
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig {
    cookie_key: "PLUGBOARD_DEMO_PLUGIN",
    cookie_value: "6f1c2a9e-greeter-kv-demo",
};

/// Says hello, several times.
#[sabi_trait]
pub trait Greeter: Send + Sync {
    /// Returns a greeting for `name`, repeated `times` times.
    #[sabi(last_prefix_field)]
    fn greet(&self, name: RStr<'_>, times: u32) -> RResult<RString, PluginError>;
}

/// A dispensed `Greeter` plugin object.
pub type GreeterBox = Greeter_TO<'static, RBox<()>>;

impl Interface for GreeterBox {
    const NAME: &'static str = "Greeter";
    // The mistake this fixture exists for: the layout changed, this did not.
    const VERSION: &'static str = "1.0.0";
}
