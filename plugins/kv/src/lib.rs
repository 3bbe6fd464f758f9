//! The demo `KeyValue` plugin: an in-memory store.
//!
//! Each dispensed object is a new, empty store; the state lives as long as
//! the object.

use std::{collections::BTreeMap, sync::Mutex};

use plugboard_demo::{KeyValue, HANDSHAKE};
use plugboard_interface::{export_plugins, PluginError};

#[derive(Default)]
struct MemoryStore {
    map: Mutex<BTreeMap<String, String>>,
}

impl MemoryStore {
    fn with_map<T>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, String>) -> T,
    ) -> Result<T, PluginError> {
        let mut map = self
            .map
            .lock()
            .map_err(|_| PluginError::failed("the store is unusable after an earlier panic"))?;
        Ok(f(&mut map))
    }
}

impl KeyValue for MemoryStore {
    fn put(&self, key: &str, value: &str) -> Result<(), PluginError> {
        self.with_map(|map| {
            map.insert(key.to_owned(), value.to_owned());
        })
    }

    fn get(&self, key: &str) -> Result<Option<String>, PluginError> {
        self.with_map(|map| map.get(key).cloned())
    }

    fn delete(&self, key: &str) -> Result<bool, PluginError> {
        self.with_map(|map| map.remove(key).is_some())
    }

    fn list(&self) -> Result<Vec<String>, PluginError> {
        self.with_map(|map| map.keys().cloned().collect())
    }
}

/// Runs when a host loads the library (after its handshake passed).
fn opened() -> Result<(), PluginError> {
    let host = plugboard_interface::host().map(|h| {
        format!(
            "{} {}",
            h.host_name().into_string(),
            h.host_version().into_string()
        )
    });
    log::debug!(
        "kv loaded by {}",
        host.as_deref().unwrap_or("an unknown host")
    );
    Ok(())
}

/// Runs once when the host closes.
fn closed() -> Result<(), PluginError> {
    log::info!("kv shutting down");
    Ok(())
}

export_plugins! {
    handshake: HANDSHAKE,
    on_load: opened,
    on_unload: closed,
    plugins: { "kv": KeyValue => MemoryStore::default() },
}
