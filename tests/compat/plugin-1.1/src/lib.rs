//! A Greeter plugin built against Greeter 1.1 (with `shout`).

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RString},
};
use plugboard_demo::{Greeter, GreeterBox, HANDSHAKE};
use plugboard_interface::{export_plugins, guard, PluginError};

struct V11;

impl Greeter for V11 {
    fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
        guard(|| Ok(format!("1.1 says hello, {name}").into()))
    }

    fn shout(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
        guard(|| Ok(format!("1.1 SAYS HELLO, {}", name.to_uppercase()).into()))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "greeter-1.1" => GreeterBox::from_value(V11, TD_Opaque) },
}
