//! The typed reasons a file is refused or a plugin cannot be dispensed.
//!
//! A [`LoadError`] names the file once and carries a [`LoadErrorKind`] to
//! match on; its message reads like go-plugin's handshake errors: what
//! happened, what was expected and found, then what to do next
//! ([`LoadError::hint`]). Causes from the operating system or the loader are
//! part of the message and not repeated through `source()`.

mod dispense;
mod load;

pub use dispense::{DispenseError, LayoutReport};
pub use load::{LoadError, LoadErrorKind};
