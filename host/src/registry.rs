//! Step 6 of loading: register the library's plugins under their names.
//!
//! The registry is an immutable [`Snapshot`] (libraries and names) behind an
//! `arc-swap` pointer: dispensing reads the current snapshot without a lock,
//! and a load, reload or removal builds the next snapshot and swaps it in
//! (writers are serialised by the host). A library stays mapped for the life
//! of the process (libraries are never unloaded); a replaced or removed one
//! is kept as *retired*: no longer dispensed, still counted.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use arc_swap::ArcSwap;
use plugboard_interface::{metadata::Metadata, MissingMethod, PluginEntry, PluginLibraryRef};

use crate::{dispense::CheckCache, vet::FileStamp, LoadError, LoadErrorKind};

/// A library the host loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryInfo {
    /// The file it was loaded from.
    pub path: PathBuf,
    /// The library's name.
    pub name: String,
    /// The library's own version.
    pub version: String,
    /// The library's description.
    pub description: String,
    /// The protocol version negotiated with the host.
    pub protocol: u32,
    /// The protocol versions the library offers.
    pub offered_protocols: Vec<u32>,
    /// The plugins of the negotiated protocol version.
    pub entries: Vec<EntryInfo>,
    /// 1 for the first library loaded from this path; one more for each
    /// newer version of the file loaded beside it, also after the file was
    /// removed and added again (see
    /// [`PluginHost::watch`](crate::PluginHost::watch)).
    pub generation: u32,
    /// How long each step of loading took.
    pub timings: LoadTimings,
    /// Whether it runs in a process of its own (see
    /// [`PluginHostBuilder::isolate`](crate::PluginHostBuilder::isolate)).
    pub isolated: bool,
}

/// How long each step of loading one library took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadTimings {
    /// Reading the file, the object checks, metadata, hash and signature.
    pub vet: std::time::Duration,
    /// The pre-load handshake and the name checks, from the metadata.
    pub handshake: std::time::Duration,
    /// Writing the private copy.
    pub copy: std::time::Duration,
    /// `dlopen` of the copy (the library's constructors run here).
    pub dlopen: std::time::Duration,
    /// The root module's layout check and constructor.
    pub layout: std::time::Duration,
    /// Comparing the loaded library with its metadata, and the checks of the
    /// interfaces the host registered.
    pub interfaces: std::time::Duration,
    /// The library's own init.
    pub init: std::time::Duration,
    /// For an isolated plugin: starting its runner process and talking to
    /// it, beyond the steps above (zero in-process).
    pub isolation: std::time::Duration,
}

impl LoadTimings {
    /// The sum of the steps.
    pub fn total(&self) -> std::time::Duration {
        self.vet
            + self.handshake
            + self.copy
            + self.dlopen
            + self.layout
            + self.interfaces
            + self.init
            + self.isolation
    }
}

impl std::ops::AddAssign for LoadTimings {
    fn add_assign(&mut self, other: Self) {
        self.vet += other.vet;
        self.handshake += other.handshake;
        self.copy += other.copy;
        self.dlopen += other.dlopen;
        self.layout += other.layout;
        self.interfaces += other.interfaces;
        self.init += other.init;
        self.isolation += other.isolation;
    }
}

/// One plugin a library provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    /// The name it is dispensed by.
    pub name: String,
    /// The interface it implements.
    pub interface: String,
    /// The interface version it was built against.
    pub interface_version: String,
    /// For an interface the host registered: the optional methods this
    /// plugin lacks (built against an older minor). Empty otherwise.
    pub missing_methods: Vec<MissingMethod>,
}

/// A plugin available for dispensing, with the library that provides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    /// The plugin's name, interface and interface version.
    pub entry: EntryInfo,
    /// The library's name.
    pub library: String,
    /// The library's file.
    pub path: PathBuf,
}

/// Where a loaded library runs.
pub(crate) enum Runtime {
    /// In the host: its root module (shutdown hook, log level, poisoned
    /// flag).
    InProcess(PluginLibraryRef),
    /// In a runner process of its own.
    Isolated(Arc<crate::isolation::parent::Child>),
}

impl Runtime {
    /// Whether code of the library has panicked.
    pub(crate) fn poisoned(&self) -> bool {
        match self {
            Self::InProcess(root) => (root.poisoned())(),
            Self::Isolated(child) => child.poisoned(),
        }
    }

    /// Sets the library's maximum log level.
    pub(crate) fn set_max_log_level(&self, level: u8) {
        match self {
            Self::InProcess(root) => (root.set_max_log_level())(level),
            Self::Isolated(child) => child.set_log_level(level),
        }
    }

    /// Runs the library's shutdown hook (and ends its runner).
    pub(crate) fn shutdown(&self) -> Result<(), plugboard_interface::PluginError> {
        match self {
            Self::InProcess(root) => (root.shutdown())().into_result(),
            Self::Isolated(child) => child.shutdown(),
        }
    }

    /// Whether the library is mapped into the host (libraries are never
    /// unloaded; an isolated one is not mapped at all).
    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self, Self::InProcess(_))
    }
}

/// A loaded library.
pub(crate) struct Library {
    pub(crate) info: LibraryInfo,
    /// Where it runs.
    pub(crate) runtime: Runtime,
    /// The file as it was when vetted.
    pub(crate) stamp: FileStamp,
    /// Its place in the host's load order.
    pub(crate) sequence: u64,
}

