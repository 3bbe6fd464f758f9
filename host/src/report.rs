//! What `load_dir` did with each file.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use crate::{display::shown, LibraryInfo, LoadError};

/// The outcome for one file: loaded, or refused with a reason.
#[derive(Debug)]
pub struct FileOutcome {
    /// The file.
    pub path: PathBuf,
    /// The library it loaded as, or why it was refused.
    pub result: Result<LibraryInfo, LoadError>,
}

/// The result of [`PluginHost::load_dir`](crate::PluginHost::load_dir): one
/// [`FileOutcome`] per candidate file, in load (sorted) order.
#[derive(Debug)]
pub struct LoadReport {
    /// The folder that was read.
    pub dir: PathBuf,
    /// One outcome per candidate file; if the folder itself could not be
    /// read, a single [`LoadErrorKind::FolderUnreadable`](crate::LoadErrorKind::FolderUnreadable) refusal for it.
    pub outcomes: Vec<FileOutcome>,
    /// How long listing the folder's candidate files took (each file's own
    /// steps are in its [`LibraryInfo::timings`]).
    pub discover: std::time::Duration,
}

impl LoadReport {
    /// The libraries that loaded.
    pub fn loaded(&self) -> impl Iterator<Item = &LibraryInfo> {
        self.outcomes.iter().filter_map(|o| o.result.as_ref().ok())
    }

    /// The refusals.
    pub fn refused(&self) -> impl Iterator<Item = &LoadError> {
        self.outcomes.iter().filter_map(|o| o.result.as_ref().err())
    }

    /// Whether every candidate file loaded (true for an empty folder).
    pub fn all_loaded(&self) -> bool {
        self.refused().next().is_none()
    }

    /// The outcome for `path`, if it was a candidate.
    pub fn outcome(&self, path: &Path) -> Option<&FileOutcome> {
        self.outcomes.iter().find(|o| o.path == path)
    }
}

impl fmt::Display for LoadReport {
    /// One line per file: `loaded` with the library and its plugins, or
    /// `refused` with the reason.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for outcome in &self.outcomes {
            writeln!(f, "{outcome}")?;
        }
        Ok(())
    }
}

impl fmt::Display for FileOutcome {
    /// `loaded  <library>` or `refused <reason>`, on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.result {
            Ok(lib) => write!(f, "loaded  {lib}"),
            Err(e) => write!(f, "refused {e}"),
        }
    }
}

impl fmt::Display for LibraryInfo {
    /// `<path> (<name> <version>, protocol <n>[, isolated]): <plugin> (<interface> <version>), ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} {}, protocol {}{}):",
            crate::display::path(&self.path),
            shown(&self.name),
            shown(&self.version),
            self.protocol,
            if self.isolated { ", isolated" } else { "" }
        )?;
        for (i, e) in self.entries.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(
                f,
                "{sep}{} ({} {}",
                shown(&e.name),
                shown(&e.interface),
                shown(&e.interface_version)
            )?;
            for (j, m) in e.missing_methods.iter().enumerate() {
                let lead = if j == 0 {
                    "; optional methods missing: "
                } else {
                    ", "
                };
                write!(f, "{lead}{m}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}
