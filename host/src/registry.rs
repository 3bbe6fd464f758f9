//! Step 4: the registry of loaded libraries and the plugin names they provide.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use plugboard_interface::{PluginEntry, PluginLibraryRef};

use crate::{LoadError, MissingMethod};

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
    /// newer version of the file loaded beside it (see
    /// [`PluginHost::watch`](crate::PluginHost::watch)).
    pub generation: u32,
    /// How long each step of loading took.
    pub timings: LoadTimings,
}

/// How long each step of loading one library took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadTimings {
    /// Reading the file, the object checks, metadata, hash and signature.
    pub vet: std::time::Duration,
    /// Writing and re-checking the private copy.
    pub copy: std::time::Duration,
    /// `dlopen`, the root-module layout check and constructor, the handshake.
    pub open: std::time::Duration,
    /// Interface checks and the library's own init.
    pub init: std::time::Duration,
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

/// A plugin entry and the library it lives in.
#[derive(Clone, Copy)]
pub(crate) struct Slot {
    pub(crate) library: usize,
    pub(crate) entry: PluginEntry,
}

pub(crate) struct Loaded {
    pub(crate) info: LibraryInfo,
    /// The root module: shutdown hook, log level, poisoned flag.
    pub(crate) root: PluginLibraryRef,
    /// Replaced by a newer generation or removed: still mapped (objects
    /// dispensed from it keep working), no longer dispensed.
    pub(crate) retired: bool,
    /// The file's size and modification time when it was loaded.
    pub(crate) stamp: Option<(u64, std::time::SystemTime)>,
}

/// Libraries and names. A name belongs to the first library that provides it.
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) libraries: Vec<Loaded>,
    pub(crate) by_name: BTreeMap<String, Slot>,
}

impl Registry {
    /// The live (not retired) library loaded from `path`, if any.
    pub(crate) fn live_index(&self, path: &Path) -> Option<usize> {
        self.libraries
            .iter()
            .position(|l| !l.retired && l.info.path == path)
    }

    /// How many generations loaded from `path` are mapped (live or retired).
    pub(crate) fn generations(&self, path: &Path) -> usize {
        self.libraries
            .iter()
            .filter(|l| l.info.path == path)
            .count()
    }

    /// How many retired generations stay mapped.
    pub(crate) fn retired_count(&self) -> usize {
        self.libraries.iter().filter(|l| l.retired).count()
    }

    /// Retires the library at `index`: its names are no longer dispensed.
    pub(crate) fn retire(&mut self, index: usize) {
        self.libraries[index].retired = true;
        self.by_name.retain(|_, slot| slot.library != index);
    }

    /// Checks a library's entries (names, versions) and that none of its
    /// names is taken.
    /// Names owned by the library at `replacing` (an older generation of the
    /// same file) may be taken over.
    pub(crate) fn validate(
        &self,
        path: &Path,
        entries: &[PluginEntry],
        replacing: Option<usize>,
    ) -> Result<(), LoadError> {
        let path = path.to_owned();
        let mut seen = BTreeMap::new();
        for entry in entries {
            let name = entry.name.as_str();
            let bad = |reason: String| LoadError::BadEntry {
                path: path.clone(),
                plugin: name.to_owned(),
                reason,
            };
            if name.is_empty() {
                return Err(bad("its name is empty".to_owned()));
            }
            if seen.insert(name, ()).is_some() {
                return Err(bad("the library lists this name twice".to_owned()));
            }
            if let Err(e) = semver::Version::parse(entry.interface_version.as_str()) {
                return Err(bad(format!(
                    "its interface version `{}` is not a semantic version ({e})",
                    entry.interface_version
                )));
            }
            if let Some(taken) = self
                .by_name
                .get(name)
                .filter(|slot| Some(slot.library) != replacing)
            {
                return Err(LoadError::DuplicatePlugin {
                    path: path.clone(),
                    name: name.to_owned(),
                    first: self.libraries[taken.library].info.path.clone(),
                });
            }
        }
        Ok(())
    }

    /// Adds a library whose handshake, checks and init passed; retires the
    /// generation it replaces.
    pub(crate) fn insert(
        &mut self,
        root: PluginLibraryRef,
        info_without_entries: LibraryInfo,
        entries: &[PluginEntry],
        missing_methods: &BTreeMap<String, Vec<MissingMethod>>,
        replacing: Option<usize>,
        stamp: Option<(u64, std::time::SystemTime)>,
    ) -> Result<LibraryInfo, LoadError> {
        self.validate(&info_without_entries.path, entries, replacing)?;
        if let Some(old) = replacing {
            self.retire(old);
        }
        let mut info = info_without_entries;
        info.entries = entries
            .iter()
            .map(|e| EntryInfo {
                name: e.name.to_string(),
                interface: e.interface.to_string(),
                interface_version: e.interface_version.to_string(),
                missing_methods: missing_methods
                    .get(e.name.as_str())
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        let index = self.libraries.len();
        for entry in entries {
            self.by_name.insert(
                entry.name.to_string(),
                Slot {
                    library: index,
                    entry: *entry,
                },
            );
        }
        self.libraries.push(Loaded {
            info: info.clone(),
            root,
            retired: false,
            stamp,
        });
        Ok(info)
    }

    pub(crate) fn plugin_info(&self, slot: &Slot) -> PluginInfo {
        let lib = &self.libraries[slot.library].info;
        let entry = lib
            .entries
            .iter()
            .find(|e| e.name == slot.entry.name.as_str())
            .cloned()
            .expect("a registered slot's entry is in its library's info");
        PluginInfo {
            entry,
            library: lib.name.clone(),
            path: lib.path.clone(),
        }
    }
}
