//! The contract between a plugboard host and its plugins.
//!
//! Both sides link this crate. An application declares its plugin interfaces
//! as plain Rust traits with [`#[interface]`](macro@interface), usually in a
//! crate it shares with its plugins; a plugin library (`cdylib`) implements
//! them and exports them with [`export_plugins!`]; the host
//! (`plugboard-host`) loads the library, checks it and dispenses the plugins
//! it lists as typed objects.
//!
//! # Examples
//!
//! The interface crate:
//!
//! ```
//! use plugboard_interface::{interface, HandshakeConfig, PluginError};
//!
//! pub const HANDSHAKE: HandshakeConfig =
//!     HandshakeConfig { cookie_key: "TEXTOPS_PLUGIN", cookie_value: "2b7e-textops" };
//!
//! /// Transforms text.
//! #[interface(version = "1.1.0")]
//! pub trait Transformer: Send + Sync {
//!     fn name(&self) -> String;
//!     fn transform(&self, input: &str) -> Result<String, PluginError>;
//!     /// Plugins built against 1.0 lack it.
//!     #[since("1.1.0")]
//!     fn describe(&self) -> Result<String, PluginError>;
//! }
//! # fn main() {}
//! ```
//!
//! A plugin crate, with `crate-type = ["cdylib"]` in its `Cargo.toml`:
//!
//! ```
//! # mod textops {
//! #     use plugboard_interface::{interface, HandshakeConfig, PluginError};
//! #     pub const HANDSHAKE: HandshakeConfig =
//! #         HandshakeConfig { cookie_key: "TEXTOPS_PLUGIN", cookie_value: "2b7e-textops" };
//! #     #[interface(version = "1.1.0")]
//! #     pub trait Transformer: Send + Sync {
//! #         fn name(&self) -> String;
//! #         fn transform(&self, input: &str) -> Result<String, PluginError>;
//! #         #[since("1.1.0")]
//! #         fn describe(&self) -> Result<String, PluginError>;
//! #     }
//! # }
//! use plugboard_interface::{export_plugins, PluginError};
//! use textops::{Transformer, HANDSHAKE};
//!
//! struct Upper;
//! impl Transformer for Upper {
//!     fn name(&self) -> String { "upper".into() }
//!     fn transform(&self, input: &str) -> Result<String, PluginError> { Ok(input.to_uppercase()) }
//!     fn describe(&self) -> Result<String, PluginError> { Ok("upper-cases text".into()) }
//! }
//!
//! export_plugins! {
//!     handshake: HANDSHAKE,
//!     plugins: { "upper": Transformer => Upper },
//! }
//! # fn main() {}
//! ```
//!
//! The attribute's documentation has the host's side, the supported types
//! and the evolution rules.
//!
//! # What a plugin library exports
//!
//! What a host reads before and after loading a library:
//!
//! * a [`Handshake`]: the plugboard framework ABI version, a magic cookie
//!   (key and value) and the protocol versions the library offers, like the
//!   handshake of HashiCorp's go-plugin;
//! * [`LibraryMetadata`]: the library's name, version and description, also
//!   written to a link section that a host reads without running the library
//!   ([`metadata`]);
//! * one [`PluginSet`] per protocol version, each a table of named
//!   [`PluginEntry`]s: the interface each implements (name and semver), the
//!   `abi_stable` layout of its object, its factory and, for an
//!   `#[interface]` trait, its [`MethodTable`].
//!
//! # Panics across the boundary
//!
//! Every call into plugin code runs under a panic guard inside the plugin:
//! the methods `#[interface]` generates, factories, init and shutdown. A
//! panic becomes a [`PluginError`] of kind `Panicked` (returned by a method
//! that returns `Result`, resumed as a panic in the host's caller by one that
//! does not), and its message reaches the host's logger, not its standard
//! error. A segfault or an abort in plugin code still ends the host: a
//! plugin runs in the host's process.
//!
//! # Inside a plugin
//!
//! `log`'s macros reach the host's logger, under the target
//! `plugin::<library>::<target>`; [`service`] gets a service the host offers
//! (an `#[interface]` trait implemented by the host); [`is_poisoned`] says
//! whether the library has panicked.
//!
//! # Hand-written interfaces
//!
//! Interfaces written with `abi_stable`'s `#[sabi_trait]` keep working:
//! implement [`Interface`] for the trait-object type, and wrap every method
//! body in [`guard`]. `#[interface]` does all of that for you.

#![deny(missing_docs)]

mod abi;
mod call;
mod check;
mod error;
mod export;
mod guard;
mod handshake;
mod interface;
mod library;
mod logging;
pub mod metadata;
mod remote;
mod services;
mod wire;

pub use abi::{Checked, InvokeFn, MethodInfo, MethodTable};
pub use call::{MissingMethod, PluginMeta};
pub use error::{PluginError, PluginErrorKind};
pub use guard::{guard, guard_result, is_poisoned};
pub use handshake::{Handshake, HandshakeConfig, ABI_VERSION};
pub use interface::{Exports, Interface, PluginInterface};
pub use library::{
    Factory, LibraryMetadata, PluginEntry, PluginLibrary, PluginLibraryRef, PluginSet,
};
pub use remote::{ErasedObject, Link, Remote, Served};
pub use services::{
    host, service, HostContext, HostServices, HostServicesBox, HostServices_TO, LogRecord,
    PanicPolicy,
};
pub use wire::InvokeError;

// Documented in plugboard-macros (rustdoc shows that documentation here).
pub use plugboard_macros::{export_plugins, interface};

/// The version of this crate: what a host reports when a library was built
/// against an incompatible `plugboard-interface`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Re-exported so that generated code and hand-written interface crates name
/// the same `abi_stable` as this crate.
pub use abi_stable;

/// What the macros generate code against. Not a public API: it changes
/// without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::abi::{
        slot, slot_mut, threads, Args0, Args1, Args2, Args3, Args4, Args5, Args6, Args7, Args8,
        FfiSlice, FfiStr, FfiValue, Implement, ImplementMut, Method, MethodMut, MethodSpec, Own,
        RawObject, VTable,
    };
    pub use crate::call::CallStatus;
    pub use crate::check::{require_stable_abi, StableProbe, StableVerdict, UnstableVerdict};
    pub use crate::export::{
        call_root_module, lib_header, run_factory, run_factory_self, run_init,
        run_set_max_log_level, run_shutdown, Hook, ROOT_SYMBOL,
    };
    pub use crate::metadata;
    pub use crate::remote::{borrow_cannot_travel, cannot_travel, decoder, Encoder};
    pub use crate::wire::{invoke_raw, CanTravel, CannotTravel, Probe};
    pub use abi_stable;
    pub use serde;
}
