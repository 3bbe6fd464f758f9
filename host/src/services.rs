//! The host's side of what plugins receive at init: host services (name,
//! version, log sink, application services by name) and the log bridge's
//! receiving end. One of the modules with `unsafe` (writing a service object
//! into the plugin's slot, once its checks passed).

use std::{
    collections::BTreeMap,
    ffi::c_void,
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RArc, ROption, RResult, RStr, RString},
    type_layout::TypeLayout,
    StableAbi,
};
use plugboard_interface::{
    Exports, HostServices, HostServicesBox, LogRecord, MethodTable, PluginError,
};
use plugboard_interface::{Remote, Served};

use crate::layout::{check_methods, layouts_compatible};

/// A plugin's slot for a service object, after the interface checks passed:
/// only [`HostServicesImpl::provide`] makes one.
struct CheckedSlot(*mut c_void);

/// Writes a new service object into a checked slot.
type MakeService = dyn Fn(CheckedSlot) + Send + Sync;
/// Writes a remote service object (a runner's, reaching the host's) into a
/// checked slot; false for an interface whose calls cannot travel.
type MakeRemote = dyn Fn(CheckedSlot, Remote) -> bool + Send + Sync;
/// Makes a service object for calls as bytes (from an isolated plugin).
type MakeServed = dyn Fn() -> Option<Served> + Send + Sync;

/// One application service the host offers plugins.
#[derive(Clone)]
pub(crate) struct ServiceSpec {
    interface: &'static str,
    version: &'static str,
    layout: &'static TypeLayout,
    methods: Option<&'static MethodTable>,
    make: Arc<MakeService>,
    /// For isolated plugins.
    remote: Arc<MakeRemote>,
    served: Arc<MakeServed>,
}

impl ServiceSpec {
    pub(crate) fn new<S, T>(make: impl Fn() -> T + Send + Sync + 'static) -> Self
    where
        S: ?Sized + Exports<T>,
    {
        let make = Arc::new(make);
        let make_served = Arc::clone(&make);
        Self {
            interface: S::NAME,
            version: S::VERSION,
            layout: <S::Object as StableAbi>::LAYOUT,
            methods: S::METHODS,
            make: Arc::new(move |slot: CheckedSlot| {
                let object = S::export(make());
                // SAFETY: a `CheckedSlot` is valid and aligned for a value
                // whose layout was checked compatible with `S::Object`'s (the
                // `HostServices::service` contract, checked in `provide`).
                unsafe { slot.0.cast::<S::Object>().write(object) };
            }),
            remote: Arc::new(
                |slot: CheckedSlot, remote: Remote| match S::remote(remote) {
                    Some(object) => {
                        // SAFETY: as for `make`.
                        unsafe { slot.0.cast::<S::Object>().write(object) };
                        true
                    }
                    None => false,
                },
            ),
            served: Arc::new(move || S::serve(S::export(make_served()))),
        }
    }
}

/// Everything the host shares with every library it loads.
pub(crate) struct Shared {
    pub(crate) host_name: String,
    pub(crate) host_version: String,
    pub(crate) services: BTreeMap<String, ServiceSpec>,
    pub(crate) forwarded: AtomicU64,
}

impl Shared {
    /// A host's shared state as the runner of one of its isolated plugins
    /// presents it: the host's name and version, this program's services.
    pub(crate) fn for_runner(&self, host_name: &str, host_version: &str) -> Self {
        Self {
            host_name: host_name.to_owned(),
            host_version: host_version.to_owned(),
            services: self.services.clone(),
            forwarded: AtomicU64::new(0),
        }
    }

    /// The services offered, as host and runner compare them.
    pub(crate) fn service_digests(&self) -> Vec<(String, crate::isolation::InterfaceDigest)> {
        self.services
            .iter()
            .map(|(name, spec)| {
                (
                    name.clone(),
                    crate::isolation::digest(spec.interface, spec.version, spec.methods),
                )
            })
            .collect()
    }

    /// A new object of service `name`, for calls from an isolated plugin
    /// (checked by its runner against the same offer).
    pub(crate) fn serve(&self, name: &str) -> Result<Served, PluginError> {
        let spec = self.services.get(name).ok_or_else(|| {
            PluginError::failed(format!("the host offers no service named `{name}`"))
        })?;
        catch_unwind(AssertUnwindSafe(|| (spec.served)()))
            .map_err(|_| {
                PluginError::failed(format!(
                    "the host's service `{name}` panicked while being created"
                ))
            })?
            .ok_or_else(|| {
                PluginError::unsupported(format!(
                    "the host's service `{name}` ({}) is not `Send` or was written by hand, so a plugin in another process cannot call it",
                    spec.interface
                ))
            })
    }

    /// Emits one of library `library`'s log records through the host's
    /// logger, under the target `plugin::<library>::<target>`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn emit(
        &self,
        library: &str,
        level: u8,
        target: &str,
        message: &str,
        module_path: Option<&str>,
        file: Option<&str>,
        line: Option<u32>,
    ) {
        let level = match level {
            1 => log::Level::Error,
            2 => log::Level::Warn,
            3 => log::Level::Info,
            4 => log::Level::Debug,
            _ => log::Level::Trace,
        };
        let target = format!("plugin::{library}::{target}");
        let logger = log::logger();
        let metadata = log::Metadata::builder()
            .level(level)
            .target(&target)
            .build();
        self.forwarded.fetch_add(1, Ordering::Relaxed);
        if !logger.enabled(&metadata) {
            return;
        }
        logger.log(
            &log::Record::builder()
                .metadata(metadata)
                .args(format_args!("{message}"))
                .module_path(module_path)
                .file(file)
                .line(line)
                .build(),
        );
    }
}

