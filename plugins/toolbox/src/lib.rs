//! One library exporting two plugin types at once, like go-plugin's plugin
//! map: a `Greeter` named `pirate-greeter` and a `KeyValue` named `scratch`
//! that upper-cases what it stores.

use std::{collections::BTreeMap, sync::Mutex};

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString, RVec},
};
use plugboard_demo::{Greeter, GreeterBox, KeyValue, KeyValueBox, HANDSHAKE};
use plugboard_interface::{export_plugins, guard, PluginError};

struct Pirate;

impl Greeter for Pirate {
    fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
        guard(|| Ok(format!("Ahoy, {name}!").into()))
    }
}

#[derive(Default)]
struct Scratch(Mutex<BTreeMap<String, String>>);

impl Scratch {
    fn map(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<String, String>>, PluginError> {
        self.0
            .lock()
            .map_err(|_| PluginError::failed("the scratch store is unusable after a panic"))
    }
}

impl KeyValue for Scratch {
    fn put(&self, key: RStr<'_>, value: RStr<'_>) -> RResult<(), PluginError> {
        guard(|| {
            self.map()?.insert(key.into(), value.to_uppercase());
            Ok(())
        })
    }

    fn get(&self, key: RStr<'_>) -> RResult<ROption<RString>, PluginError> {
        guard(|| {
            Ok(self
                .map()?
                .get(key.as_str())
                .map(|s| RString::from(s.as_str()))
                .into())
        })
    }

    fn delete(&self, key: RStr<'_>) -> RResult<bool, PluginError> {
        guard(|| Ok(self.map()?.remove(key.as_str()).is_some()))
    }

    fn list(&self) -> RResult<RVec<RString>, PluginError> {
        guard(|| {
            Ok(self
                .map()?
                .keys()
                .map(|s| RString::from(s.as_str()))
                .collect())
        })
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    description: "Two plugins in one library: pirate-greeter and scratch.",
    plugins: {
        "pirate-greeter" => GreeterBox::from_value(Pirate, TD_Opaque),
        "scratch" => KeyValueBox::from_value(Scratch::default(), TD_Opaque),
    },
}
