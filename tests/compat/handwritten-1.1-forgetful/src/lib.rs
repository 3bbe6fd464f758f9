//! A hand-written `abi_stable` interface, version 1.1, written carelessly:
//! `shout` has no default body and `OPTIONAL_METHODS` does not list it. A
//! host built with it must refuse 1.0 plugins at load (they lack `shout`),
//! instead of panicking when `shout` is called.

#![allow(non_local_definitions)] // `#[sabi_trait]` expands to non-local impls.

use abi_stable::{
    sabi_trait,
    std_types::{RBox, RResult, RStr, RString},
};
use plugboard_interface::{Interface, PluginError};

/// Says hello.
#[sabi_trait]
pub trait HandGreeter: Send + Sync {
    /// Returns a greeting for `name`.
    #[sabi(last_prefix_field)]
    fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError>;

    /// Returns a loud greeting. Since 1.1 (but nothing here says so).
    fn shout(&self, name: RStr<'_>) -> RResult<RString, PluginError>;
}

/// The trait object.
pub type HandGreeterBox = HandGreeter_TO<'static, RBox<()>>;

impl Interface for HandGreeterBox {
    const NAME: &'static str = "HandGreeter";
    const VERSION: &'static str = "1.1.1";
}
