//! Calls by name, with arguments and results as JSON: what a command line
//! (or any tool that does not know an interface's types) needs. It works
//! for the interfaces a host registered that were declared with
//! `#[interface]`, through the method table the attribute generates.

use std::panic::AssertUnwindSafe;

use plugboard_interface::{InvokeError, MethodInfo, MethodTable, PluginError, PluginInterface};
use serde_json::Value;

use crate::{DispenseError, Plugin, PluginHost, PluginMeta};

/// Why a call by name failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DynamicCallError {
    /// The interface has no method of that name.
    #[error("{interface} has no method `{method}`; its methods are {}", available.join(", "))]
    NoSuchMethod {
        /// The interface.
        interface: String,
        /// The name asked for.
        method: String,
        /// Its methods.
        available: Vec<String>,
    },
    /// The method takes another number of arguments.
    #[error("`{signature}` takes {expected} argument(s), {found} given")]
    WrongArgumentCount {
        /// The method's signature.
        signature: String,
        /// How many it takes.
        expected: usize,
        /// How many were given.
        found: usize,
    },
    /// The call could not be made as data (a type without serde support,
    /// arguments that do not fit the parameters).
    #[error("{0}")]
    Invoke(InvokeError),
    /// The method returned an error.
    #[error("plugin `{plugin}`: {error}")]
    Failed {
        /// The plugin.
        plugin: String,
        /// Its error.
        error: PluginError,
    },
    /// The method (one without `Result`) panicked; the message names the
    /// plugin.
    #[error("{0}")]
    Panicked(String),
}

/// A dispensed plugin whose methods are called by name.
pub struct DynamicPlugin {
    object: Box<dyn ErasedPlugin>,
    methods: &'static MethodTable,
    meta: &'static PluginMeta,
}

trait ErasedPlugin {
    fn invoke(&mut self, method: usize, args: Value) -> Result<Value, InvokeError>;
}

impl<I: ?Sized + PluginInterface> ErasedPlugin for Plugin<I> {
    fn invoke(&mut self, method: usize, args: Value) -> Result<Value, InvokeError> {
        I::invoke(self, method, args, serde_json::value::Serializer)
    }
}

impl DynamicPlugin {
    /// The plugin's interface: its methods.
    pub fn methods(&self) -> &'static MethodTable {
        self.methods
    }

    /// What the host knows about the plugin.
    pub fn meta(&self) -> &'static PluginMeta {
        self.meta
    }

    /// Whether the plugin has `method` (false for a method added after the
    /// interface version it was built against).
    pub fn provides(&self, method: &MethodInfo) -> bool {
        !self
            .meta
            .missing_methods
            .iter()
            .any(|m| m.name == method.name.as_str())
    }

    /// Calls `method` with one JSON value per argument; returns the result
    /// as JSON (`null` for a method without one).
    ///
    /// # Errors
    ///
    /// A [`DynamicCallError`]: no such method, a wrong number of arguments,
    /// arguments that do not fit, a type that cannot travel as data, or the
    /// plugin's own error or panic.
    pub fn call(&mut self, method: &str, args: Vec<Value>) -> Result<Value, DynamicCallError> {
        let Some((index, info)) = self.methods.method(method) else {
            return Err(DynamicCallError::NoSuchMethod {
                interface: self.methods.interface.to_string(),
                method: method.to_owned(),
                available: self
                    .methods
                    .methods
                    .iter()
                    .map(|m| m.name.to_string())
                    .collect(),
            });
        };
        if args.len() != info.arg_names.len() {
            return Err(DynamicCallError::WrongArgumentCount {
                signature: info.signature.to_string(),
                expected: info.arg_names.len(),
                found: args.len(),
            });
        }
        let object = &mut self.object;
        match std::panic::catch_unwind(AssertUnwindSafe(|| {
            object.invoke(index, Value::Array(args))
        })) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(InvokeError::Failed(error))) => Err(DynamicCallError::Failed {
                plugin: self.meta.name.clone(),
                error,
            }),
            Ok(Err(other)) => Err(DynamicCallError::Invoke(other)),
            Err(payload) => Err(DynamicCallError::Panicked(
                payload
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| format!("plugin `{}` panicked", self.meta.name)),
            )),
        }
    }
}

impl std::fmt::Debug for DynamicPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicPlugin")
            .field("meta", self.meta)
            .finish_non_exhaustive()
    }
}

/// Dispenses plugin `name` as `I`, for calls by name.
pub(crate) fn dispense<I: ?Sized + PluginInterface>(
    host: &PluginHost,
    name: &str,
) -> Result<DynamicPlugin, DispenseError> {
    let Some(methods) = I::METHODS else {
        return Err(DispenseError::NotCallable {
            plugin: name.to_owned(),
            interface: I::NAME,
        });
    };
    let plugin = host.dispense::<I>(name)?;
    let meta = plugin.meta_static();
    Ok(DynamicPlugin {
        object: Box::new(plugin),
        methods,
        meta,
    })
}
