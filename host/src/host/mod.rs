//! `PluginHost`: the load flow, step by step. Each step is a function of
//! its own module; this file only strings them together ([`steps`] holds
//! the steps that run in the host or in a runner; [`access`] what the host
//! offers once files are loaded: dispensing, listing, closing).

mod access;
mod ahead;
mod steps;

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
    time::{Duration, Instant},
};

use crate::{
    builder::Config,
    check, discover,
    dispense::CheckCache,
    display, handshake,
    mapped::Mapped,
    private_copy,
    registry::{Library, LibraryInfo, LoadTimings, Registry, Snapshot},
    vet::{self},
    watch::Refused,
    FileOutcome, LoadError, LoadErrorKind, LoadReport, PluginHostBuilder,
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
/// `RTLD_NOW | RTLD_LOCAL`. On Windows, strict permissions read access
/// control lists ([`LoadErrorKind::InsecureAcl`](crate::LoadErrorKind::InsecureAcl)),
/// and a private copy stays in `%TEMP%` while its DLL is loaded; the first
/// copy a later process makes removes those of processes that have exited.
/// docs/platforms.md goes through every check per platform.
pub struct PluginHost {
    config: Config,
    registry: Registry,
    /// Serialises the writers of the registry (dispensing never takes it),
    /// and holds what they keep track of.
    writer: Mutex<Writer>,
    /// Numbers libraries in load order (for shutdown in reverse order).
    sequence: AtomicU64,
    /// The folder of links the private copies are opened through.
    links: private_copy::Links,
    closed: AtomicBool,
}

/// What the writers of the registry keep track of, behind their lock.
#[derive(Default)]
pub(crate) struct Writer {
    /// The refused files, so that an unchanged one is not vetted again.
    pub(crate) refused: Refused,
    /// The libraries mapped into the host, against its limits.
    pub(crate) mapped: Mapped,
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
            writer: Mutex::new(Writer::default()),
            sequence: AtomicU64::new(0),
            links: private_copy::Links::default(),
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
    pub(crate) fn writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads every candidate file of the folder given to the builder; see
    /// [`load_dir`](Self::load_dir). Without a folder, the report is empty.
    pub fn load(&self) -> LoadReport {
        match self.config.plugins_dir.clone() {
            Some(dir) => self.load_dir(dir),
            None => LoadReport {
                dir: PathBuf::new(),
                outcomes: Vec::new(),
                discover: Duration::ZERO,
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
        let started = Instant::now();
        let listed = discover::discover(&dir);
        let discover = started.elapsed();
        let files = match listed {
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
                    discover,
                }
            }
        };
        let mut writer = self.writer();
        // Vetting and copying run ahead on worker threads; loading, in
        // order, here.
        let outcomes = ahead::in_order(
            &files,
            // A file this host has loaded is refused as such without being
            // vetted and copied again (`load_new` says why).
            |path| match self.registry.load().live(path) {
                Some(_) => Err(LoadError::new(path, LoadErrorKind::AlreadyLoaded)),
                None => self.prepare(path),
            },
            |path, prepared| {
                let result = self.load_new(&mut writer, path, || prepared);
                if result.is_err() {
                    writer.refused.remember(path);
                }
                FileOutcome {
                    result,
                    path: path.clone(),
                }
            },
        );
        LoadReport {
            dir,
            outcomes,
            discover,
        }
    }

    /// Loads one library file.
    ///
    /// # Errors
    ///
    /// A [`LoadError`] naming the file and the reason it was refused.
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<LibraryInfo, LoadError> {
        let path = path.as_ref();
        self.load_new(&mut self.writer(), path, || self.prepare(path))
    }

    /// Loads a file this host has not loaded, `prepare`d by now or then.
    fn load_new(
        &self,
        writer: &mut Writer,
        path: &Path,
        prepare: impl FnOnce() -> Result<Prepared, LoadError>,
    ) -> Result<LibraryInfo, LoadError> {
        if self.registry.load().live(path).is_some() {
            return Err(LoadError::new(path, LoadErrorKind::AlreadyLoaded));
        }
        self.load_prepared(writer, path, prepare, None)
    }

    /// The load flow of one file: vet → handshake → private copy → load →
    /// confirm and check interfaces → init → register. `replacing` is the
    /// live generation of the same file that the new one replaces.
    /// `writer` is behind the writers' lock.
    pub(crate) fn load_generation(
        &self,
        writer: &mut Writer,
        path: &Path,
        replacing: Option<&Arc<Library>>,
    ) -> Result<LibraryInfo, LoadError> {
        self.load_prepared(writer, path, || self.prepare(path), replacing)
    }

    /// Steps 1–3 of the load flow, those that need only the file and the
    /// host's configuration (not what is loaded): vet, the handshake's
    /// checks, the private copy. A folder's files go through them on worker
    /// threads ([`ahead`]).
    fn prepare(&self, path: &Path) -> Result<Prepared, LoadError> {
        let config = &self.config;
        let mut clock = Clock(Instant::now());
        let mut timings = LoadTimings::default();

        // 1. Vet: nothing of the file runs.
        log::debug!("vetting {}", display::path(path));
        let vetted = vet::file(path, &config.vet, false)?;
        timings.vet = clock.lap();

        // 2. Handshake and interface majors, from the metadata.
        let metadata = vetted.metadata();
        let protocol = handshake::negotiate(path, metadata, &config.handshake, &config.protocols)?;
        check::majors(path, metadata, protocol, &config.specs)?;
        timings.handshake = clock.lap();

        // 3. The private copy that is loaded (should making it fail, that
        // is reported after the name checks of `load_prepared`).
        let copy = private_copy::make(vetted.loaded_bytes(), &display_name(path), &self.links);
        timings.copy = clock.lap();
        Ok(Prepared {
            vetted,
            protocol,
            copy,
            timings,
        })
    }

    /// The load flow of one file from its `prepare`d steps on: the checks
    /// that depend on what is loaded (the host's limits, the plugin names),
    /// then load, check, init and register.
    fn load_prepared(
        &self,
        writer: &mut Writer,
        path: &Path,
        prepare: impl FnOnce() -> Result<Prepared, LoadError>,
        replacing: Option<&Arc<Library>>,
    ) -> Result<LibraryInfo, LoadError> {
        let config = &self.config;
        let snapshot = self.registry.snapshot();
        // 0. Libraries are never unloaded: what the host maps is capped.
        writer.mapped.check(path, config.limits)?;
        let Prepared {
            vetted,
            protocol,
            copy,
            mut timings,
        } = prepare()?;
        let metadata = vetted.metadata();
        let mut clock = Clock(Instant::now());

        // 2. The plugin names are valid and free.
        snapshot.check_names(path, metadata, protocol, replacing)?;
        timings.handshake += clock.lap();
        let copy =
            copy.map_err(|cause| LoadError::new(path, LoadErrorKind::PrivateCopy { cause }))?;

        // 4–6 in the host, or in a runner process of its own.
        let loaded = if config.isolation.applies(path, metadata, protocol) {
            self.load_isolated(path, copy, metadata, protocol, &mut timings)?
        } else {
            self.load_in_process(
                &mut writer.mapped,
                path,
                copy,
                metadata,
                protocol,
                &mut timings,
                &mut clock,
            )?
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
            generation: snapshot.last_generation(path) + 1,
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

    /// Stops dispensing the library loaded from `path` (the writer's lock is
    /// held); returns it.
    pub(crate) fn retire(&self, path: &Path) -> Option<Arc<Library>> {
        let snapshot = self.registry.snapshot();
        let library = Arc::clone(snapshot.live(path)?);
        self.registry.publish(snapshot.without(&library));
        Some(library)
    }
}

/// What steps 1–3 of the load flow made of a file.
struct Prepared {
    vetted: vet::Vetted,
    protocol: u32,
    /// The private copy, or why it could not be made.
    copy: std::io::Result<private_copy::PrivateCopy>,
    timings: LoadTimings,
}

/// The file's name, for the private copy's label.
fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".to_owned())
}
