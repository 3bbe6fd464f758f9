//! A Greeter plugin built against the silently changed Greeter "1.0".

use compat_greeter_v1_0_silent::{Greeter, HANDSHAKE};
use plugboard_interface::{export_plugins, PluginError};

struct Silent;

impl Greeter for Silent {
    fn greet(&self, name: &str, times: u32) -> Result<String, PluginError> {
        Ok(format!("hello, {name} ").repeat(times as usize))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "greeter-1.0-silent": Greeter => Silent },
}
