//! A second demo `Greeter`, with a different answer, to show two libraries
//! implementing one interface side by side.

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RString},
};
use plugboard_demo::{Greeter, GreeterBox, HANDSHAKE};
use plugboard_interface::{export_plugins, guard, PluginError};

struct Formal;

impl Greeter for Formal {
    fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
        guard(|| Ok(format!("Good day to you, {name}.").into()))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "formal-greeter" => GreeterBox::from_value(Formal, TD_Opaque) },
}
