//! A plugin built against "plugboard-interface 0.1.1", whose root module has
//! one more trailing field than the host's. Its own small interface (`Ping`)
//! keeps it independent of the demo crate, which links the host's
//! plugboard-interface.

#![allow(non_local_definitions)] // `#[sabi_trait]` expands to non-local impls.

use abi_stable::{
    sabi_trait,
    sabi_trait::TD_Opaque,
    std_types::{RBox, RString},
};
use plugboard_interface::{export_plugins, HandshakeConfig, Interface};

/// Answers pings.
#[sabi_trait]
pub trait Ping: Send + Sync {
    /// "pong".
    #[sabi(last_prefix_field)]
    fn ping(&self) -> RString;
}

/// The trait object.
pub type PingBox = Ping_TO<'static, RBox<()>>;

impl Interface for PingBox {
    const NAME: &'static str = "Ping";
    const VERSION: &'static str = "1.0.0";
}

struct Pong;

impl Ping for Pong {
    fn ping(&self) -> RString {
        "pong".into()
    }
}

export_plugins! {
    handshake: HandshakeConfig {
        cookie_key: "PLUGBOARD_DEMO_PLUGIN",
        cookie_value: "6f1c2a9e-greeter-kv-demo",
    },
    plugins: { "ping" => PingBox::from_value(Pong, TD_Opaque) },
}
