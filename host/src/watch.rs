//! A live plugins folder: [`PluginHost::reload`] rescans it once, and
//! [`PluginHost::watch`] + [`PluginHost::process_changes`] follow it. New
//! files are vetted and loaded, changed files load as a new generation beside
//! the old one, removed files stop being dispensed.
//!
//! `dlopen` of a path it has seen returns the old library, and libraries are
//! never unloaded, so a new version is loaded side by side from its own
//! private copy; the old generation stays mapped (objects dispensed from it
//! keep working) but is no longer dispensed.
//!
//! Only changes of content count (a file created, written and closed,
//! renamed or removed, or its permissions changed): the host's own reads of
//! a file never trigger anything. A refused file is remembered by its
//! identity (device, inode, size, modification time, mode) and not vetted
//! again until one of them changes.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    sync::mpsc::{channel, Receiver, TryRecvError},
    time::{Duration, Instant},
};

use notify::{
    event::{AccessKind, AccessMode, EventKind},
    Watcher as _,
};

use crate::{
    discover::{self, is_candidate},
    display::{self, shown},
    host::Writer,
    vet::FileStamp,
    LibraryInfo, LoadError, PluginHost,
};

/// What happened to a file of a watched plugins folder.
#[derive(Debug)]
#[non_exhaustive]
pub enum WatchEvent {
    /// A new file loaded.
    Added(LibraryInfo),
    /// A changed file loaded as a new generation; the previous one is no
    /// longer dispensed (objects already dispensed from it keep working).
    Updated {
        /// The generation it replaced.
        previous_generation: u32,
        /// The new generation.
        library: LibraryInfo,
    },
    /// A new or changed file was refused; a previous generation, if any,
    /// keeps serving.
    Refused(LoadError),
    /// A file was removed; its plugins are no longer dispensed.
    Removed {
        /// The file.
        path: PathBuf,
        /// The library's name.
        library: String,
        /// The generation that was serving.
        generation: u32,
    },
}

impl fmt::Display for WatchEvent {
    /// One line per event.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Added(lib) => write!(f, "added   {lib} [generation {}]", lib.generation),
            Self::Updated {
                previous_generation,
                library,
            } => write!(
                f,
                "updated {library} [generation {}, replaces {previous_generation}]",
                library.generation
            ),
            Self::Refused(e) => write!(f, "refused {e}"),
            Self::Removed {
                path,
                library,
                generation,
            } => write!(
                f,
                "removed {} ({}, generation {generation}): its plugins are no longer dispensed",
                display::path(path),
                shown(library)
            ),
        }
    }
}

/// Why a folder cannot be watched or rescanned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The host was built without a plugins folder.
    #[error("the host has no plugins folder; give it one with PluginHostBuilder::plugins_dir")]
    NoFolder,
    /// The folder cannot be read.
    #[error("cannot read the plugins folder {}: {cause}", display::path(path))]
    Unreadable {
        /// The folder.
        path: PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// The operating system's file watcher failed.
    #[error("cannot watch {}: {cause}", display::path(path))]
    Notify {
        /// The folder.
        path: PathBuf,
        /// What `notify` reported.
        cause: notify::Error,
    },
}

/// What [`PluginWatch::on_event`] calls.
type EventCallback = dyn FnMut(&WatchEvent) + Send;

/// A watch on a plugins folder, from [`PluginHost::watch`]. Dropping it stops
/// watching.
pub struct PluginWatch {
    /// The folder as the host names it (the paths its libraries were
    /// loaded under start with it).
    dir: PathBuf,
    /// The same folder, canonical, as the watcher may report it.
    canonical_dir: Option<PathBuf>,
    /// The same folder joined to the current folder (not canonical), as
    /// notify's Windows backend reports it: there `canonicalize` gives a
    /// `\\?\C:\...` path, which matches nothing the watcher says.
    absolute_dir: Option<PathBuf>,
    callback: Option<Box<EventCallback>>,
    events: Receiver<notify::Result<notify::Event>>,
    _watcher: notify::RecommendedWatcher,
    /// Candidate files that changed, and when they last did.
    pending: BTreeMap<PathBuf, Instant>,
}

