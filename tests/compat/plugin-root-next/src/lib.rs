//! A plugin built against "plugboard-interface 0.1.1", whose root module has
//! one more trailing field than the host's. Its own small interface (`Ping`)
//! keeps it independent of the demo crate, which links the host's
//! plugboard-interface.

use plugboard_interface::{export_plugins, interface, HandshakeConfig};

/// Answers pings.
#[interface(version = "1.0.0")]
pub trait Ping: Send + Sync {
    /// "pong".
    fn ping(&self) -> String;
}

struct Pong;

impl Ping for Pong {
    fn ping(&self) -> String {
        "pong".into()
    }
}

export_plugins! {
    handshake: HandshakeConfig {
        cookie_key: "PLUGBOARD_DEMO_PLUGIN",
        cookie_value: "6f1c2a9e-greeter-kv-demo",
    },
    plugins: { "ping": Ping => Pong },
}
