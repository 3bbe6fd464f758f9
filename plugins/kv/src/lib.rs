//! The demo `KeyValue` plugin: an in-memory store.
//!
//! Each dispensed object is a new, empty store; the state lives as long as
//! the object.

use std::{collections::BTreeMap, sync::Mutex};

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString, RVec},
};
use plugboard_demo::{KeyValue, KeyValueBox, HANDSHAKE};
use plugboard_interface::{export_plugins, guard, PluginError};

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
    fn put(&self, key: RStr<'_>, value: RStr<'_>) -> RResult<(), PluginError> {
        guard(|| {
            self.with_map(|map| {
                map.insert(key.into(), value.into());
            })
        })
    }

    fn get(&self, key: RStr<'_>) -> RResult<ROption<RString>, PluginError> {
        guard(|| {
            self.with_map(|map| {
                map.get(key.as_str())
                    .map(|s| RString::from(s.as_str()))
                    .into()
            })
        })
    }

    fn delete(&self, key: RStr<'_>) -> RResult<bool, PluginError> {
        guard(|| self.with_map(|map| map.remove(key.as_str()).is_some()))
    }

    fn list(&self) -> RResult<RVec<RString>, PluginError> {
        guard(|| self.with_map(|map| map.keys().map(|s| RString::from(s.as_str())).collect()))
    }
}

/// Runs when a host loads the library (after its handshake passed).
fn opened() -> Result<(), PluginError> {
    let host = plugboard_interface::host().map(|h| h.host_name().into_string());
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
    plugins: { "kv" => KeyValueBox::from_value(MemoryStore::default(), TD_Opaque) },
}
