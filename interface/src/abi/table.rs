//! An interface's methods as data: [`MethodTable`] and its [`MethodInfo`]s,
//! and [`InvokeFn`], which runs a call that travels as bytes.

use std::ffi::c_void;

use abi_stable::{
    std_types::{ROption, RSlice, RStr, RVec},
    type_layout::TypeLayout,
    StableAbi,
};

#[cfg(doc)]
use super::{Method, MethodMut, RawObject};
use crate::PluginError;

/// What an interface's method looks like, for hosts, tools and the
/// compatibility check.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct MethodInfo {
    /// The method's name.
    pub name: RStr<'static>,
    /// The interface version that added it; empty for the methods of the
    /// first release of the major version.
    pub since: RStr<'static>,
    /// Its signature as declared, e.g.
    /// `fn transform(&self, input: &str) -> Result<String, PluginError>`.
    pub signature: RStr<'static>,
    /// The argument names.
    pub arg_names: RSlice<'static, RStr<'static>>,
    /// The argument types as declared.
    pub arg_types: RSlice<'static, RStr<'static>>,
    /// The result type as declared (`()` for none).
    pub ret_type: RStr<'static>,
    /// Whether it returns `Result<_, PluginError>`.
    pub fallible: bool,
    /// Whether it takes `&mut self`.
    pub exclusive: bool,
    /// The `abi_stable` layout of its [`Method`] / [`MethodMut`] type.
    pub layout: &'static TypeLayout,
}

impl MethodInfo {
    /// The `since` version, if the method came after the first release.
    pub fn since(&self) -> Option<&'static str> {
        let since: &'static str = self.since.as_str();
        (!since.is_empty()).then_some(since)
    }
}

/// Runs one serialized call on an object of an interface: the method's
/// arguments in, its result out, both as `postcard` bytes. `RSome` carries
/// the plugin's error (for a method without `Result`, a panic or a refusal).
pub type InvokeFn = unsafe extern "C" fn(
    object: *mut c_void,
    method: u32,
    args: RSlice<'_, u8>,
    out: &mut RVec<u8>,
) -> ROption<PluginError>;

/// An `#[interface]` trait's methods, as data: compared by a host with its
/// own before any call, listed by tools, used for calls that travel as bytes.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct MethodTable {
    /// The interface's name.
    pub interface: RStr<'static>,
    /// The interface's version.
    pub version: RStr<'static>,
    /// The methods, in order.
    pub methods: RSlice<'static, MethodInfo>,
    /// Which methods' arguments and result can travel as bytes (for calls
    /// from the command line and isolated plugins).
    pub serializable: extern "C" fn(method: u32) -> bool,
    /// Runs a serialized call on a [`RawObject`] of this interface (the
    /// runner of isolated plugins calls it in the plugin's own code); an
    /// [`InvokeFn`], written out because the layout derive reads function
    /// types from their syntax.
    pub invoke: unsafe extern "C" fn(
        object: *mut c_void,
        method: u32,
        args: RSlice<'_, u8>,
        out: &mut RVec<u8>,
    ) -> ROption<PluginError>,
}

impl MethodTable {
    /// The method called `name`, with its index.
    pub fn method(&self, name: &str) -> Option<(usize, &'static MethodInfo)> {
        let methods: &'static [MethodInfo] = self.methods.as_slice();
        methods
            .iter()
            .enumerate()
            .find(|(_, m)| m.name.as_str() == name)
    }
}
