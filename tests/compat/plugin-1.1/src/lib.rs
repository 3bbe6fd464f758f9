//! A Greeter plugin built against Greeter 1.1 (with `shout`).

use plugboard_demo::{Greeter, HANDSHAKE};
use plugboard_interface::{export_plugins, PluginError};

struct V11;

impl Greeter for V11 {
    fn greet(&self, name: &str) -> Result<String, PluginError> {
        Ok(format!("1.1 says hello, {name}"))
    }

    fn shout(&self, name: &str) -> Result<String, PluginError> {
        Ok(format!("1.1 SAYS HELLO, {}", name.to_uppercase()))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "greeter-1.1": Greeter => V11 },
}
