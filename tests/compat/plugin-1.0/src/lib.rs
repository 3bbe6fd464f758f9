//! A Greeter plugin built against Greeter 1.0 (no `shout`).

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RString},
};
use plugboard_demo::{Greeter, GreeterBox, HANDSHAKE};
use plugboard_interface::{export_plugins, guard, PluginError};

struct V10;

impl Greeter for V10 {
    fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
        guard(|| Ok(format!("1.0 says hello, {name}").into()))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "greeter-1.0" => GreeterBox::from_value(V10, TD_Opaque) },
}
