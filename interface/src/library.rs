//! The root module a plugin library exports, and the plugin entries in it.

use std::ffi::c_void;

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{ROption, RResult, RSlice, RStr},
    type_layout::TypeLayout,
    StableAbi,
};

use crate::{Handshake, HostContext, Interface, MethodTable, PluginError, PluginInterface};

/// The root module of a plugin library: what [`export_plugins!`] exports and
/// what the host reads first.
///
/// It is an `abi_stable` prefix type, so later versions of plugboard can add
/// fields after `plugin_sets` without breaking libraries built earlier; the
/// host reaches such fields through `Option`-returning accessors.
///
/// [`export_plugins!`]: crate::export_plugins
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginLibraryRef)))]
#[sabi(missing_field(option))]
pub struct PluginLibrary {
    /// The handshake: framework ABI version, magic cookie, protocol versions.
    pub handshake: Handshake,
    /// The library's name, version and description.
    pub metadata: LibraryMetadata,
    /// One plugin set per protocol version the library offers.
    pub plugin_sets: RSlice<'static, PluginSet>,
    /// Called once by a host after the handshake passed: hands over the
    /// host's services, log level and panic policy, and runs the library's
    /// `on_load` hook. Panics are caught inside the library.
    pub init: extern "C" fn(context: HostContext) -> RResult<(), PluginError>,
    /// Sets the library's maximum log level (the host calls it when its own
    /// level changes).
    pub set_max_log_level: extern "C" fn(level: u8),
    /// Called once when the host closes: runs the library's `on_unload` hook.
    pub shutdown: extern "C" fn() -> RResult<(), PluginError>,
    /// Whether code of the library has panicked since it was loaded.
    #[sabi(last_prefix_field)]
    pub poisoned: extern "C" fn() -> bool,
    /// Only in the build of this crate that the version-compatibility
    /// fixtures use as "a later plugboard-interface with one more root-module
    /// field" (`tests/compat/interface-next`); never in a release.
    #[cfg(plugboard_next_root_field)]
    pub next_root_field: u32,
}

impl PluginLibrary {
    /// Builds the root module (an implementation detail of
    /// [`export_plugins!`](crate::export_plugins): the one place that knows
    /// every field).
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub fn __new(
        handshake: Handshake,
        metadata: LibraryMetadata,
        plugin_sets: RSlice<'static, PluginSet>,
        init: extern "C" fn(context: HostContext) -> RResult<(), PluginError>,
        set_max_log_level: extern "C" fn(level: u8),
        shutdown: extern "C" fn() -> RResult<(), PluginError>,
        poisoned: extern "C" fn() -> bool,
    ) -> Self {
        Self {
            handshake,
            metadata,
            plugin_sets,
            init,
            set_max_log_level,
            shutdown,
            poisoned,
            #[cfg(plugboard_next_root_field)]
            next_root_field: 42,
        }
    }
}

impl RootModule for PluginLibraryRef {
    declare_root_module_statics! {PluginLibraryRef}
    const BASE_NAME: &'static str = "plugboard_plugin";
    const NAME: &'static str = "plugboard plugin library";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// A plugin library's description of itself.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct LibraryMetadata {
    /// The library's name (by default its crate name).
    pub name: RStr<'static>,
    /// The library's own version (by default its crate version).
    pub version: RStr<'static>,
    /// A one-line description (by default its crate description).
    pub description: RStr<'static>,
}

/// The plugins a library offers for one protocol version, like one entry of
/// go-plugin's `VersionedPlugins` map.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct PluginSet {
    /// The application protocol version these plugins speak.
    pub protocol_version: u32,
    /// The named plugins.
    pub entries: RSlice<'static, PluginEntry>,
}

/// Creates a plugin object and writes it to `out`.
///
/// # Safety
///
/// `out` must be valid for a write of the type whose layout is in the same
/// [`PluginEntry`], and suitably aligned for it. On `ROk` the object has been
/// written and the caller owns it; on `RErr` nothing was written.
pub type Factory = unsafe extern "C" fn(out: *mut c_void) -> RResult<(), PluginError>;

/// One named plugin in a library.
///
/// Its fields are read-only: an entry promises that its factory writes an
/// object of the layout it carries, which only [`PluginEntry::new`]'s caller
/// can vouch for.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct PluginEntry {
    name: RStr<'static>,
    interface: RStr<'static>,
    interface_version: RStr<'static>,
    layout: &'static TypeLayout,
    // Written out (not `Factory`): the layout derive reads fn pointer types
    // from their syntax.
    factory: unsafe extern "C" fn(out: *mut c_void) -> RResult<(), PluginError>,
    methods: ROption<&'static MethodTable>,
}

impl PluginEntry {
    /// An entry for a plugin named `name` implementing interface `I`.
    ///
    /// # Safety
    ///
    /// `factory` must follow the [`Factory`] contract for `I::Object`: on
    /// success it writes a valid `I::Object` (for an `#[interface]` trait,
    /// one made with the interface's own vtables) to the slot it is given.
    pub const unsafe fn new<I: ?Sized + PluginInterface>(
        name: &'static str,
        factory: Factory,
    ) -> Self {
        Self {
            name: RStr::from_str(name),
            interface: RStr::from_str(I::NAME),
            interface_version: RStr::from_str(I::VERSION),
            layout: <I::Object as StableAbi>::LAYOUT,
            factory,
            methods: match I::METHODS {
                Some(table) => ROption::RSome(table),
                None => ROption::RNone,
            },
        }
    }

    /// Like [`new`](Self::new), taking the interface type from what `make`
    /// returns; `make` is never called. Used by
    /// [`export_plugins!`](crate::export_plugins) for hand-written interfaces.
    ///
    /// # Safety
    ///
    /// As [`new`](Self::new), for `I`.
    #[doc(hidden)]
    pub const unsafe fn __for_constructor<I: Interface>(
        name: &'static str,
        _make: fn() -> I,
        factory: Factory,
    ) -> Self {
        // SAFETY: forwarded to the caller.
        unsafe { Self::new::<I>(name, factory) }
    }

    /// The name the host dispenses this plugin by, e.g. `"greeter"`.
    pub fn name(&self) -> &'static str {
        self.name.as_str()
    }

    /// The name of the interface it implements.
    pub fn interface(&self) -> &'static str {
        self.interface.as_str()
    }

    /// The version of the interface it was built against.
    pub fn interface_version(&self) -> &'static str {
        self.interface_version.as_str()
    }

    /// The `abi_stable` layout of the object the factory writes.
    pub fn layout(&self) -> &'static TypeLayout {
        self.layout
    }

    /// The factory: writes a new plugin object.
    pub fn factory(&self) -> Factory {
        self.factory
    }

    /// The interface's method table, for an `#[interface]` trait.
    pub fn methods(&self) -> Option<&'static MethodTable> {
        self.methods.into_option()
    }
}

impl std::fmt::Debug for PluginEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEntry")
            .field("name", &self.name)
            .field("interface", &self.interface)
            .field("interface_version", &self.interface_version)
            .finish_non_exhaustive()
    }
}
