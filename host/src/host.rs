//! `PluginHost`: the load flow, step by step, and the host's public face.
//! Each step is a function of its own module; this file only strings them
//! together.

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
    time::{Duration, Instant},
};

use plugboard_interface::{
    metadata::Metadata, HandshakeConfig, HostContext, PluginEntry, PluginError, PluginInterface,
};

use crate::{
    builder::Config,
    check, discover,
    dispense::{self, CheckCache},
    handshake, load, private_copy,
    registry::{
        EntryInfo, Library, LibraryInfo, LoadTimings, PluginInfo, Registry, Runtime, Snapshot,
    },
    services,
    vet::{self, Inspection},
    watch::Refused,
    DispenseError, DynamicPlugin, FileOutcome, LoadError, LoadErrorKind, LoadReport, Plugin,
    PluginHostBuilder,
};

/// Loads plugin libraries and dispenses their plugins.
///
/// Build one with [`PluginHost::builder`], load a folder with
/// [`load_dir`](Self::load_dir), then [`dispense`](Self::dispense) plugin
/// objects by name.
///
/// # Safety
///
/// Loading runs code of the library (its constructors and its root-module
/// constructor) with the host's privileges: only load files you trust (see
/// the signing support). A crash in plugin code ends the host's process.
///
/// # Thread-safety
///
/// `PluginHost` is `Send + Sync` and every method takes `&self`: threads can
/// dispense while another loads, reloads or applies a watched folder's
/// changes. Dispensing takes no lock: it reads the current registry
/// snapshot, which loads replace atomically. Loads are serialised among
/// themselves. Dispensed objects are `Send + Sync` when their interface is.
///
/// # Platform-specific behaviour
///
/// Candidate files end in `.so` (Linux and other Unixes), `.dylib` (macOS) or
/// `.dll` (Windows). On Unix, libraries are opened with
/// `RTLD_NOW | RTLD_LOCAL`.
pub struct PluginHost {
    config: Config,
    registry: Registry,
    /// Serialises the writers of the registry (dispensing never takes it),
    /// and holds what they remember of refused files.
    writer: Mutex<Refused>,
    /// Numbers libraries in load order (for shutdown in reverse order).
    sequence: AtomicU64,
    closed: AtomicBool,
}

/// What steps 4–6 found, in the host or in a runner.
struct Loaded {
    name: String,
    version: String,
    description: String,
    /// Per plugin: what the host shows, the entry (in the host's memory, for
    /// an in-process library) and the registered interface it passed.
    entries: Vec<(EntryInfo, Option<PluginEntry>, check::Passed)>,
    runtime: Runtime,
}

/// Times the steps of one load.
struct Clock(Instant);

impl Clock {
    /// The time since the last lap.
    fn lap(&mut self) -> Duration {
        let now = Instant::now();
        let lap = now - self.0;
        self.0 = now;
        lap
    }
}

impl PluginHost {
    /// A builder with no cookie, protocol version 1 and no plugins folder.
    pub fn builder() -> PluginHostBuilder {
        PluginHostBuilder::default()
    }

