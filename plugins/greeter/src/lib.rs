//! The demo `Greeter` plugin: go-plugin's basic example, in-process.

use plugboard_demo::{Greeter, HANDSHAKE};
use plugboard_interface::{export_plugins, PluginError};

struct Hello;

impl Greeter for Hello {
    fn greet(&self, name: &str) -> Result<String, PluginError> {
        log::info!("greeting {name}");
        Ok(format!("Hello, {name}!"))
    }

    fn shout(&self, name: &str) -> Result<String, PluginError> {
        Ok(format!("HELLO, {}!", name.to_uppercase()))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "greeter": Greeter => Hello },
}
