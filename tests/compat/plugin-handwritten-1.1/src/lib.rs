//! A plugin of the hand-written `HandGreeter` 1.1.

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RString},
};
use handwritten_greeter::{HandGreeter, HandGreeterBox, HANDSHAKE};
use plugboard_interface::{export_plugins, guard, PluginError};

struct Hand11;

impl HandGreeter for Hand11 {
    fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
        guard(|| Ok(format!("hand 1.1 hello, {name}").into()))
    }

    fn shout(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
        guard(|| Ok(format!("HAND 1.1 HELLO, {}", name.to_uppercase()).into()))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "hand-1.1" => HandGreeterBox::from_value(Hand11, TD_Opaque) },
}