/// The `HostServices` object one library receives.
struct HostServicesImpl {
    library: String,
    shared: Arc<Shared>,
    /// In the runner of an isolated plugin: logs and services go to the host.
    runner: bool,
}

/// Makes the services object for `library`.
pub(crate) fn for_library(library: &str, shared: &Arc<Shared>) -> HostServicesBox {
    HostServicesBox::from_ptr(
        RArc::new(HostServicesImpl {
            library: library.to_owned(),
            shared: Arc::clone(shared),
            runner: false,
        }),
        TD_Opaque,
    )
}

/// Makes the services object for `library` in the runner of an isolated
/// plugin: its logs and service calls travel to the host.
pub(crate) fn for_runner(library: &str, shared: &Arc<Shared>) -> HostServicesBox {
    HostServicesBox::from_ptr(
        RArc::new(HostServicesImpl {
            library: library.to_owned(),
            shared: Arc::clone(shared),
            runner: true,
        }),
        TD_Opaque,
    )
}

impl HostServices for HostServicesImpl {
    fn host_name(&self) -> RString {
        self.shared.host_name.as_str().into()
    }

    fn host_version(&self) -> RString {
        self.shared.host_version.as_str().into()
    }

    fn log(&self, record: &LogRecord<'_>) {
        // Called from plugin code through a vtable: a panic here (say, in
        // the host's logger) must not unwind into the plugin.
        let _ = catch_unwind(AssertUnwindSafe(|| self.emit(record)));
    }

    unsafe fn service(
        &self,
        name: RStr<'_>,
        interface: RStr<'_>,
        version: RStr<'_>,
        layout: &'static TypeLayout,
        methods: ROption<&'static MethodTable>,
        out: *mut c_void,
    ) -> RResult<(), PluginError> {
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.provide(
                name.as_str(),
                interface.as_str(),
                version.as_str(),
                layout,
                methods.into_option(),
                out,
            )
        }));
        match result {
            Ok(result) => result.into(),
            Err(_) => RResult::RErr(PluginError::failed(format!(
                "the host's service `{name}` panicked while being created"
            ))),
        }
    }
}

impl HostServicesImpl {
    fn emit(&self, record: &LogRecord<'_>) {
        if self.runner {
            crate::isolation::callback::forward_log(record);
            return;
        }
        self.shared.emit(
            &self.library,
            record.level,
            record.target.as_str(),
            record.message.as_str(),
            record.module_path.map(|m| m.as_str()).into_option(),
            record.file.map(|f| f.as_str()).into_option(),
            record.line.into_option(),
        );
    }

    /// Checks the service against what the plugin expects, then writes it.
    fn provide(
        &self,
        name: &str,
        interface: &str,
        version: &str,
        layout: &'static TypeLayout,
        methods: Option<&'static MethodTable>,
        out: *mut c_void,
    ) -> Result<(), PluginError> {
        let spec = self.shared.services.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.shared.services.keys().map(String::as_str).collect();
            PluginError::failed(format!(
                "the host offers no service named `{name}` (it offers: {})",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ))
        })?;
        let refuse = |problem: String| {
            PluginError::failed(format!(
                "the host's service `{name}` ({} {}) cannot be used as {interface} {version}: {problem}",
                spec.interface, spec.version
            ))
        };
        if spec.interface != interface {
            return Err(refuse(format!("it implements {}", spec.interface)));
        }
        // The plugin is the side that expects `interface`; the host provides it.
        layouts_compatible(layout, version, spec.layout, spec.version).map_err(refuse)?;
        match (methods, spec.methods) {
            (Some(expected), Some(actual)) => {
                let parse = |v: &str| semver::Version::parse(v).map_err(|e| refuse(e.to_string()));
                check_methods(expected, &parse(version)?, actual, &parse(spec.version)?)
                    .map_err(|m| refuse(m.summary))?;
            }
            (None, None) => {}
            _ => {
                return Err(refuse(
                    "one side declares it with #[interface] and the other by hand".to_owned(),
                ))
            }
        }
        if self.runner {
            return self.provide_remote(name, spec, out);
        }
        (spec.make)(CheckedSlot(out));
        Ok(())
    }

    /// In a runner: opens the service in the host and writes a remote
    /// object of it (the checks passed against this program's own offer,
    /// which the host's equals).
    fn provide_remote(
        &self,
        name: &str,
        spec: &ServiceSpec,
        out: *mut c_void,
    ) -> Result<(), PluginError> {
        if spec.methods.is_none() {
            return Err(PluginError::unsupported(format!(
                "the host's service `{name}` implements {}, written by hand without #[interface]: a plugin in another process cannot call it",
                spec.interface
            )));
        }
        let remote = crate::isolation::callback::open_service(name)?;
        if (spec.remote)(CheckedSlot(out), remote) {
            Ok(())
        } else {
            Err(PluginError::unsupported(format!(
                "the host's service `{name}` cannot be called from another process"
            )))
        }
    }
}
