//! `PluginHost`: the loader's public face.

use std::{
    any::TypeId,
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use plugboard_interface::{HandshakeConfig, HostContext, Interface, PanicPolicy, PluginError};

use crate::{
    discover,
    dispense::{self, InterfaceSpec},
    handshake, load, private_copy,
    registry::{EntryInfo, LoadTimings, Registry, Slot},
    services::{self, ServiceSpec, Shared},
    vet::{self, Inspection, VetPolicy},
    DispenseError, FileOutcome, LibraryInfo, LoadError, LoadReport, Plugin, PluginInfo, PluginMeta,
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
/// constructor) with the host's privileges: only load files you trust. A
/// crash in plugin code ends the host's process.
///
/// # Thread-safety
///
/// `PluginHost` is `Send + Sync`; loading takes `&mut self`, dispensing
/// `&self`. Dispensed objects are `Send + Sync` when their interface is.
///
/// # Platform-specific behaviour
///
/// Candidate files end in `.so` (Linux and other Unixes), `.dylib` (macOS) or
/// `.dll` (Windows). On Unix, libraries are opened with
/// `RTLD_NOW | RTLD_LOCAL`.
pub struct PluginHost {
    handshake: HandshakeConfig,
    protocols: Vec<u32>,
    plugins_dir: Option<PathBuf>,
    interfaces: Vec<InterfaceSpec>,
    panic_policy: PanicPolicy,
    vet_policy: VetPolicy,
    max_generations: usize,
    pub(crate) debounce: std::time::Duration,
    shared: Arc<Shared>,
    registry: Registry,
    /// Plugins that passed the dispense checks, by interface type and name.
    checked: Mutex<HashMap<TypeId, HashMap<String, Arc<PluginMeta>>>>,
    closed: bool,
}

/// Configures a [`PluginHost`].
#[derive(Clone)]
pub struct PluginHostBuilder {
    handshake: HandshakeConfig,
    protocols: Vec<u32>,
    plugins_dir: Option<PathBuf>,
    interfaces: Vec<InterfaceSpec>,
    host_name: String,
    host_version: String,
    services: BTreeMap<String, ServiceSpec>,
    panic_policy: PanicPolicy,
    vet_policy: VetPolicy,
    max_generations: usize,
    debounce: std::time::Duration,
}

impl PluginHost {
    /// A builder with no cookie, protocol version 1 and no plugins folder.
    pub fn builder() -> PluginHostBuilder {
        PluginHostBuilder {
            handshake: HandshakeConfig {
                cookie_key: "",
                cookie_value: "",
            },
            protocols: vec![1],
            plugins_dir: None,
            interfaces: Vec::new(),
            host_name: env!("CARGO_PKG_NAME").to_owned(),
            host_version: env!("CARGO_PKG_VERSION").to_owned(),
            services: BTreeMap::new(),
            panic_policy: PanicPolicy::default(),
            vet_policy: VetPolicy::default(),
            max_generations: 8,
            debounce: std::time::Duration::from_millis(250),
        }
    }

    /// The handshake this host requires of plugins.
    pub fn handshake(&self) -> &HandshakeConfig {
        &self.handshake
    }

    /// The protocol versions this host speaks, sorted.
    pub fn protocol_versions(&self) -> &[u32] {
        &self.protocols
    }

    /// The interfaces registered with [`PluginHostBuilder::interface`], as
    /// (name, version) pairs.
    pub fn interfaces(&self) -> Vec<(&'static str, &'static str)> {
        self.interfaces
            .iter()
            .map(|s| (s.name, s.version))
            .collect()
    }

    /// The plugins folder given to the builder, if any.
    pub fn plugins_dir(&self) -> Option<&Path> {
        self.plugins_dir.as_deref()
    }

    /// Loads every candidate file of the folder given to the builder; see
    /// [`load_dir`](Self::load_dir). Without a folder, the report is empty.
    pub fn load(&mut self) -> LoadReport {
        match self.plugins_dir.clone() {
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
    /// host is reported as [`LoadError::AlreadyLoaded`].
    pub fn load_dir(&mut self, dir: impl AsRef<Path>) -> LoadReport {
        let dir = dir.as_ref().to_owned();
        let files = match discover::discover(&dir) {
            Ok(files) => files,
            Err(source) => {
                return LoadReport {
                    outcomes: vec![FileOutcome {
                        path: dir.clone(),
                        result: Err(LoadError::FolderUnreadable {
                            path: dir.clone(),
                            source,
                        }),
                    }],
                    dir,
                }
            }
        };
        let outcomes = files
            .into_iter()
            .map(|path| FileOutcome {
                result: self.load_file(&path),
                path,
            })
            .collect();
        LoadReport { dir, outcomes }
    }

    /// Loads one library file.
    ///
    /// # Errors
    ///
    /// A [`LoadError`] naming the file and the reason it was refused.
    pub fn load_file(&mut self, path: impl AsRef<Path>) -> Result<LibraryInfo, LoadError> {
        let path = path.as_ref();
        if self.registry.live_index(path).is_some() {
            return Err(LoadError::AlreadyLoaded {
                path: path.to_owned(),
            });
        }
        self.load_generation(path, None)
    }

    /// Loads `path`, as a new generation replacing the library at
    /// `replacing` (an older version of the same file) if given.
    pub(crate) fn load_generation(
        &mut self,
        path: &Path,
        replacing: Option<usize>,
    ) -> Result<LibraryInfo, LoadError> {
        if replacing.is_some() {
            let mapped = self.registry.generations(path);
            if mapped >= self.max_generations {
                return Err(LoadError::TooManyGenerations {
                    path: path.to_owned(),
                    mapped,
                    limit: self.max_generations,
                });
            }
        }
        log::debug!("vetting {}", path.display());
        let started = std::time::Instant::now();
        // Nothing of the file runs until the vet, the handshake read from
        // its metadata and the interface versions have passed.
        let (protocol, vetted) = self.inspect(path)?;
        let metadata = &vetted.inspection.metadata;

        let vetted_at = std::time::Instant::now();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plugin".to_owned());
        let copy =
            private_copy::make(&vetted.bytes, &name).map_err(|source| LoadError::PrivateCopy {
                path: path.to_owned(),
                source,
            })?;
        let copied_at = std::time::Instant::now();
        log::debug!("loading {} from its private copy", path.display());
        let opened = load::open(path, copy.path());
        copy.loaded();
        let root = opened?;
        // The handshake was checked on the metadata; the loaded library must
        // say the same, or the metadata was not written by its own macro.
        let header = root.handshake();
        let mismatch = |what: &str, expected: String, found: String| LoadError::MetadataMismatch {
            path: path.to_owned(),
            reason: format!("{what}: the metadata says {expected}, the loaded library {found}"),
        };
        let runtime_offer = (
            header.abi_version,
            header.cookie_key.as_str(),
            header.cookie_value.as_str(),
            header.protocol_versions.as_slice(),
        );
        let metadata_offer = (
            metadata.abi,
            metadata.cookie_key.as_str(),
            metadata.cookie_value.as_str(),
            metadata.protocols.as_slice(),
        );
        if runtime_offer != metadata_offer {
            return Err(mismatch(
                "handshake (ABI, cookie, protocols)",
                format!("{metadata_offer:?}"),
                format!("{runtime_offer:?}"),
            ));
        }
        let sets = root.plugin_sets();
        let Some(set) = sets.iter().find(|s| s.protocol_version == protocol) else {
            return Err(LoadError::BadEntry {
                path: path.to_owned(),
                plugin: format!("<protocol {protocol}>"),
                reason: format!(
                    "the library offers protocol {protocol} but exports no plugin set for it"
                ),
            });
        };
        let entries = set.entries.as_slice();
        let listed: Vec<(&str, &str, &str)> = metadata
            .plugins
            .iter()
            .filter(|p| p.protocol == protocol)
            .map(|p| {
                (
                    p.name.as_str(),
                    p.interface.as_str(),
                    p.interface_version.as_str(),
                )
            })
            .collect();
        let exported: Vec<(&str, &str, &str)> = entries
            .iter()
            .map(|e| {
                (
                    e.name.as_str(),
                    e.interface.as_str(),
                    e.interface_version.as_str(),
                )
            })
            .collect();
        if listed != exported {
            return Err(mismatch(
                &format!("plugin table of protocol {protocol}"),
                format!("{listed:?}"),
                format!("{exported:?}"),
            ));
        }
        let opened_at = std::time::Instant::now();
        let missing_methods = self.check_registered_interfaces(path, entries)?;
        self.registry.validate(path, entries, replacing)?;
        let meta = root.metadata();
        // Every check passed: now the library's own init runs (log bridge,
        // host services, the plugin's `on_load`), guarded inside the plugin.
        let context = HostContext {
            services: services::for_library(meta.name.as_str(), &self.shared),
            max_log_level: log::max_level() as u8,
            panic_policy: self.panic_policy,
        };
        (root.init())(context)
            .into_result()
            .map_err(|e| LoadError::InitFailed {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        let info = LibraryInfo {
            path: path.to_owned(),
            name: meta.name.to_string(),
            version: meta.version.to_string(),
            description: meta.description.to_string(),
            protocol,
            offered_protocols: header.protocol_versions.to_vec(),
            entries: Vec::new(),
            generation: replacing.map_or(1, |old| self.registry.libraries[old].info.generation + 1),
            timings: LoadTimings {
                vet: vetted_at - started,
                copy: copied_at - vetted_at,
                open: opened_at - copied_at,
                init: opened_at.elapsed(),
            },
        };
        let info = self.registry.insert(
            root,
            info,
            entries,
            &missing_methods,
            replacing,
            vetted.stamp,
        )?;
        if replacing.is_some() {
            // Names now lead to the new generation: forget the old checks.
            self.checked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
        }
        log::info!(
            "loaded {} ({} {}, protocol {protocol})",
            path.display(),
            info.name,
            info.version
        );
        Ok(info)
    }

    /// Vets the file at `path` and checks the handshake and interface
    /// versions its metadata declares, **without loading it or running any
    /// of its code**: what `plugboard inspect` shows. Returns what was found.
    ///
    /// # Errors
    ///
    /// The [`LoadError`] [`load_file`](Self::load_file) would refuse the file
    /// with before loading it.
    /// The outer error is a failed vet (the metadata could not be read or
    /// the file is refused before that); the inner result is the verdict on
    /// the handshake and interface versions: the protocol that would be
    /// negotiated, or why the file would be refused.
    pub fn inspect_file(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<(Inspection, Result<u32, LoadError>), LoadError> {
        let path = path.as_ref();
        let vetted = vet::vet(path, &self.vet_policy, true)?;
        let verdict = self.check_metadata(path, &vetted);
        Ok((vetted.inspection, verdict))
    }

    fn inspect(&self, path: &Path) -> Result<(u32, vet::Vetted), LoadError> {
        let vetted = vet::vet(path, &self.vet_policy, false)?;
        let protocol = self.check_metadata(path, &vetted)?;
        Ok((protocol, vetted))
    }

    /// The handshake and interface majors, from the metadata alone.
    fn check_metadata(&self, path: &Path, vetted: &vet::Vetted) -> Result<u32, LoadError> {
        let metadata = &vetted.inspection.metadata;
        let protocol = handshake::check(path, metadata.into(), &self.handshake, &self.protocols)?;
        for plugin in metadata.plugins.iter().filter(|p| p.protocol == protocol) {
            let Some(spec) = self.interfaces.iter().find(|s| s.name == plugin.interface) else {
                continue;
            };
            let compatible = match (
                semver::Version::parse(spec.version),
                semver::Version::parse(&plugin.interface_version),
            ) {
                (Ok(host), Ok(theirs)) => dispense::semver_compatible(&host, &theirs),
                _ => false,
            };
            if !compatible {
                return Err(LoadError::IncompatibleInterface {
                    path: path.to_owned(),
                    source: DispenseError::IncompatibleVersion {
                        plugin: plugin.name.clone(),
                        path: path.to_owned(),
                        interface: spec.name,
                        expected: spec.version,
                        found: plugin.interface_version.clone(),
                    },
                });
            }
        }
        Ok(protocol)
    }

    /// The libraries loaded so far and still dispensed, in load order.
    pub fn libraries(&self) -> impl Iterator<Item = &LibraryInfo> {
        self.registry
            .libraries
            .iter()
            .filter(|l| !l.retired)
            .map(|l| &l.info)
    }

    pub(crate) fn live_index(&self, path: &Path) -> Option<usize> {
        self.registry.live_index(path)
    }

    pub(crate) fn stamp(&self, index: usize) -> Option<(u64, std::time::SystemTime)> {
        self.registry.libraries[index].stamp
    }

    pub(crate) fn generation(&self, index: usize) -> u32 {
        self.registry.libraries[index].info.generation
    }

    /// Stops dispensing the library at `index`; returns its name and
    /// generation.
    pub(crate) fn retire(&mut self, index: usize) -> (String, u32) {
        self.registry.retire(index);
        self.checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let info = &self.registry.libraries[index].info;
        (info.name.clone(), info.generation)
    }

    /// How many old generations (replaced or removed libraries) stay mapped:
    /// libraries are never unloaded, so this memory is not given back.
    pub fn retired_generations(&self) -> usize {
        self.registry.retired_count()
    }

    /// Every plugin available for dispensing, sorted by name.
    pub fn plugins(&self) -> Vec<PluginInfo> {
        self.registry
            .by_name
            .values()
            .map(|slot| self.registry.plugin_info(slot))
            .collect()
    }

    /// The plugin called `name`, if one is loaded.
    pub fn plugin(&self, name: &str) -> Option<PluginInfo> {
        self.registry
            .by_name
            .get(name)
            .map(|slot| self.registry.plugin_info(slot))
    }

    /// Creates a new object of the plugin called `name`, as interface `I`.
    ///
    /// Before the plugin's factory runs, the host checks that the plugin
    /// implements `I` (same interface name), that its interface version has
    /// the same major version as `I::VERSION` (an older or newer minor is
    /// fine), and that the `abi_stable` layout of its object matches `I`'s.
    /// The check runs once per name and type. Each call runs the plugin's
    /// factory and returns a new object.
    ///
    /// # Errors
    ///
    /// [`DispenseError::UnknownPlugin`] (listing the names available),
    /// [`DispenseError::WrongInterface`], [`DispenseError::IncompatibleVersion`],
    /// [`DispenseError::LayoutMismatch`], or [`DispenseError::FactoryFailed`].
    pub fn dispense<I: Interface>(&self, name: &str) -> Result<Plugin<I>, DispenseError> {
        if self.closed {
            return Err(DispenseError::Closed {
                plugin: name.to_owned(),
            });
        }
        let slot = self.slot(name)?;
        // The fast path (a repeated dispense) allocates nothing but the
        // plugin's own object: the check result is cached per type and name.
        let cached = self
            .checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&TypeId::of::<I>())
            .and_then(|by_name| by_name.get(name))
            .cloned();
        let meta = match cached {
            Some(meta) => meta,
            None => {
                let info = self.registry.plugin_info(&slot);
                let spec = InterfaceSpec::of::<I>();
                let missing_methods = dispense::check(&spec, &slot, &info)
                    .map_err(|e| self.with_candidates(e, I::NAME))?;
                let meta = Arc::new(PluginMeta {
                    name: info.entry.name.clone(),
                    path: info.path.clone(),
                    interface: I::NAME.to_owned(),
                    built_against: info.entry.interface_version.clone(),
                    host_version: I::VERSION.to_owned(),
                    missing_methods,
                });
                self.checked
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(TypeId::of::<I>())
                    .or_default()
                    .insert(name.to_owned(), Arc::clone(&meta));
                meta
            }
        };
        let object = dispense::create::<I>(&slot, &meta.name, &meta.path)?;
        let root = self.registry.libraries[slot.library].root;
        Ok(Plugin::new(object, meta, root.poisoned()))
    }

    /// Forgets which (plugin, type) pairs passed the dispense checks, so the
    /// next dispense checks again. For benchmarks of the first dispense.
    #[doc(hidden)]
    pub fn forget_dispense_checks(&self) {
        self.checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Whether code of the library that provides `name` has panicked (a
    /// panic caught inside the library marks the whole library).
    pub fn is_poisoned(&self, name: &str) -> Option<bool> {
        let slot = self.registry.by_name.get(name)?;
        Some((self.registry.libraries[slot.library].root.poisoned())())
    }

    /// Sets the host's maximum log level (`log::set_max_level`) and applies
    /// it inside every loaded library, so that a statement the host would
    /// drop is filtered inside the plugin, without crossing the boundary.
    /// Call it instead of `log::set_max_level` after libraries are loaded.
    pub fn set_max_log_level(&self, level: log::LevelFilter) {
        log::set_max_level(level);
        for library in &self.registry.libraries {
            (library.root.set_max_log_level())(level as u8);
        }
    }

    /// How many log records plugins have forwarded to this host so far
    /// (whether or not the host's logger kept them).
    pub fn log_records_forwarded(&self) -> u64 {
        self.shared
            .forwarded
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Shuts the host down: calls every library's shutdown hook once, in
    /// reverse load order, each guarded inside its library, and returns what
    /// each reported. After `close`, [`dispense`](Self::dispense) refuses.
    /// Objects already dispensed keep their library mapped (libraries are
    /// never unloaded), but the plugin may have released its state.
    ///
    /// Dropping the host calls `close` if it has not run.
    pub fn close(&mut self) -> Vec<(PathBuf, Result<(), PluginError>)> {
        if self.closed {
            return Vec::new();
        }
        self.closed = true;
        self.registry
            .libraries
            .iter()
            .rev()
            .map(|library| {
                let result = (library.root.shutdown())().into_result();
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
        self.registry
            .by_name
            .values()
            .map(|slot| {
                let info = self.registry.plugin_info(slot);
                let outcome = self
                    .interfaces
                    .iter()
                    .find(|spec| spec.name == slot.entry.interface.as_str())
                    .map(|spec| {
                        dispense::check(spec, slot, &info)?;
                        (spec.probe)(slot, &info)
                    });
                (info, outcome)
            })
            .collect()
    }

    /// Runs the dispense checks at load time for the entries whose interface
    /// the host registered; returns their missing optional methods.
    fn check_registered_interfaces(
        &self,
        path: &Path,
        entries: &[plugboard_interface::PluginEntry],
    ) -> Result<BTreeMap<String, Vec<crate::MissingMethod>>, LoadError> {
        let mut missing = BTreeMap::new();
        for entry in entries {
            let Some(spec) = self
                .interfaces
                .iter()
                .find(|spec| spec.name == entry.interface.as_str())
            else {
                continue;
            };
            let info = PluginInfo {
                entry: EntryInfo {
                    name: entry.name.to_string(),
                    interface: entry.interface.to_string(),
                    interface_version: entry.interface_version.to_string(),
                    missing_methods: Vec::new(),
                },
                library: String::new(),
                path: path.to_owned(),
            };
            let slot = Slot {
                library: usize::MAX,
                entry: *entry,
            };
            let methods = dispense::check(spec, &slot, &info).map_err(|source| {
                LoadError::IncompatibleInterface {
                    path: path.to_owned(),
                    source,
                }
            })?;
            missing.insert(entry.name.to_string(), methods);
        }
        Ok(missing)
    }

    fn slot(&self, name: &str) -> Result<Slot, DispenseError> {
        self.registry
            .by_name
            .get(name)
            .copied()
            .ok_or_else(|| DispenseError::UnknownPlugin {
                name: name.to_owned(),
                available: self.registry.by_name.keys().cloned().collect(),
            })
    }

    /// Fills in the plugins that implement `interface` on a wrong-interface error.
    fn with_candidates(&self, error: DispenseError, interface: &str) -> DispenseError {
        match error {
            DispenseError::WrongInterface {
                plugin,
                path,
                expected,
                found,
                ..
            } => DispenseError::WrongInterface {
                implementing: self
                    .registry
                    .by_name
                    .iter()
                    .filter(|(_, s)| s.entry.interface.as_str() == interface)
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
}

impl PluginHostBuilder {
    /// The magic cookie plugins must carry: use the same
    /// [`HandshakeConfig`] constant as your plugins.
    pub fn handshake(mut self, handshake: HandshakeConfig) -> Self {
        self.handshake = handshake;
        self
    }

    /// The application protocol versions this host speaks (default: `[1]`).
    /// A library is loaded with the highest version both sides list.
    pub fn protocol_versions(mut self, versions: impl IntoIterator<Item = u32>) -> Self {
        let mut v: Vec<u32> = versions.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        self.protocols = v;
        self
    }

    /// Registers an interface this host uses. Plugins that implement an
    /// interface with the same name are checked at load time (major version
    /// and layout, as [`PluginHost::dispense`] does) and refused with
    /// [`LoadError::IncompatibleInterface`] if they cannot be used as `I`;
    /// their missing optional methods are reported in the [`LoadReport`].
    /// Interfaces not registered are still checked, at dispense time.
    pub fn interface<I: Interface>(mut self) -> Self {
        self.interfaces.retain(|spec| spec.name != I::NAME);
        self.interfaces.push(InterfaceSpec::of::<I>());
        self
    }

    /// The host's name and version, as plugins see them through
    /// `plugboard_interface::host()` (default: plugboard-host's own).
    pub fn host_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.host_name = name.into();
        self.host_version = version.into();
        self
    }

    /// Offers plugins a service of interface `S` under `name`: a plugin gets
    /// a new object from `make` with `plugboard_interface::service::<S>(name)`,
    /// after the same interface, version and layout checks as dispensing
    /// (with the plugin as the expecting side). This is how a plugin calls
    /// back into the host, as in go-plugin's bidirectional example.
    pub fn service<S: Interface>(
        mut self,
        name: impl Into<String>,
        make: impl Fn() -> S + Send + Sync + 'static,
    ) -> Self {
        self.services.insert(name.into(), ServiceSpec::new(make));
        self
    }

    /// What plugins do after one of their calls panicked (default:
    /// [`PanicPolicy::KeepServing`]). The panic itself is always caught
    /// inside the plugin and returned as a `Panicked` [`PluginError`]; with
    /// [`PanicPolicy::RefuseAfterPanic`] the library then answers every
    /// guarded call and every dispense with a `Poisoned` error.
    pub fn panic_policy(mut self, policy: PanicPolicy) -> Self {
        self.panic_policy = policy;
        self
    }

    /// Whether to refuse files and folders that group or others can write,
    /// or that belong to another user than you or root (OpenSSH's
    /// StrictModes). Default: on (on Unix).
    pub fn strict_permissions(mut self, strict: bool) -> Self {
        self.vet_policy.strict_permissions = strict;
        self
    }

    /// The largest plugin file the host reads (default: 256 MiB).
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.vet_policy.max_size = bytes;
        self
    }

    /// Loads only files whose SHA-256 the allowlist gives for their file
    /// name, like go-plugin's `SecureConfig`. `sums` is the text of a
    /// `sha256sum`-style file (`<hex>  <file name>` per line). Checked on the
    /// exact bytes that are then loaded.
    ///
    /// # Errors
    ///
    /// A line that is not `<64 hex digits> <name>`.
    pub fn checksums(mut self, sums: &str) -> Result<Self, String> {
        let parsed = vet::read_checksums(sums)?;
        self.vet_policy
            .checksums
            .get_or_insert_with(BTreeMap::new)
            .extend(parsed);
        Ok(self)
    }

    /// Trusts an ed25519 public key (32 bytes, as `plugboard keygen` writes
    /// them in hex). Once any key is trusted, every library must have a
    /// detached signature `<file>.sig` by one of them (`plugboard sign`).
    ///
    /// # Errors
    ///
    /// The text is not 64 hex digits of a valid ed25519 public key.
    pub fn trust_key(mut self, public_key_hex: &str) -> Result<Self, String> {
        let bytes: [u8; 32] = vet::unhex(public_key_hex.trim())
            .and_then(|v| v.try_into().ok())
            .ok_or("a public key is 64 hex digits")?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| "not a valid ed25519 public key".to_owned())?;
        self.vet_policy.trusted_keys.push(key);
        Ok(self)
    }

    /// At most this many generations of one file stay mapped (default 8): a
    /// further new version is refused with
    /// [`LoadError::TooManyGenerations`] and the previous one keeps serving.
    pub fn max_generations(mut self, generations: usize) -> Self {
        self.max_generations = generations.max(1);
        self
    }

    /// How long a file must be left alone before [`PluginHost::watch`] acts
    /// on it (default 250 ms), so a file being copied in is not loaded
    /// half-written.
    pub fn debounce(mut self, quiet: std::time::Duration) -> Self {
        self.debounce = quiet;
        self
    }

    /// The folder [`PluginHost::load`] reads.
    pub fn plugins_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.plugins_dir = Some(dir.into());
        self
    }

    /// Builds the host; nothing is loaded yet.
    pub fn build(self) -> PluginHost {
        PluginHost {
            handshake: self.handshake,
            protocols: self.protocols,
            plugins_dir: self.plugins_dir,
            interfaces: self.interfaces,
            panic_policy: self.panic_policy,
            vet_policy: self.vet_policy,
            max_generations: self.max_generations,
            debounce: self.debounce,
            shared: Arc::new(Shared {
                host_name: self.host_name,
                host_version: self.host_version,
                services: self.services,
                forwarded: Default::default(),
            }),
            registry: Registry::default(),
            checked: Mutex::new(HashMap::new()),
            closed: false,
        }
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.close();
    }
}
