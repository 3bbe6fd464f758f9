//! The host's side of one remote object: the `Link` a dispensed isolated
//! plugin's methods call through.

use std::sync::{Arc, Mutex};

use plugboard_interface::{Link, MethodTable, MissingMethod, PluginError};

use super::parent::Child;
use crate::DispenseError;

/// A plugin object in a runner, as the host's `Remote` reaches it.
pub(crate) struct RemoteObject {
    child: Arc<Child>,
    pub(super) entry: String,
    methods: &'static MethodTable,
    /// The methods the plugin lacks (built against an older minor): calls
    /// to them do not travel.
    missing: Vec<String>,
    /// The runner generation the object was made in, and its id there.
    pub(super) current: Mutex<(u64, u64)>,
}

impl RemoteObject {
    /// A new object of plugin `entry`, whose interface has `methods`.
    pub(crate) fn create(
        child: &Arc<Child>,
        entry: &str,
        methods: &'static MethodTable,
        missing: &[MissingMethod],
    ) -> Result<Self, DispenseError> {
        let made = child
            .create(entry)
            .map_err(|error| DispenseError::FactoryFailed {
                plugin: entry.to_owned(),
                path: child.path.clone(),
                error,
            })?;
        Ok(Self {
            child: Arc::clone(child),
            entry: entry.to_owned(),
            methods,
            missing: missing.iter().map(|m| m.name.clone()).collect(),
            current: Mutex::new(made),
        })
    }

    pub(super) fn method_name(&self, method: u32) -> &'static str {
        let methods: &'static [plugboard_interface::MethodInfo] = self.methods.methods.as_slice();
        methods
            .get(method as usize)
            .map_or("an unknown method", |m| m.name.as_str())
    }
}

impl Link for RemoteObject {
    fn call(&self, method: u32, args: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        let name = self.method_name(method);
        if self.missing.iter().any(|m| m == name) {
            return Err(PluginError::method_missing(name));
        }
        self.child.call(self, method, args)
    }
}

impl Drop for RemoteObject {
    fn drop(&mut self) {
        let (generation, id) = *self.current.get_mut().unwrap_or_else(|p| p.into_inner());
        self.child.release(generation, id);
    }
}
