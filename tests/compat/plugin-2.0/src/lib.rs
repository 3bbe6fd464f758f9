//! A Greeter plugin built against Greeter 2.0.

use compat_greeter_v2_0::{Greeter, Style, HANDSHAKE};
use plugboard_interface::{export_plugins, PluginError};

struct V20;

impl Greeter for V20 {
    fn greet(&self, name: &str, style: Style) -> Result<String, PluginError> {
        let text = format!("2.0 says hello, {name}");
        Ok(match style {
            Style::Plain => text,
            Style::Loud => text.to_uppercase(),
        })
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "greeter-2.0": Greeter => V20 },
}
