//! A load refused in a runner, both ways: the runner reports the refusal
//! of its load steps as a [`Refusal`], the host turns it back into the
//! [`LoadErrorKind`] an in-process load gives.

use std::path::Path;

use plugboard_interface::{PluginError, PluginErrorKind};

use super::{
    parent::Failure,
    wire::{InterfaceProblem, Refusal},
};
use crate::{check::InterfaceSpec, DispenseError, LayoutReport, LoadError, LoadErrorKind};

/// Why a runner could not be started or load the library.
pub(super) enum LaunchFailure {
    /// The runner refused the library, as an in-process load would.
    Refused(LoadErrorKind),
    /// The runner crashed or timed out.
    Failed(Failure),
}

impl LaunchFailure {
    pub(super) fn into_load_error(self, path: &Path) -> LoadError {
        let kind = match self {
            Self::Refused(kind) => kind,
            Self::Failed(Failure { error, detail }) => match error.kind() {
                PluginErrorKind::TimedOut => LoadErrorKind::TimedOut { reason: detail },
                PluginErrorKind::Crashed => LoadErrorKind::Crashed { reason: detail },
                _ => LoadErrorKind::Isolation { reason: detail },
            },
        };
        LoadError::new(path, kind)
    }

    pub(super) fn into_plugin_error(self) -> PluginError {
        match self {
            Self::Refused(kind) => PluginError::failed(format!(
                "the plugin's process could not load it again: {kind}"
            )),
            Self::Failed(failure) => failure.error,
        }
    }
}

/// The load refusal a runner reported, as the host's own kind.
pub(super) fn refusal_kind(
    refusal: Refusal,
    specs: &[InterfaceSpec],
    path: &Path,
) -> LoadErrorKind {
    match refusal {
        Refusal::OpenFailed { reason } => LoadErrorKind::OpenFailed { reason },
        Refusal::NotAPlugin => LoadErrorKind::NotAPlugin,
        Refusal::AbiStableMismatch { expected, found } => {
            LoadErrorKind::AbiStableMismatch { expected, found }
        }
        Refusal::IncompatibleFramework { summary, details } => {
            LoadErrorKind::IncompatibleFramework { summary, details }
        }
        Refusal::MetadataMismatch { reason } => LoadErrorKind::MetadataMismatch { reason },
        Refusal::BadEntry { plugin, reason } => LoadErrorKind::BadEntry { plugin, reason },
        Refusal::Interface {
            plugin,
            interface,
            found,
            problem,
        } => {
            let Some(spec) = specs.iter().find(|s| s.name == interface) else {
                return LoadErrorKind::Isolation {
                    reason: format!("the plugin's process refused plugin `{plugin}` for an interface this host does not register ({interface})"),
                };
            };
            let path = path.to_owned();
            LoadErrorKind::IncompatibleInterface(match problem {
                InterfaceProblem::Version => DispenseError::IncompatibleVersion {
                    plugin,
                    path,
                    interface: spec.name,
                    expected: spec.version,
                    found,
                },
                InterfaceProblem::Layout { summary, details } => DispenseError::LayoutMismatch {
                    plugin,
                    path,
                    interface: spec.name,
                    expected: spec.version,
                    found: found.into_boxed_str(),
                    report: Box::new(LayoutReport { summary, details }),
                },
            })
        }
        Refusal::InitFailed { reason } => LoadErrorKind::InitFailed { reason },
        Refusal::Runner { reason } => LoadErrorKind::Isolation { reason },
    }
}

/// The refusal to report for a load error.
pub(super) fn refusal(error: LoadError) -> Refusal {
    let shown = error.to_string();
    match error.into_kind() {
        LoadErrorKind::OpenFailed { reason } => Refusal::OpenFailed { reason },
        LoadErrorKind::NotAPlugin => Refusal::NotAPlugin,
        LoadErrorKind::AbiStableMismatch { expected, found } => {
            Refusal::AbiStableMismatch { expected, found }
        }
        LoadErrorKind::IncompatibleFramework { summary, details } => {
            Refusal::IncompatibleFramework { summary, details }
        }
        LoadErrorKind::MetadataMismatch { reason } => Refusal::MetadataMismatch { reason },
        LoadErrorKind::BadEntry { plugin, reason } => Refusal::BadEntry { plugin, reason },
        LoadErrorKind::InitFailed { reason } => Refusal::InitFailed { reason },
        LoadErrorKind::IncompatibleInterface(DispenseError::IncompatibleVersion {
            plugin,
            interface,
            found,
            ..
        }) => Refusal::Interface {
            plugin,
            interface: interface.to_owned(),
            found,
            problem: InterfaceProblem::Version,
        },
        LoadErrorKind::IncompatibleInterface(DispenseError::LayoutMismatch {
            plugin,
            interface,
            found,
            report,
            ..
        }) => Refusal::Interface {
            plugin,
            interface: interface.to_owned(),
            found: found.into_string(),
            problem: InterfaceProblem::Layout {
                summary: report.summary,
                details: report.details,
            },
        },
        _ => Refusal::Runner { reason: shown },
    }
}
