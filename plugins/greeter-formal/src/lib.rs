//! A second demo `Greeter`, with a different answer, to show two libraries
//! implementing one interface side by side. It keeps `shout`'s default.

use plugboard_demo::{Greeter, HANDSHAKE};
use plugboard_interface::{export_plugins, PluginError};

struct Formal;

impl Greeter for Formal {
    fn greet(&self, name: &str) -> Result<String, PluginError> {
        Ok(format!("Good day to you, {name}."))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "formal-greeter": Greeter => Formal },
}
