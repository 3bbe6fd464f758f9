//! A Greeter plugin built against Greeter 2.0.

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RString},
};
use plugboard_demo::{Greeter, GreeterBox, Style, HANDSHAKE};
use plugboard_interface::{export_plugins, guard, PluginError};

struct V20;

impl Greeter for V20 {
    fn greet(&self, name: RStr<'_>, style: Style) -> RResult<RString, PluginError> {
        guard(|| {
            let text = format!("2.0 says hello, {name}");
            Ok(match style {
                Style::Plain => text.into(),
                Style::Loud => text.to_uppercase().into(),
            })
        })
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "greeter-2.0" => GreeterBox::from_value(V20, TD_Opaque) },
}