impl PluginWatch {
    /// The folder watched.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Calls `callback` with every event, as it happens, in addition to
    /// returning the events from
    /// [`process_changes`](PluginHost::process_changes) (for example to send
    /// them down a channel to another thread, or to a log).
    pub fn on_event(&mut self, callback: impl FnMut(&WatchEvent) + Send + 'static) {
        self.callback = Some(Box::new(callback));
    }

    /// Records the candidate files an event about a change of content
    /// names, under the host's name for the folder: the watcher may report
    /// `/abs/plugins.d/x.so` for a file the host loaded as `plugins.d/x.so`,
    /// and the two must be one file.
    fn note(&mut self, event: notify::Event) {
        let content_changed = match event.kind {
            EventKind::Create(_) | EventKind::Remove(_) | EventKind::Modify(_) => true,
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
        };
        if !content_changed {
            return;
        }
        let now = Instant::now();
        for path in event.paths {
            let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                continue;
            };
            let in_folder = parent == self.dir
                || Some(parent) == self.canonical_dir.as_deref()
                || Some(parent) == self.absolute_dir.as_deref();
            let path = self.dir.join(name);
            if in_folder && is_candidate(&path) {
                self.pending.insert(path, now);
            }
        }
    }

    /// Takes every event already delivered, without waiting.
    fn drain(&mut self) {
        loop {
            match self.events.try_recv() {
                Ok(Ok(event)) => self.note(event),
                Ok(Err(e)) => log::warn!("watching {}: {e}", display::path(&self.dir)),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            }
        }
    }
}

/// What a host remembers of the files it refused, so that an unchanged
/// refused file is not vetted again.
#[derive(Default)]
pub(crate) struct Refused {
    stamps: BTreeMap<PathBuf, FileStamp>,
}

impl Refused {
    /// Remembers the file at `path` as refused, as it is now.
    pub(crate) fn remember(&mut self, path: &Path) {
        match std::fs::metadata(path) {
            Ok(meta) => {
                self.stamps.insert(path.to_owned(), FileStamp::of(&meta));
            }
            Err(_) => {
                self.stamps.remove(path);
            }
        }
    }

    /// Whether the file at `path` was refused as it is (`stamp`) now.
    fn unchanged(&self, path: &Path, stamp: &FileStamp) -> bool {
        self.stamps.get(path) == Some(stamp)
    }

    fn forget(&mut self, path: &Path) {
        self.stamps.remove(path);
    }
}