    pub(crate) fn from_config(config: Config) -> Self {
        Self {
            config,
            registry: Registry::default(),
            writer: Mutex::new(Refused::default()),
            sequence: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.registry.snapshot()
    }

    /// Takes the writers' lock (loads, reloads, removals).
    pub(crate) fn writer(&self) -> MutexGuard<'_, Refused> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The handshake this host requires of plugins.
    pub fn handshake(&self) -> &HandshakeConfig {
        &self.config.handshake
    }

    /// The protocol versions this host speaks, sorted.
    pub fn protocol_versions(&self) -> &[u32] {
        &self.config.protocols
    }

    /// The interfaces registered with [`PluginHostBuilder::interface`], as
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

    /// Loads every candidate file of the folder given to the builder; see
    /// [`load_dir`](Self::load_dir). Without a folder, the report is empty.
    pub fn load(&self) -> LoadReport {
        match self.config.plugins_dir.clone() {
            Some(dir) => self.load_dir(dir),
            None => LoadReport {
                dir: PathBuf::new(),
                outcomes: Vec::new(),
            },
        }
    }

    /// Loads every candidate file (`*.so`, `*.dylib` or `*.dll`, by platform)
    /// directly in `dir`, in sorted order.
    ///
    /// Each file is either loaded or refused with a [`LoadError`]; one
    /// refused file never stops the others. A file already loaded by this
    /// host is refused as [`LoadErrorKind::AlreadyLoaded`].
    pub fn load_dir(&self, dir: impl AsRef<Path>) -> LoadReport {
        let dir = dir.as_ref().to_owned();
        let files = match discover::discover(&dir) {
            Ok(files) => files,
            Err(cause) => {
                return LoadReport {
                    outcomes: vec![FileOutcome {
                        path: dir.clone(),
                        result: Err(LoadError::new(
                            &dir,
                            LoadErrorKind::FolderUnreadable { cause },
                        )),
                    }],
                    dir,
                }
            }
        };
        let mut writer = self.writer();
        let outcomes = files
            .into_iter()
            .map(|path| {
                let result = self.load_new(&path);
                if result.is_err() {
                    writer.remember(&path);
                }
                FileOutcome { result, path }
            })
            .collect();
        LoadReport { dir, outcomes }
    }

    /// Loads one library file.
    ///
    /// # Errors
    ///
    /// A [`LoadError`] naming the file and the reason it was refused.
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<LibraryInfo, LoadError> {
        let _writer = self.writer();
        self.load_new(path.as_ref())
    }

    /// Loads a file this host has not loaded (the writer's lock is held).
    pub(crate) fn load_new(&self, path: &Path) -> Result<LibraryInfo, LoadError> {
        if self.registry.load().live(path).is_some() {
            return Err(LoadError::new(path, LoadErrorKind::AlreadyLoaded));
        }
        self.load_generation(path, None)
    }

    /// The load flow of one file: vet → handshake → private copy → load →
    /// confirm and check interfaces → init → register. `replacing` is the
    /// live generation of the same file that the new one replaces. The
    /// writer's lock is held.
    pub(crate) fn load_generation(
        &self,
        path: &Path,
        replacing: Option<&Arc<Library>>,
    ) -> Result<LibraryInfo, LoadError> {
        let config = &self.config;
        let snapshot = self.registry.snapshot();
        let mapped = snapshot.mapped(path);
        if mapped >= config.max_generations {
            return Err(LoadError::new(
                path,
                LoadErrorKind::TooManyGenerations {
                    mapped,
                    limit: config.max_generations,
                },
            ));
        }
        let mut clock = Clock(Instant::now());
        let mut timings = LoadTimings::default();

        // 1. Vet: nothing of the file runs.
        log::debug!("vetting {}", path.display());
        let vetted = vet::file(path, &config.vet, false)?;
        timings.vet = clock.lap();

        // 2. Handshake, interface majors and names, from the metadata.
        let metadata = vetted.metadata();
        let protocol = handshake::negotiate(path, metadata, &config.handshake, &config.protocols)?;
        check::majors(path, metadata, protocol, &config.specs)?;
        snapshot.check_names(path, metadata, protocol, replacing)?;
        timings.handshake = clock.lap();

        // 3. The private copy that is loaded.
        let copy = private_copy::make(&vetted.bytes, &display_name(path))
            .map_err(|cause| LoadError::new(path, LoadErrorKind::PrivateCopy { cause }))?;
        timings.copy = clock.lap();

        // 4–6 in the host, or in a runner process of its own.
        let loaded = if config.isolation.applies(path, metadata, protocol) {
            self.load_isolated(path, copy, metadata, protocol, &mut timings)?
        } else {
            self.load_in_process(path, copy, metadata, protocol, &mut timings, &mut clock)?
        };

        // 7. Register its plugins.
        let info = LibraryInfo {
            path: path.to_owned(),
            name: loaded.name,
            version: loaded.version,
            description: loaded.description,
            protocol,
            offered_protocols: metadata.protocols.clone(),
            entries: loaded
                .entries
                .iter()
                .map(|(info, ..)| info.clone())
                .collect(),
            generation: replacing.map_or(1, |old| old.info.generation + 1),
            timings,
            isolated: !loaded.runtime.is_mapped(),
        };
        let caches = loaded
            .entries
            .into_iter()
            .map(|(entry, in_host, passed)| {
                let cache = match passed {
                    Some((spec, missing)) => {
                        CheckCache::passed_at_load(&spec, &entry, path, missing)
                    }
                    None => CheckCache::default(),
                };
                (in_host, cache)
            })
            .collect();
        let library = Arc::new(Library {
            info: info.clone(),
            runtime: loaded.runtime,
            stamp: vetted.stamp,
            sequence: self.sequence.fetch_add(1, Ordering::Relaxed),
        });
        self.registry
            .publish(snapshot.with(library, caches, replacing));
        Ok(info)
    }

    /// Steps 4–6 in the host: `dlopen` (the library's constructors run) and
    /// the root module's layout; the library says what its metadata said
    /// and the registered interfaces match; its own init.
    fn load_in_process(
        &self,
        path: &Path,
        copy: private_copy::PrivateCopy,
        metadata: &Metadata,
        protocol: u32,
        timings: &mut LoadTimings,
        clock: &mut Clock,
    ) -> Result<Loaded, LoadError> {
        let config = &self.config;
        log::debug!("loading {} from its private copy", path.display());
        let opened = load::open(path, copy)?;
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
    #[cfg(unix)]
    fn load_isolated(
        &self,
        path: &Path,
        copy: private_copy::PrivateCopy,
        metadata: &Metadata,
        protocol: u32,
        timings: &mut LoadTimings,
    ) -> Result<Loaded, LoadError> {
        let config = &self.config;
        check::isolable(path, metadata, protocol, &config.specs)?;
        log::debug!("loading {} in a process of its own", path.display());
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

    #[cfg(not(unix))]
    fn load_isolated(
        &self,
        path: &Path,
        _copy: private_copy::PrivateCopy,
        _metadata: &Metadata,
        _protocol: u32,
        _timings: &mut LoadTimings,
    ) -> Result<Loaded, LoadError> {
        Err(LoadError::new(
            path,
            LoadErrorKind::Isolation {
                reason: "isolated plugins need Unix (Linux or macOS)".to_owned(),
            },
        ))
    }

    /// Stops dispensing the library loaded from `path` (the writer's lock is
    /// held); returns it.
    pub(crate) fn retire(&self, path: &Path) -> Option<Arc<Library>> {
        let snapshot = self.registry.snapshot();
        let library = Arc::clone(snapshot.live(path)?);
        self.registry.publish(snapshot.without(&library));
        Some(library)
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
    /// isolated (see [`PluginHostBuilder::isolate`]) and its process runs;
    /// `None` for a plugin in the host's own process.
    pub fn process_id(&self, name: &str) -> Option<u32> {
        let snapshot = self.registry.load();
        match &snapshot.by_name.get(name)?.library.runtime {
            Runtime::InProcess(_) => None,
            #[cfg(unix)]
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
                    log::warn!("{}: shutdown failed: {e}", library.info.path.display());
                }
                (library.info.path.clone(), result)
            })
            .collect()
    }

    /// Dispenses every loaded plugin whose interface this host registered
    /// (with [`PluginHostBuilder::interface`]) and drops the object: proof
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

/// The file's name, for the private copy's label.
fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".to_owned())
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
