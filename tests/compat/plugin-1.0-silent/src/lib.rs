//! A Greeter plugin built against the silently changed Greeter "1.0".

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RString},
};
use plugboard_demo::{Greeter, GreeterBox, HANDSHAKE};
use plugboard_interface::{export_plugins, guard, PluginError};

struct Silent;

impl Greeter for Silent {
    fn greet(&self, name: RStr<'_>, times: u32) -> RResult<RString, PluginError> {
        guard(|| Ok(format!("hello, {name} ").repeat(times as usize).into()))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "greeter-1.0-silent" => GreeterBox::from_value(Silent, TD_Opaque) },
}
