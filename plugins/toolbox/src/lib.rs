//! One library exporting two plugin types at once, like go-plugin's plugin
//! map: a `Greeter` named `pirate-greeter` and a `KeyValue` named `scratch`
//! that upper-cases what it stores.

use std::{collections::BTreeMap, sync::Mutex};

use plugboard_demo::{Greeter, KeyValue, HANDSHAKE};
use plugboard_interface::{export_plugins, PluginError};

struct Pirate;

impl Greeter for Pirate {
    fn greet(&self, name: &str) -> Result<String, PluginError> {
        Ok(format!("Ahoy, {name}!"))
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
    fn put(&self, key: &str, value: &str) -> Result<(), PluginError> {
        self.map()?.insert(key.to_owned(), value.to_uppercase());
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<String>, PluginError> {
        Ok(self.map()?.get(key).cloned())
    }

    fn delete(&self, key: &str) -> Result<bool, PluginError> {
        Ok(self.map()?.remove(key).is_some())
    }

    fn list(&self) -> Result<Vec<String>, PluginError> {
        Ok(self.map()?.keys().cloned().collect())
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    description: "Two plugins in one library: pirate-greeter and scratch.",
    plugins: {
        "pirate-greeter": Greeter => Pirate,
        "scratch": KeyValue => Scratch::default(),
    },
}