impl PluginHost {
    /// Starts watching the host's plugins folder (see
    /// [`PluginHostBuilder::plugins_dir`](crate::PluginHostBuilder::plugins_dir)).
    /// Nothing is loaded until [`process_changes`](Self::process_changes)
    /// runs; load the folder's current files with [`load`](Self::load) first.
    ///
    /// # Errors
    ///
    /// No plugins folder, or the operating system's watcher failed.
    pub fn watch(&self) -> Result<PluginWatch, WatchError> {
        let dir = self.plugins_dir().ok_or(WatchError::NoFolder)?.to_owned();
        let (tx, rx) = channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })
        .map_err(|cause| WatchError::Notify {
            path: dir.clone(),
            cause,
        })?;
        watcher
            .watch(&dir, notify::RecursiveMode::NonRecursive)
            .map_err(|cause| WatchError::Notify {
                path: dir.clone(),
                cause,
            })?;
        Ok(PluginWatch {
            canonical_dir: dir.canonicalize().ok(),
            absolute_dir: std::env::current_dir().ok().map(|cwd| cwd.join(&dir)),
            dir,
            callback: None,
            events: rx,
            _watcher: watcher,
            pending: BTreeMap::new(),
        })
    }

    /// Applies the watched folder's changes: waits up to `timeout` for some
    /// (a zero timeout takes only what already happened, without waiting)
    /// and returns the events, or nothing if none was ready in time.
    ///
    /// A file is acted on once it has been left alone for the debounce time
    /// (see [`PluginHostBuilder::debounce`](crate::PluginHostBuilder::debounce)),
    /// so a file being copied in is not loaded half-written; a file that is
    /// still incomplete then is refused by the vet step, and loaded on its
    /// next change. Write new versions to a temporary name and rename them
    /// into place.
    ///
    /// Threads keep dispensing while changes are applied.
    pub fn process_changes(&self, watch: &mut PluginWatch, timeout: Duration) -> Vec<WatchEvent> {
        let debounce = self.config().debounce;
        let deadline = Instant::now() + timeout;
        loop {
            watch.drain();
            let now = Instant::now();
            let ready: Vec<PathBuf> = watch
                .pending
                .iter()
                .filter(|(_, at)| now.duration_since(**at) >= debounce)
                .map(|(p, _)| p.clone())
                .collect();
            if !ready.is_empty() {
                for path in &ready {
                    watch.pending.remove(path);
                }
                let events = self.apply(&ready);
                if let Some(callback) = watch.callback.as_mut() {
                    events.iter().for_each(callback);
                }
                if !events.is_empty() {
                    return events;
                }
            }
            if now >= deadline {
                return Vec::new();
            }
            let wake = watch
                .pending
                .values()
                .map(|at| *at + debounce)
                .min()
                .map_or(deadline, |at| at.min(deadline));
            match watch
                .events
                .recv_timeout(wake.saturating_duration_since(now))
            {
                Ok(Ok(event)) => watch.note(event),
                Ok(Err(e)) => log::warn!("watching {}: {e}", display::path(&watch.dir)),
                Err(_) => {}
            }
        }
    }

    /// Rescans the host's plugins folder once and applies what changed, like
    /// one round of [`process_changes`](Self::process_changes) without a
    /// watcher: new files are loaded, changed files load as a new
    /// generation, removed files stop being dispensed. Unchanged files, and
    /// refused files that did not change, are left alone.
    ///
    /// # Errors
    ///
    /// No plugins folder, or it cannot be read.
    pub fn reload(&self) -> Result<Vec<WatchEvent>, WatchError> {
        let dir = self.plugins_dir().ok_or(WatchError::NoFolder)?.to_owned();
        let files = discover::discover(&dir).map_err(|cause| WatchError::Unreadable {
            path: dir.clone(),
            cause,
        })?;
        let mut paths: Vec<PathBuf> = files;
        for library in &self.snapshot().live {
            if library.info.path.parent() == Some(dir.as_path())
                && !paths.contains(&library.info.path)
            {
                paths.push(library.info.path.clone());
            }
        }
        Ok(self.apply(&paths))
    }

    /// Brings the registry in line with the files at `paths`.
    fn apply(&self, paths: &[PathBuf]) -> Vec<WatchEvent> {
        let mut writer = self.writer();
        paths
            .iter()
            .filter_map(|p| self.apply_one(p, &mut writer))
            .collect()
    }

    /// Brings the registry in line with the file at `path` (`writer` is
    /// behind the writers' lock).
    fn apply_one(&self, path: &Path, writer: &mut Writer) -> Option<WatchEvent> {
        let live = self.snapshot().live(path).cloned();
        let Ok(meta) = std::fs::metadata(path) else {
            writer.refused.forget(path);
            // Gone: stop dispensing it.
            let library = self.retire(live.as_ref()?.info.path.as_path())?;
            log::info!(
                "removed {} ({}, generation {})",
                display::path(path),
                shown(&library.info.name),
                library.info.generation
            );
            return Some(WatchEvent::Removed {
                path: path.to_owned(),
                library: library.info.name.clone(),
                generation: library.info.generation,
            });
        };
        let stamp = FileStamp::of(&meta);
        if live.as_ref().is_some_and(|l| l.stamp.same_content(&stamp))
            || writer.refused.unchanged(path, &stamp)
        {
            return None;
        }
        let result = self.load_generation(writer, path, live.as_ref());
        match &result {
            Ok(_) => writer.refused.forget(path),
            Err(_) => writer.refused.remember(path),
        }
        Some(match (result, live) {
            (Ok(library), None) => WatchEvent::Added(library),
            (Ok(library), Some(old)) => WatchEvent::Updated {
                previous_generation: old.info.generation,
                library,
            },
            (Err(e), _) => WatchEvent::Refused(e),
        })
    }
}
