//! The demo `Greeter` plugin: go-plugin's basic example, in-process.

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RString},
};
use plugboard_demo::{Greeter, GreeterBox, HANDSHAKE};
use plugboard_interface::{export_plugins, guard, PluginError};

struct Hello;

impl Greeter for Hello {
    fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
        guard(|| {
            log::info!("greeting {name}");
            Ok(format!("Hello, {name}!").into())
        })
    }

    fn shout(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
        guard(|| Ok(format!("HELLO, {}!", name.to_uppercase()).into()))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "greeter" => GreeterBox::from_value(Hello, TD_Opaque) },
}
