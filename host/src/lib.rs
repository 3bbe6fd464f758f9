//! The plugboard host: finds plugin libraries in a folder, checks them, and
//! dispenses typed plugin objects by name.
//!
//! The flow of one file, one module per step:
//!
//! ```text
//! discover ──► load ──► handshake ──► registry ──► dispense
//! (list the    (dlopen, (ABI version,  (name →      (interface name,
//!  folder)      root     cookie,        entry)       semver and layout
//!               module)  protocol)                   checked, factory
//!                                                    called)
//! ```
//!
//! Every step can refuse a file with a typed [`LoadError`]; one refused file
//! never stops the others ([`LoadReport`]).
//!
//! # Safety and limits
//!
//! Loading a library runs its initialisation routines (constructors) and the
//! root-module constructor: only load files you trust. A plugin runs in the
//! host's process: a segfault or an abort in plugin code ends the host.
//! Libraries are never unloaded (as in `abi_stable`): a dispensed object may
//! hold code and data of its library for as long as it lives.
//!
//! # Examples
//!
//! ```no_run
//! use plugboard_demo::{GreeterBox, HANDSHAKE};
//! use plugboard_host::{Plugin, PluginHost};
//!
//! let mut host = PluginHost::builder()
//!     .handshake(HANDSHAKE)
//!     .protocol_versions([1])
//!     .build();
//! let report = host.load_dir("plugins.d");
//! for refused in report.refused() {
//!     eprintln!("{refused}");
//! }
//! let greeter: Plugin<GreeterBox> = host.dispense("greeter")?;
//! println!("{}", greeter.greet("World".into()).unwrap());
//! # Ok::<(), plugboard_host::DispenseError>(())
//! ```

#![deny(missing_docs)]
// Errors carry the path, both versions and the checker's report so that messages can say
// what to do; they are returned on load and dispense, never on the call path.
#![allow(clippy::result_large_err)]

mod discover;
mod dispense;
mod error;
mod handshake;
mod host;
mod layout;
mod load;
mod plugin;
mod private_copy;
mod registry;
mod report;
mod services;
pub mod signing;
pub mod testing;
mod vet;
mod watch;

pub use discover::{discover, is_candidate, LIBRARY_EXTENSION};
pub use dispense::layouts_compatible;
pub use error::{DispenseError, LayoutReport, LoadError};
pub use host::{PluginHost, PluginHostBuilder};
pub use plugin::{CallError, MissingMethod, Plugin, PluginMeta};
pub use registry::{EntryInfo, LibraryInfo, LoadTimings, PluginInfo};
pub use report::{FileOutcome, LoadReport};
pub use vet::{inspect_bytes, Inspection};
pub use watch::{PluginWatch, WatchError, WatchEvent};
