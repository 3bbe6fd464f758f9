//! A plugin of the hand-written `HandGreeter` 1.0, with the hand-written
//! panic guard every such method needs.

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RString},
};
use handwritten_greeter::{HandGreeter, HandGreeterBox, HANDSHAKE};
use plugboard_interface::{export_plugins, guard, PluginError};

struct Hand10;

impl HandGreeter for Hand10 {
    fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
        guard(|| Ok(format!("hand 1.0 hello, {name}").into()))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "hand-1.0" => HandGreeterBox::from_value(Hand10, TD_Opaque) },
}
