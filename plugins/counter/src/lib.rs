//! The demo `Counter` plugin: named counters whose arithmetic is done by the
//! host's `AddHelper` service — go-plugin's bidirectional example, in-process.

use std::{collections::HashMap, sync::Mutex};

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr},
};
use plugboard_demo::{AddHelperBox, Counter, CounterBox, ADD_HELPER_SERVICE, HANDSHAKE};
use plugboard_interface::{export_plugins, guard, service, PluginError};

#[derive(Default)]
struct Counters(Mutex<HashMap<String, i64>>);

impl Counter for Counters {
    fn add(&self, key: RStr<'_>, delta: i64) -> RResult<i64, PluginError> {
        guard(|| {
            let helper: AddHelperBox = service(ADD_HELPER_SERVICE)?;
            let mut map = self
                .0
                .lock()
                .map_err(|_| PluginError::failed("the counters are unusable after a panic"))?;
            let old = map.get(key.as_str()).copied().unwrap_or(0);
            let total = helper.sum(old, delta).into_result()?;
            log::debug!("counter `{key}`: {old} + {delta} = {total} (added by the host)");
            map.insert(key.into(), total);
            Ok(total)
        })
    }

    fn get(&self, key: RStr<'_>) -> RResult<i64, PluginError> {
        guard(|| {
            let map = self
                .0
                .lock()
                .map_err(|_| PluginError::failed("the counters are unusable after a panic"))?;
            Ok(map.get(key.as_str()).copied().unwrap_or(0))
        })
    }
}

export_plugins! {
    handshake: HANDSHAKE,
    plugins: { "counter" => CounterBox::from_value(Counters::default(), TD_Opaque) },
}
