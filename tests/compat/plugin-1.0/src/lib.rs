//! A Greeter plugin built against Greeter 1.0 (no `shout`).

use compat_greeter_v1_0::{Greeter, HANDSHAKE};
use plugboard_interface::{export_plugins, PluginError};

struct V10;

impl Greeter for V10 {
    fn greet(&self, name: &str) -> Result<String, PluginError> {
        Ok(format!("1.0 says hello, {name}"))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "greeter-1.0": Greeter => V10 },
}
