//! What the host gives a plugin at init: its services, the log bridge, and
//! the panic policy. The plugin side of "logs flow home" and of calling back
//! into the host (go-plugin's bidirectional example).

#![allow(non_local_definitions)] // `#[sabi_trait]` expands to impls inside a const block.

use std::{
    collections::BTreeMap,
    ffi::c_void,
    mem::MaybeUninit,
    sync::{Arc, Mutex, RwLock},
};

use abi_stable::{
    sabi_trait,
    std_types::{RArc, ROption, RResult, RStr, RString},
    type_layout::TypeLayout,
    StableAbi,
};

use crate::{abi::Checked, MethodTable, PluginError, PluginInterface, PluginMeta};

pub use host_services::{HostServices, HostServices_TO};

// The expansion of an `unsafe fn` in a `#[sabi_trait]` has unsafe blocks of
// abi_stable's making, without SAFETY comments; the lint is off for this
// module only, which holds nothing but the trait.
#[allow(clippy::undocumented_unsafe_blocks)]
mod host_services {
    use super::*;

    /// Services the host offers every plugin library, handed over at init.
    ///
    /// The host implements it; a plugin reaches it with [`host`]. Application
    /// services of any interface type are found by name with [`service`]: a user
    /// adds services without any change to this crate.
    #[sabi_trait]
    pub trait HostServices: Send + Sync {
        /// The host application's name.
        fn host_name(&self) -> RString;

        /// The host application's version.
        fn host_version(&self) -> RString;

        /// Emits one log record through the host's logger (the plugin's name is
        /// added to its target by the host).
        fn log(&self, record: &LogRecord<'_>);

        /// Writes the host's service `name` into `out`, after checking that it
        /// implements `interface` at a version compatible with `version`, that
        /// its layout is compatible with `layout` and, for an `#[interface]`
        /// trait, that its methods are compatible with `methods`. Use
        /// [`service`] instead.
        ///
        /// # Safety
        ///
        /// `out` must be valid and aligned for a write of a value of `layout`.
        /// Implementations write to it only after the checks pass.
        #[sabi(last_prefix_field)]
        unsafe fn service(
            &self,
            name: RStr<'_>,
            interface: RStr<'_>,
            version: RStr<'_>,
            layout: &'static TypeLayout,
            methods: ROption<&'static MethodTable>,
            out: *mut c_void,
        ) -> RResult<(), PluginError>;
    }
}

/// The host services object as a plugin holds it.
pub type HostServicesBox = HostServices_TO<'static, RArc<()>>;

/// One log record crossing from a plugin to the host.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct LogRecord<'a> {
    /// `log::Level` as a number: 1 = error ... 5 = trace.
    pub level: u8,
    /// The record's target (by default the plugin's module path).
    pub target: RStr<'a>,
    /// The formatted message.
    pub message: RStr<'a>,
    /// The module path, if known.
    pub module_path: ROption<RStr<'a>>,
    /// The source file, if known.
    pub file: ROption<RStr<'a>>,
    /// The source line, if known.
    pub line: ROption<u32>,
}

/// What a plugin does after one of its calls panicked (the panic itself is
/// always caught and returned as a [`PluginError`]).
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PanicPolicy {
    /// Keep answering calls (the default).
    #[default]
    KeepServing,
    /// Refuse every later guarded call with a `Poisoned` error: the library's
    /// state may be inconsistent after a panic.
    RefuseAfterPanic,
}

/// What the host passes to a plugin library's init.
#[repr(C)]
#[derive(StableAbi)]
pub struct HostContext {
    /// The host's services for this library.
    pub services: HostServicesBox,
    /// The host's maximum log level (`log::LevelFilter` as a number:
    /// 0 = off ... 5 = trace).
    pub max_log_level: u8,
    /// What to do after a panic.
    pub panic_policy: PanicPolicy,
}

static SERVICES: RwLock<Option<Arc<HostServicesBox>>> = RwLock::new(None);

/// The services of the host that loaded this plugin library, once its init
/// has run (always, before any factory or method is called by a plugboard
/// host).
pub fn host() -> Option<Arc<HostServicesBox>> {
    SERVICES.read().ok().and_then(|s| s.clone())
}

/// Gets the host's service `name` as interface `S` (for example a helper
/// the plugin calls back, as in go-plugin's bidirectional example): for an
/// `#[interface]` trait, `service::<dyn AddHelper>("add-helper")`.
///
/// # Errors
///
/// A [`PluginError`] when the plugin was not initialised by a host, the host
/// has no such service, or it implements another interface or version.
pub fn service<S: ?Sized + PluginInterface>(name: &str) -> Result<S::Handle, PluginError> {
    let host = host().ok_or_else(|| {
        PluginError::failed("no host services: the plugin library was not initialised by a host")
    })?;
    let mut slot = MaybeUninit::<S::Object>::uninit();
    // SAFETY: `slot` is valid and aligned for an `S::Object`, whose layout
    // we pass.
    unsafe {
        host.service(
            name.into(),
            S::NAME.into(),
            S::VERSION.into(),
            <S::Object as StableAbi>::LAYOUT,
            S::METHODS.into(),
            slot.as_mut_ptr().cast(),
        )
    }
    .into_result()?;
    // SAFETY: on success the host wrote a value whose layout (and method
    // table) it checked against `S`'s (the `HostServices::service` contract).
    let object = unsafe { Checked::new(slot.assume_init()) };
    Ok(S::wrap(object, service_meta::<S>(name)))
}

/// What a plugin knows of a host service, once per service name (handles
/// keep a `'static` reference, so each name is leaked once).
fn service_meta<S: ?Sized + PluginInterface>(name: &str) -> &'static PluginMeta {
    static METAS: Mutex<BTreeMap<String, &'static PluginMeta>> = Mutex::new(BTreeMap::new());
    let mut metas = METAS.lock().unwrap_or_else(|p| p.into_inner());
    metas
        .entry(format!("{name}\t{}", S::NAME))
        .or_insert_with(|| {
            Box::leak(Box::new(PluginMeta {
                name: format!("host service `{name}`"),
                path: Default::default(),
                interface: S::NAME.to_owned(),
                built_against: S::VERSION.to_owned(),
                host_version: S::VERSION.to_owned(),
                missing_methods: Vec::new(),
            }))
        })
}

pub(crate) fn install(services: HostServicesBox) {
    let mut slot = SERVICES.write().unwrap_or_else(|p| p.into_inner());
    *slot = Some(Arc::new(services));
}

pub(crate) fn uninstall() {
    let mut slot = SERVICES.write().unwrap_or_else(|p| p.into_inner());
    *slot = None;
}