/// One dispensable plugin: its entry, its library, and the interface checks
/// it has passed.
pub(crate) struct Slot {
    pub(crate) library: Arc<Library>,
    /// The entry in the host's memory (`None` for an isolated library:
    /// the entry lives in its runner).
    pub(crate) entry: Option<PluginEntry>,
    pub(crate) info: PluginInfo,
    pub(crate) checks: CheckCache,
}

/// The libraries and names at one moment.
#[derive(Default, Clone)]
pub(crate) struct Snapshot {
    /// Libraries being dispensed from, in load order.
    pub(crate) live: Vec<Arc<Library>>,
    /// Replaced or removed libraries (still mapped).
    pub(crate) retired: Vec<Arc<Library>>,
    /// Every dispensable plugin, by name.
    pub(crate) by_name: BTreeMap<String, Arc<Slot>>,
}

impl Snapshot {
    /// The live library loaded from `path`.
    pub(crate) fn live(&self, path: &Path) -> Option<&Arc<Library>> {
        self.live.iter().find(|l| l.info.path == path)
    }

    /// The newest generation loaded from `path`, live or retired (0 if
    /// none): a file removed and added again goes on counting.
    pub(crate) fn last_generation(&self, path: &Path) -> u32 {
        self.all()
            .filter(|l| l.info.path == path)
            .map(|l| l.info.generation)
            .max()
            .unwrap_or(0)
    }

    /// Every library mapped, live or retired, in load order of each list.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<Library>> {
        self.live.iter().chain(&self.retired)
    }

    /// The names available.
    pub(crate) fn names(&self) -> Vec<String> {
        self.by_name.keys().cloned().collect()
    }

    /// Checks, from its metadata, that the plugins a library would register
    /// for `protocol` have valid, unique, free names (a name owned by
    /// `replacing`, an older generation of the same file, may be taken over).
    pub(crate) fn check_names(
        &self,
        path: &Path,
        metadata: &Metadata,
        protocol: u32,
        replacing: Option<&Arc<Library>>,
    ) -> Result<(), LoadError> {
        let mut seen = BTreeMap::new();
        for plugin in metadata.plugins.iter().filter(|p| p.protocol == protocol) {
            let bad = |reason: String| {
                LoadError::new(
                    path,
                    LoadErrorKind::BadEntry {
                        plugin: plugin.name.clone(),
                        reason,
                    },
                )
            };
            if plugin.name.is_empty() {
                return Err(bad("its name is empty".to_owned()));
            }
            if seen.insert(plugin.name.as_str(), ()).is_some() {
                return Err(bad("the library lists this name twice".to_owned()));
            }
            if let Err(e) = semver::Version::parse(&plugin.interface_version) {
                return Err(bad(format!(
                    "its interface version `{}` is not a semantic version ({e})",
                    plugin.interface_version
                )));
            }
            if let Some(taken) = self.by_name.get(&plugin.name) {
                let is_replaced = replacing.is_some_and(|old| Arc::ptr_eq(old, &taken.library));
                if !is_replaced {
                    return Err(LoadError::new(
                        path,
                        LoadErrorKind::DuplicatePlugin {
                            name: plugin.name.clone(),
                            first: taken.library.info.path.clone(),
                        },
                    ));
                }
            }
        }
        Ok(())
    }

    /// The next snapshot: `library` added with its entries (each with the
    /// interface check it passed at load), `replacing` retired.
    pub(crate) fn with(
        &self,
        library: Arc<Library>,
        entries: Vec<(Option<PluginEntry>, CheckCache)>,
        replacing: Option<&Arc<Library>>,
    ) -> Snapshot {
        let mut next = match replacing {
            Some(old) => self.without(old),
            None => self.clone(),
        };
        for ((entry, checks), info) in entries.into_iter().zip(&library.info.entries) {
            next.by_name.insert(
                info.name.clone(),
                Arc::new(Slot {
                    library: Arc::clone(&library),
                    entry,
                    info: PluginInfo {
                        entry: info.clone(),
                        library: library.info.name.clone(),
                        path: library.info.path.clone(),
                    },
                    checks,
                }),
            );
        }
        next.live.push(library);
        next
    }

    /// The next snapshot: `library` retired (no longer dispensed). A
    /// library mapped into the host stays listed as retired; an isolated
    /// one is let go (its runner ends when its last object is dropped).
    pub(crate) fn without(&self, library: &Arc<Library>) -> Snapshot {
        let mut next = self.clone();
        next.live.retain(|l| !Arc::ptr_eq(l, library));
        next.by_name
            .retain(|_, slot| !Arc::ptr_eq(&slot.library, library));
        if library.runtime.is_mapped() {
            next.retired.push(Arc::clone(library));
        }
        next
    }
}

/// The current snapshot, swapped atomically.
#[derive(Default)]
pub(crate) struct Registry {
    current: ArcSwap<Snapshot>,
}

impl Registry {
    /// The current snapshot, without taking a lock.
    #[inline]
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// The current snapshot, owned.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Publishes `next` (the caller serialises writers).
    pub(crate) fn publish(&self, next: Snapshot) {
        self.current.store(Arc::new(next));
    }
}
