//! The plugboard host: finds plugin libraries in a folder, checks them, and
//! dispenses typed plugin objects by name.
//!
//! The flow of one file, one module per step (`host.rs` strings them
//! together):
//!
//! ```text
//! discover ─► vet ─────────► handshake ───► copy ─────► load ───────► check ──────► init ─────► register ─► dispense
//! (list the   (no code runs: (cookie, ABI,  (a sealed   (dlopen the  (the library  (the        (name →     (interface,
//!  folder)    file, size,    protocol,      private     copy, root   says what its library's   plugin,     version,
//!             permissions,   interface      copy of the module       metadata      own init)   snapshot    layout and
//!             checksum,      majors, free   vetted      layout)      said; the                 swapped     methods
//!             signature,     names — from   bytes)                   interfaces                atomically) checked once,
//!             object checks, the metadata)                           registered                            factory
//!             metadata)                                              match)                                called)
//! ```
//!
//! Every step can refuse a file with a typed [`LoadError`]; one refused file
//! never stops the others ([`LoadReport`]).
//!
//! # Safety and limits
//!
//! Loading a library runs its initialisation routines (constructors) and the
//! root-module constructor: only load files you trust, and for a folder
//! other people can write to, require signatures
//! ([`PluginHostBuilder::trust_key`], [`signing`]). A plugin runs in the
//! host's process: a segfault or an abort in plugin code ends the host.
//! Libraries are never unloaded: a dispensed object may hold code and data of
//! its library for as long as it lives.
//!
//! # Platform-specific behaviour
//!
//! Linux is tested; Windows (x86_64, GNU toolchain) is tested under Wine;
//! macOS is compiled only. On Windows, strict permissions read access control
//! lists instead of modes, and private copies are files in `%TEMP%` instead of
//! sealed memfds. See [`PluginHost`] and the repository's docs/platforms.md.
//!
//! # Examples
//!
//! ```no_run
//! use plugboard_host::{Plugin, PluginHost};
//! use plugboard_interface::{interface, HandshakeConfig, PluginError};
//!
//! // Usually in the interface crate the application and its plugins share:
//! pub const HANDSHAKE: HandshakeConfig =
//!     HandshakeConfig { cookie_key: "TEXTOPS_PLUGIN", cookie_value: "2b7e-textops" };
//! #[interface(version = "1.0.0")]
//! pub trait Transformer: Send + Sync {
//!     fn transform(&self, input: &str) -> Result<String, PluginError>;
//! }
//!
//! let host = PluginHost::builder()
//!     .handshake(HANDSHAKE)
//!     .interface::<dyn Transformer>()
//!     .build();
//! let report = host.load_dir("plugins");
//! for refused in report.refused() {
//!     eprintln!("{refused}");
//! }
//! let upper: Plugin<dyn Transformer> = host.dispense("upper")?;
//! assert_eq!(upper.transform("hi")?, "HI");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
// Errors carry the path, both versions and the checker's report so that
// messages can say what to do; they are returned on load and dispense,
// never on the call path.
#![allow(clippy::result_large_err)]

mod builder;
mod check;
mod discover;
mod dispense;
pub mod display;
mod dynamic;
mod elf_check;
mod error;
mod handshake;
mod host;
pub mod isolation;
mod layout;
mod load;
mod mapped;
mod plugin;
mod private_copy;
mod registry;
mod report;
mod services;
pub mod signing;
pub mod testing;
mod vet;
pub mod watch;

pub use builder::{BuildError, PluginHostBuilder};
pub use discover::LIBRARY_EXTENSION;
pub use dynamic::{DynamicCallError, DynamicPlugin};
pub use error::{DispenseError, LayoutReport, LoadError, LoadErrorKind};
pub use host::PluginHost;
pub use isolation::{Isolate, RestartPolicy};
pub use plugboard_interface::{MissingMethod, PluginMeta};
pub use plugin::{CallError, Plugin};
pub use registry::{EntryInfo, LibraryInfo, LoadTimings, PluginInfo};
pub use report::{FileOutcome, LoadReport};
pub use vet::{ChecksumsError, Inspection};

/// Test-only plumbing, not part of the API: the ELF load-safety check the
/// vet step runs (`elf_check::check`), reachable from integration tests
/// (`tests/elf_differential.rs` dlopens what it accepts in a child process).
/// `Ok` carries how many leading bytes the loader reads or maps (what the
/// private copy holds), `Err` the refusal reason.
#[doc(hidden)]
pub fn __elf_check(bytes: &[u8]) -> Result<u64, String> {
    elf_check::check(bytes).map_err(|problem| problem.reason)
}
