//! The ABI contract between a plugboard host and its plugins.
//!
//! Both sides link this crate: a plugin library (`cdylib`) exports a
//! [`PluginLibrary`] root module with [`export_plugins!`], and the host
//! (`plugboard-host`) reads it back, checks it and dispenses the plugin
//! objects it lists.
//!
//! What a plugin library exports:
//!
//! * a [`Handshake`]: the plugboard framework ABI version, a magic cookie
//!   (key and value) and the protocol versions the library offers, like the
//!   handshake of HashiCorp's go-plugin;
//! * [`LibraryMetadata`]: the library's name, version and description;
//! * one [`PluginSet`] per protocol version, each a table of named
//!   [`PluginEntry`]s. Each entry names the interface it implements (name and
//!   semver), carries the `abi_stable` [`TypeLayout`] of the object its
//!   factory returns, and the factory itself.
//!
//! Nothing here is specific to any one plugin interface: a user declares their
//! own interface (usually a `#[sabi_trait]`) in their own crate and implements
//! [`Interface`] for its trait-object type.
//!
//! # Panics across the boundary
//!
//! Every call the framework makes into plugin code (the root-module
//! constructor and plugin factories) catches panics inside the plugin and
//! turns them into a [`PluginError`]. Plugin authors guard their own methods
//! with [`guard`].
//!
//! [`TypeLayout`]: abi_stable::type_layout::TypeLayout

#![deny(missing_docs)]

mod error;
mod export;
mod guard;
mod handshake;
mod interface;
mod library;
mod logging;
pub mod metadata;
mod services;

pub use error::{PluginError, PluginErrorKind};
pub use guard::{guard, guard_result, is_poisoned};
pub use handshake::{Handshake, HandshakeConfig, ABI_VERSION};
pub use interface::Interface;
pub use library::{
    Factory, LibraryMetadata, PluginEntry, PluginLibrary, PluginLibraryRef, PluginSet,
};
pub use services::{
    host, service, HostContext, HostServices, HostServicesBox, HostServices_TO, LogRecord,
    PanicPolicy,
};

/// Re-exported so that [`export_plugins!`] and interface crates name the same
/// `abi_stable` as this crate.
pub use abi_stable;

#[doc(hidden)]
pub mod __private {
    pub use crate::export::{run_factory, run_init, run_set_max_log_level, run_shutdown, Hook};
    pub use crate::metadata;
}
