//! A live plugins folder: new files are vetted and loaded, changed files
//! load as a new generation beside the old one, removed files stop being
//! dispensed.
//!
//! `dlopen` of a path it has seen returns the old library, and libraries
//! are never unloaded, so a new version is loaded side by side from its own
//! private copy; the old generation stays mapped (objects dispensed from it
//! keep working) but is no longer dispensed.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    sync::mpsc::{channel, Receiver, RecvTimeoutError},
    time::{Duration, Instant},
};

use notify::Watcher as _;

use crate::{discover::is_candidate, LibraryInfo, LoadError, PluginHost};

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
                "removed {} ({library}, generation {generation}): its plugins are no longer dispensed",
                path.display()
            ),
        }
    }
}

/// Why a folder cannot be watched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The host was built without a plugins folder.
    #[error(
        "the host has no plugins folder to watch; set one with PluginHostBuilder::plugins_dir"
    )]
    NoFolder,
    /// The operating system's file watcher failed.
    #[error("cannot watch {}: {source}", path.display())]
    Notify {
        /// The folder.
        path: PathBuf,
        /// What `notify` reported.
        source: notify::Error,
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

    /// Records the candidate files an event names, under the host's name for
    /// the folder: the watcher may report `/abs/plugins.d/x.so` for a file the
    /// host loaded as `plugins.d/x.so`, and the two must be one file.
    fn note(&mut self, event: notify::Event) {
        let now = Instant::now();
        for path in event.paths {
            let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                continue;
            };
            let in_folder = parent == self.dir || Some(parent) == self.canonical_dir.as_deref();
            let path = self.dir.join(name);
            if in_folder && is_candidate(&path) {
                self.pending.insert(path, now);
            }
        }
    }
}

impl PluginHost {
    /// Starts watching the host's plugins folder (see
    /// [`PluginHostBuilder::plugins_dir`](crate::PluginHostBuilder::plugins_dir)).
    /// Nothing is loaded until [`process_changes`](Self::process_changes)
    /// runs; load the folder's current files with [`load`](Self::load) first.
    ///
    /// Changes are applied on the thread that calls `process_changes`, so
    /// dispensing never waits for a lock; a server that dispenses from other
    /// threads while watching wraps the host in a `RwLock` and calls
    /// `process_changes` with the write lock held only while it applies
    /// changes.
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
        .map_err(|source| WatchError::Notify {
            path: dir.clone(),
            source,
        })?;
        watcher
            .watch(&dir, notify::RecursiveMode::NonRecursive)
            .map_err(|source| WatchError::Notify {
                path: dir.clone(),
                source,
            })?;
        Ok(PluginWatch {
            canonical_dir: dir.canonicalize().ok(),
            dir,
            callback: None,
            events: rx,
            _watcher: watcher,
            pending: BTreeMap::new(),
        })
    }

    /// Waits up to `timeout` for changes in the watched folder and applies
    /// them: returns the events, or nothing if the time ran out first.
    ///
    /// A file is acted on once it has been left alone for the debounce time
    /// (see [`PluginHostBuilder::debounce`](crate::PluginHostBuilder::debounce)),
    /// so a file being copied in is not loaded half-written; a file that is
    /// still incomplete then is refused by the vet step, and loaded on its
    /// next change. Write new versions to a temporary name and rename them
    /// into place.
    pub fn process_changes(
        &mut self,
        watch: &mut PluginWatch,
        timeout: Duration,
    ) -> Vec<WatchEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            let now = Instant::now();
            let ready: Vec<PathBuf> = watch
                .pending
                .iter()
                .filter(|(_, at)| now.duration_since(**at) >= self.debounce)
                .map(|(p, _)| p.clone())
                .collect();
            if !ready.is_empty() {
                for path in &ready {
                    watch.pending.remove(path);
                }
                let events: Vec<WatchEvent> =
                    ready.iter().filter_map(|p| self.apply_change(p)).collect();
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
                .map(|at| *at + self.debounce)
                .min()
                .map_or(deadline, |at| at.min(deadline));
            match watch
                .events
                .recv_timeout(wake.saturating_duration_since(now))
            {
                Ok(Ok(event)) => {
                    watch.note(event);
                    while let Ok(Ok(event)) = watch.events.try_recv() {
                        watch.note(event);
                    }
                }
                Ok(Err(e)) => log::warn!("watching {}: {e}", watch.dir.display()),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Vec::new(),
            }
        }
    }

    /// Brings the registry in line with the file at `path`.
    fn apply_change(&mut self, path: &Path) -> Option<WatchEvent> {
        let live = self.live_index(path);
        let Ok(meta) = std::fs::metadata(path) else {
            // Gone: stop dispensing it.
            let index = live?;
            let (library, generation) = self.retire(index);
            log::info!(
                "removed {} ({library}, generation {generation})",
                path.display()
            );
            return Some(WatchEvent::Removed {
                path: path.to_owned(),
                library,
                generation,
            });
        };
        match live {
            None => Some(match self.load_file(path) {
                Ok(library) => WatchEvent::Added(library),
                Err(e) => WatchEvent::Refused(e),
            }),
            Some(index) => {
                let stamp = meta.modified().ok().map(|m| (meta.len(), m));
                if stamp.is_some() && stamp == self.stamp(index) {
                    return None; // touched, not changed
                }
                let previous_generation = self.generation(index);
                Some(match self.load_generation(path, Some(index)) {
                    Ok(library) => WatchEvent::Updated {
                        previous_generation,
                        library,
                    },
                    Err(e) => WatchEvent::Refused(e),
                })
            }
        }
    }
}
