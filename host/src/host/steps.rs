//! Steps 4–6 of the load flow (load, check, init), in the host's own
//! process or in a runner process of the plugin's own.

use std::path::Path;
use std::time::{Duration, Instant};

use plugboard_interface::{metadata::Metadata, HostContext, PluginEntry};

use super::{Clock, PluginHost};
use crate::{
    check, display, handshake, load,
    mapped::Mapped,
    private_copy::PrivateCopy,
    registry::{EntryInfo, LoadTimings, Runtime},
    services, LoadError,
};

/// What steps 4–6 found, in the host or in a runner.
pub(super) struct Loaded {
    pub(super) name: String,
    pub(super) version: String,
    pub(super) description: String,
    /// Per plugin: what the host shows, the entry (in the host's memory, for
    /// an in-process library) and the registered interface it passed.
    pub(super) entries: Vec<(EntryInfo, Option<PluginEntry>, check::Passed)>,
    pub(super) runtime: Runtime,
}

impl PluginHost {
    /// Steps 4–6 in the host: `dlopen` (the library's constructors run; it
    /// stays mapped whatever happens next, and `mapped` counts it) and the
    /// root module's layout; the library says what its metadata said and the
    /// registered interfaces match; its own init.
    #[allow(clippy::too_many_arguments)] // the load's state, step by step
    pub(super) fn load_in_process(
        &self,
        mapped: &mut Mapped,
        path: &Path,
        copy: PrivateCopy,
        metadata: &Metadata,
        protocol: u32,
        timings: &mut LoadTimings,
        clock: &mut Clock,
    ) -> Result<Loaded, LoadError> {
        let config = &self.config;
        log::debug!("loading {} from its private copy", display::path(path));
        let dlopened = load::dlopen(path, copy)?;
        mapped.add(path);
        let opened = load::root(path, dlopened)?;
        timings.dlopen = opened.dlopen;
        timings.layout = clock.lap() - opened.dlopen;

        let entries = handshake::confirm(path, &opened.root, metadata, protocol)?;
        let registered = check::registered(path, entries, &config.specs)?;
        timings.interfaces = clock.lap();

        let meta = opened.root.metadata();
        load::init(
            path,
            &opened,
            HostContext {
                services: services::for_library(meta.name.as_str(), &config.shared),
                max_log_level: log::max_level() as u8,
                panic_policy: config.panic_policy,
            },
        )?;
        timings.init = clock.lap();

        Ok(Loaded {
            name: meta.name.to_string(),
            version: meta.version.to_string(),
            description: meta.description.to_string(),
            entries: entries
                .iter()
                .zip(registered)
                .map(|(e, passed)| {
                    let info = EntryInfo {
                        name: e.name().to_owned(),
                        interface: e.interface().to_owned(),
                        interface_version: e.interface_version().to_owned(),
                        missing_methods: passed
                            .as_ref()
                            .map(|(_, m)| m.clone())
                            .unwrap_or_default(),
                    };
                    (info, Some(*e), passed)
                })
                .collect(),
            runtime: Runtime::InProcess(opened.root),
        })
    }

    /// Steps 4–6 in a runner process: the same steps, reported back.
    pub(super) fn load_isolated(
        &self,
        path: &Path,
        copy: PrivateCopy,
        metadata: &Metadata,
        protocol: u32,
        timings: &mut LoadTimings,
    ) -> Result<Loaded, LoadError> {
        let config = &self.config;
        check::isolable(path, metadata, protocol, &config.specs)?;
        log::debug!("loading {} in a process of its own", display::path(path));
        let started = Instant::now();
        let (child, loaded) =
            crate::isolation::parent::Child::start(path, copy, metadata, protocol, config)?;
        let [dlopen, layout, interfaces, init] = loaded.micros.map(Duration::from_micros);
        timings.dlopen = dlopen;
        timings.layout = layout;
        timings.interfaces = interfaces;
        timings.init = init;
        timings.isolation = started
            .elapsed()
            .saturating_sub(dlopen + layout + interfaces + init);
        let entries = loaded
            .entries
            .iter()
            .map(|e| {
                let passed = e.registered.as_ref().and_then(|_| {
                    config
                        .specs
                        .iter()
                        .find(|s| s.name == e.interface)
                        .map(|spec| (*spec, e.missing_methods()))
                });
                let info = EntryInfo {
                    name: e.name.clone(),
                    interface: e.interface.clone(),
                    interface_version: e.interface_version.clone(),
                    missing_methods: e.missing_methods(),
                };
                (info, None, passed)
            })
            .collect();
        Ok(Loaded {
            name: loaded.name,
            version: loaded.version,
            description: loaded.description,
            entries,
            runtime: Runtime::Isolated(child),
        })
    }
}
