//! What a host offers once files are loaded: its configuration, what is
//! loaded, dispensing (typed and by name), log levels, closing.

use std::{
    path::{Path, PathBuf},
    sync::{atomic::Ordering, Arc},
};

use plugboard_interface::{HandshakeConfig, PluginError, PluginInterface};

use super::PluginHost;
use crate::{
    check, dispense, handshake,
    registry::{Library, LibraryInfo, PluginInfo, Runtime, Snapshot},
    vet::{self, Inspection},
    DispenseError, DynamicPlugin, LoadError, Plugin,
};

impl PluginHost {
    /// The handshake this host requires of plugins.
    pub fn handshake(&self) -> &HandshakeConfig {
        &self.config.handshake
    }

    /// The protocol versions this host speaks, sorted.
    pub fn protocol_versions(&self) -> &[u32] {
        &self.config.protocols
    }

    /// The interfaces registered with [`PluginHostBuilder::interface`](crate::PluginHostBuilder::interface), as
    /// (name, version) pairs.
    pub fn interfaces(&self) -> Vec<(&'static str, &'static str)> {
        self.config
            .specs
            .iter()
            .map(|s| (s.name, s.version))
            .collect()
    }

    /// The method table of the registered interface called `name`, if it was
    /// declared with `#[interface]`.
    pub fn interface_methods(
        &self,
        name: &str,
    ) -> Option<&'static plugboard_interface::MethodTable> {
        self.config
            .specs
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.methods)
    }

    /// The plugins folder given to the builder, if any.
    pub fn plugins_dir(&self) -> Option<&Path> {
        self.config.plugins_dir.as_deref()
    }

    /// What [`load_file`](Self::load_file) would find out about a file
    /// before running any of its code: the vet results and metadata, and
    /// whether its handshake and interface versions would pass (the
    /// negotiated protocol, or the refusal).
    ///
    /// # Errors
    ///
    /// The vet step refused the file (it is not a readable library).
    pub fn inspect_file(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<(Inspection, Result<u32, LoadError>), LoadError> {
        let path = path.as_ref();
        let vetted = vet::file(path, &self.config.vet, true)?;
        let metadata = vetted.metadata();
        let verdict = handshake::negotiate(
            path,
            metadata,
            &self.config.handshake,
            &self.config.protocols,
        )
        .and_then(|protocol| {
            check::majors(path, metadata, protocol, &self.config.specs).map(|()| protocol)
        });
        Ok((vetted.inspection, verdict))
    }

    /// The libraries being dispensed from, in load order.
    pub fn libraries(&self) -> Vec<LibraryInfo> {
        self.registry
            .load()
            .live
            .iter()
            .map(|l| l.info.clone())
            .collect()
    }

    /// How many old generations (replaced or removed libraries) stay mapped:
    /// libraries are never unloaded, so this memory is not given back.
    pub fn retired_generations(&self) -> usize {
        self.registry.load().retired.len()
    }

    /// Every plugin available for dispensing, sorted by name.
    pub fn plugins(&self) -> Vec<PluginInfo> {
        self.registry
            .load()
            .by_name
            .values()
            .map(|slot| slot.info.clone())
            .collect()
    }

    /// The plugin called `name`, if one is loaded.
    pub fn plugin(&self, name: &str) -> Option<PluginInfo> {
        self.registry
            .load()
            .by_name
            .get(name)
            .map(|slot| slot.info.clone())
    }

    /// Creates a new object of the plugin called `name`, as interface `I`
    /// (for an `#[interface]` trait, `dispense::<dyn Trait>`).
    ///
    /// Before the plugin's factory runs, the host checks that the plugin
    /// implements `I` (same interface name), that its interface version is
    /// compatible with `I::VERSION` (same major; an older or newer minor is
    /// fine), that its object's `abi_stable` layout matches `I`'s and, for an
    /// `#[interface]` trait, that every method it shares with `I` has the
    /// same name and layout. The check runs once per plugin and type. Each
    /// call runs the plugin's factory and returns a new object.
    ///
    /// # Errors
    ///
    /// [`DispenseError::UnknownPlugin`] (listing the names available),
    /// [`DispenseError::WrongInterface`], [`DispenseError::IncompatibleVersion`],
    /// [`DispenseError::LayoutMismatch`], [`DispenseError::FactoryFailed`] or
    /// [`DispenseError::Closed`].
    pub fn dispense<I: ?Sized + PluginInterface>(
        &self,
        name: &str,
    ) -> Result<Plugin<I>, DispenseError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(DispenseError::Closed {
                plugin: name.to_owned(),
            });
        }
        let snapshot = self.registry.load();
        let Some(slot) = snapshot.by_name.get(name) else {
            return Err(DispenseError::UnknownPlugin {
                name: name.to_owned(),
                available: snapshot.names(),
            });
        };
        let checked = dispense::checked::<I>(slot).map_err(|e| with_candidates(e, &snapshot))?;
        dispense::create(&checked)
    }

    /// Dispenses the plugin called `name` for calls by name, with JSON
    /// arguments and results ([`DynamicPlugin`]), through the interface the
    /// host registered for it — what a command line uses.
    ///
    /// # Errors
    ///
    /// As [`dispense`](Self::dispense), and
    /// [`DispenseError::Unregistered`] when the host does not register the
    /// plugin's interface, [`DispenseError::NotCallable`] when that
    /// interface was not declared with `#[interface]`.
    pub fn dispense_dynamic(&self, name: &str) -> Result<DynamicPlugin, DispenseError> {
        let snapshot = self.registry.load();
        let Some(slot) = snapshot.by_name.get(name) else {
            return Err(DispenseError::UnknownPlugin {
                name: name.to_owned(),
                available: snapshot.names(),
            });
        };
        let interface = slot.info.entry.interface.as_str();
        match self
            .config
            .interfaces
            .iter()
            .find(|r| r.spec.name == interface)
        {
            Some(registered) => (registered.dynamic)(self, name),
            None => Err(DispenseError::Unregistered {
                plugin: name.to_owned(),
                interface: interface.to_owned(),
                registered: self
                    .config
                    .specs
                    .iter()
                    .map(|s| s.name.to_owned())
                    .collect(),
            }),
        }
    }

    /// The id of the process the plugin called `name` runs in, if it is
    /// isolated (see [`PluginHostBuilder::isolate`](crate::PluginHostBuilder::isolate)) and its process runs;
    /// `None` for a plugin in the host's own process.
    pub fn process_id(&self, name: &str) -> Option<u32> {
        let snapshot = self.registry.load();
        match &snapshot.by_name.get(name)?.library.runtime {
            Runtime::InProcess(_) => None,
            Runtime::Isolated(child) => child.process_id(),
        }
    }

    /// Whether the plugin called `name` runs in a process of its own.
    pub fn is_isolated(&self, name: &str) -> bool {
        let snapshot = self.registry.load();
        snapshot
            .by_name
            .get(name)
            .is_some_and(|slot| !slot.library.runtime.is_mapped())
    }

    /// Whether code of the library that provides `name` has panicked (a
    /// panic caught inside the library marks the whole library).
    pub fn is_poisoned(&self, name: &str) -> Option<bool> {
        let snapshot = self.registry.load();
        let slot = snapshot.by_name.get(name)?;
        Some(slot.library.runtime.poisoned())
    }

    /// Sets the host's maximum log level (`log::set_max_level`) and applies
    /// it inside every loaded library, so that a statement the host would
    /// drop is filtered inside the plugin, without crossing the boundary.
    /// Call it instead of `log::set_max_level` after libraries are loaded.
    pub fn set_max_log_level(&self, level: log::LevelFilter) {
        log::set_max_level(level);
        for library in self.registry.load().all() {
            library.runtime.set_max_log_level(level as u8);
        }
    }

    /// How many log records plugins have forwarded to this host so far
    /// (whether or not the host's logger kept them).
    pub fn log_records_forwarded(&self) -> u64 {
        self.config.shared.forwarded.load(Ordering::Relaxed)
    }

    /// Shuts the host down: calls every library's shutdown hook once, in
    /// reverse load order, each guarded inside its library, and returns what
    /// each reported. After `close`, [`dispense`](Self::dispense) refuses.
    /// Objects already dispensed keep their library mapped (libraries are
    /// never unloaded), but the plugin may have released its state.
    ///
    /// Dropping the host calls `close` if it has not run.
    pub fn close(&self) -> Vec<(PathBuf, Result<(), PluginError>)> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Vec::new();
        }
        let _writer = self.writer();
        let snapshot = self.registry.snapshot();
        let mut libraries: Vec<&Arc<Library>> = snapshot.all().collect();
        libraries.sort_by_key(|l| std::cmp::Reverse(l.sequence));
        libraries
            .into_iter()
            .map(|library| {
                let result = library.runtime.shutdown();
                if let Err(e) = &result {
                    log::warn!(
                        "{}: shutdown failed: {}",
                        crate::display::path(&library.info.path),
                        crate::display::controls_escaped(e)
                    );
                }
                (library.info.path.clone(), result)
            })
            .collect()
    }

    /// Dispenses every loaded plugin whose interface this host registered
    /// (with [`PluginHostBuilder::interface`](crate::PluginHostBuilder::interface)) and drops the object: proof
    /// that each one can be created. Plugins of interfaces the host did not
    /// register are listed with `None`.
    pub fn verify(&self) -> Vec<(PluginInfo, Option<Result<(), DispenseError>>)> {
        self.plugins()
            .into_iter()
            .map(|info| {
                let outcome = self
                    .config
                    .interfaces
                    .iter()
                    .find(|r| r.spec.name == info.entry.interface)
                    .map(|r| (r.probe)(self, &info.entry.name));
                (info, outcome)
            })
            .collect()
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.close();
    }
}

/// Fills in the plugins that implement the requested interface on a
/// wrong-interface error.
fn with_candidates(error: DispenseError, snapshot: &Snapshot) -> DispenseError {
    match error {
        DispenseError::WrongInterface {
            plugin,
            path,
            expected,
            found,
            ..
        } => DispenseError::WrongInterface {
            implementing: snapshot
                .by_name
                .iter()
                .filter(|(_, s)| s.info.entry.interface == expected)
                .map(|(n, _)| n.clone())
                .collect(),
            plugin,
            path,
            expected,
            found,
        },
        other => other,
    }
}
