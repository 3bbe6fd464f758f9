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

use crate::layout::{check_methods, layouts_compatible};

/// A plugin's slot for a service object, after the interface checks passed:
/// only [`HostServicesImpl::provide`] makes one.
struct CheckedSlot(*mut c_void);

/// Writes a new service object into a checked slot.
type MakeService = dyn Fn(CheckedSlot) + Send + Sync;

/// One application service the host offers plugins.
#[derive(Clone)]
pub(crate) struct ServiceSpec {
    interface: &'static str,
    version: &'static str,
    layout: &'static TypeLayout,
    methods: Option<&'static MethodTable>,
    make: Arc<MakeService>,
}

impl ServiceSpec {
    pub(crate) fn new<S, T>(make: impl Fn() -> T + Send + Sync + 'static) -> Self
    where
        S: ?Sized + Exports<T>,
    {
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

/// The `HostServices` object one library receives.
struct HostServicesImpl {
    library: String,
    shared: Arc<Shared>,
}

/// Makes the services object for `library`.
pub(crate) fn for_library(library: &str, shared: &Arc<Shared>) -> HostServicesBox {
    HostServicesBox::from_ptr(
        RArc::new(HostServicesImpl {
            library: library.to_owned(),
            shared: Arc::clone(shared),
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
        let level = match record.level {
            1 => log::Level::Error,
            2 => log::Level::Warn,
            3 => log::Level::Info,
            4 => log::Level::Debug,
            _ => log::Level::Trace,
        };
        let target = format!("plugin::{}::{}", self.library, record.target);
        let logger = log::logger();
        let metadata = log::Metadata::builder()
            .level(level)
            .target(&target)
            .build();
        self.shared.forwarded.fetch_add(1, Ordering::Relaxed);
        if !logger.enabled(&metadata) {
            return;
        }
        logger.log(
            &log::Record::builder()
                .metadata(metadata)
                .args(format_args!("{}", record.message))
                .module_path(record.module_path.map(|m| m.as_str()).into_option())
                .file(record.file.map(|f| f.as_str()).into_option())
                .line(record.line.into_option())
                .build(),
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
        (spec.make)(CheckedSlot(out));
        Ok(())
    }
}
