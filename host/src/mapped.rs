//! What the host has mapped into its own process, against its limits.
//! Libraries are never unloaded, so every library `dlopen` mapped counts
//! for as long as the process lives (an isolated plugin's library is mapped
//! in its runner process, and not counted here): one being dispensed, one replaced by a newer generation,
//! one whose file was removed (and perhaps added again), and one refused
//! after `dlopen` (its init failed, its layout or interfaces did not
//! match). The limits are checked before a file is even vetted.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use crate::{LoadError, LoadErrorKind};

/// The host's caps on mapped libraries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Per path (see `PluginHostBuilder::max_generations`).
    pub(crate) per_path: usize,
    /// In total (see `PluginHostBuilder::max_libraries`).
    pub(crate) total: usize,
}

/// How many libraries `dlopen` mapped, per path and in total.
#[derive(Default)]
pub(crate) struct Mapped {
    by_path: BTreeMap<PathBuf, usize>,
    total: usize,
}

impl Mapped {
    /// Refuses one more library from `path` when that would exceed a limit.
    pub(crate) fn check(&self, path: &Path, limits: Limits) -> Result<(), LoadError> {
        let of_path = self.by_path.get(path).copied().unwrap_or(0);
        if of_path >= limits.per_path {
            return Err(LoadError::new(
                path,
                LoadErrorKind::TooManyGenerations {
                    mapped: of_path,
                    limit: limits.per_path,
                },
            ));
        }
        if self.total >= limits.total {
            return Err(LoadError::new(
                path,
                LoadErrorKind::TooManyLibraries {
                    mapped: self.total,
                    limit: limits.total,
                },
            ));
        }
        Ok(())
    }

    /// Counts a library `dlopen` mapped from (the private copy of) `path`.
    pub(crate) fn add(&mut self, path: &Path) {
        *self.by_path.entry(path.to_owned()).or_default() += 1;
        self.total += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_limits_count_every_mapping() {
        let limits = Limits {
            per_path: 2,
            total: 3,
        };
        let mut mapped = Mapped::default();
        let (a, b) = (Path::new("a.so"), Path::new("b.so"));
        mapped.add(a);
        mapped.check(a, limits).unwrap();
        mapped.add(a);
        let err = mapped.check(a, limits).unwrap_err();
        assert!(matches!(
            err.kind(),
            LoadErrorKind::TooManyGenerations {
                mapped: 2,
                limit: 2
            }
        ));
        mapped.check(b, limits).unwrap();
        mapped.add(b);
        let err = mapped.check(b, limits).unwrap_err();
        assert!(matches!(
            err.kind(),
            LoadErrorKind::TooManyLibraries {
                mapped: 3,
                limit: 3
            }
        ));
    }
}
