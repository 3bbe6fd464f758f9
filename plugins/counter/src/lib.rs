//! The demo `Counter` plugin: named counters whose arithmetic is done by the
//! host's `AddHelper` service — go-plugin's bidirectional example, in-process.

use std::{collections::HashMap, sync::Mutex};

use plugboard_demo::{AddHelper, Counter, ADD_HELPER_SERVICE, HANDSHAKE};
use plugboard_interface::{export_plugins, service, PluginError};

#[derive(Default)]
struct Counters(Mutex<HashMap<String, i64>>);

impl Counters {
    fn map(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, i64>>, PluginError> {
        self.0
            .lock()
            .map_err(|_| PluginError::failed("the counters are unusable after a panic"))
    }
}

impl Counter for Counters {
    fn add(&self, key: &str, delta: i64) -> Result<i64, PluginError> {
        let helper = service::<dyn AddHelper>(ADD_HELPER_SERVICE)?;
        let mut map = self.map()?;
        let old = map.get(key).copied().unwrap_or(0);
        let total = helper.sum(old, delta)?;
        log::debug!("counter `{key}`: {old} + {delta} = {total} (added by the host)");
        map.insert(key.to_owned(), total);
        Ok(total)
    }

    fn get(&self, key: &str) -> Result<i64, PluginError> {
        Ok(self.map()?.get(key).copied().unwrap_or(0))
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "counter": Counter => Counters::default() },
}
