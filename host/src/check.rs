//! The interface checks: can a plugin entry be used as the host's interface
//! `I`? Same interface name, a compatible semantic version, a compatible
//! object layout and — for `#[interface]` traits — compatible methods, one
//! by one. They run at load time for the interfaces a host registered
//! ([`registered`]), and at the first dispense for the others.
//!
//! Minor versions work both ways: a plugin built against a newer minor has
//! more methods, which a host never calls; a plugin built against an older
//! minor lacks the methods added since, which calls report as missing.

use std::{any::TypeId, path::Path};

use abi_stable::{type_layout::TypeLayout, StableAbi};
use plugboard_interface::{
    metadata::Metadata, MethodTable, MissingMethod, PluginEntry, PluginInterface,
};

use crate::{
    layout::{self, semver_compatible},
    DispenseError, LayoutReport, LoadError, LoadErrorKind,
};

/// What the host knows of an interface type, without the type.
#[derive(Clone, Copy)]
pub(crate) struct InterfaceSpec {
    pub(crate) name: &'static str,
    pub(crate) version: &'static str,
    pub(crate) layout: &'static TypeLayout,
    pub(crate) optional_methods: &'static [(&'static str, &'static str)],
    pub(crate) methods: Option<&'static MethodTable>,
    pub(crate) type_id: TypeId,
}

impl InterfaceSpec {
    pub(crate) fn of<I: ?Sized + PluginInterface>() -> Self {
        Self {
            name: I::NAME,
            version: I::VERSION,
            layout: <I::Object as StableAbi>::LAYOUT,
            optional_methods: I::OPTIONAL_METHODS,
            methods: I::METHODS,
            type_id: TypeId::of::<I>(),
        }
    }
}

/// The entry being checked, and where it comes from (for messages).
pub(crate) struct Candidate<'a> {
    pub(crate) entry: &'a PluginEntry,
    pub(crate) path: &'a Path,
}

/// Checks that `candidate` can be used as `spec`'s interface; returns the
/// optional methods the plugin lacks.
pub(crate) fn entry(
    spec: &InterfaceSpec,
    candidate: &Candidate<'_>,
) -> Result<Vec<MissingMethod>, DispenseError> {
    let entry = candidate.entry;
    let plugin = || entry.name().to_owned();
    let path = || candidate.path.to_owned();
    if entry.interface() != spec.name {
        return Err(DispenseError::WrongInterface {
            plugin: plugin(),
            path: path(),
            expected: spec.name,
            found: format!("{} {}", entry.interface(), entry.interface_version()),
            implementing: Vec::new(),
        });
    }
    let version_error = || DispenseError::IncompatibleVersion {
        plugin: plugin(),
        path: path(),
        interface: spec.name,
        expected: spec.version,
        found: entry.interface_version().to_owned(),
    };
    let host = semver::Version::parse(spec.version).map_err(|_| version_error())?;
    let found = semver::Version::parse(entry.interface_version()).map_err(|_| version_error())?;
    if !semver_compatible(&host, &found) {
        return Err(version_error());
    }
    let mismatch = |summary: String, details: String| DispenseError::LayoutMismatch {
        plugin: plugin(),
        path: path(),
        interface: spec.name,
        expected: spec.version,
        found: entry.interface_version().into(),
        report: Box::new(LayoutReport { summary, details }),
    };
    match (spec.methods, entry.methods()) {
        (Some(expected), Some(actual)) => {
            layout::check_layouts(spec.layout, entry.layout(), false).map_err(|errors| {
                mismatch(layout::summarize(&errors), errors.to_string())
            })?;
            layout::check_methods(expected, &host, actual, &found).map_err(|m| {
                log::debug!(
                    "{}: plugin `{}`: {}\n{}",
                    crate::display::path(candidate.path),
                    entry.name(),
                    m.summary,
                    m.details
                );
                mismatch(m.summary, m.details)
            })
        }
        (Some(_), None) => Err(mismatch(
            format!(
                "the plugin's {} was not declared with #[interface] (it is a hand-written abi_stable interface)",
                spec.name
            ),
            String::new(),
        )),
        (None, _) => {
            let older = found < host;
            layout::check_layouts(spec.layout, entry.layout(), older).map_err(|errors| {
                log::debug!(
                    "{}: the full layout report for plugin `{}`:\n{errors}",
                    crate::display::path(candidate.path),
                    entry.name()
                );
                mismatch(layout::summarize(&errors), errors.to_string())
            })?;
            if !older {
                return Ok(Vec::new());
            }
            let mut missing = Vec::new();
            for method in layout::missing_prefix_fields(spec.layout, entry.layout()) {
                match spec.optional_methods.iter().find(|(name, _)| *name == method) {
                    Some((name, since)) => missing.push(MissingMethod {
                        name: (*name).to_owned(),
                        since: (*since).to_owned(),
                    }),
                    None => {
                        return Err(mismatch(
                            format!(
                                "it lacks `{method}`, which {} {} does not declare optional (list it in the interface's OPTIONAL_METHODS, with a default body)",
                                spec.name, spec.version
                            ),
                            String::new(),
                        ))
                    }
                }
            }
            Ok(missing)
        }
    }
}

/// Before any code runs: the interface majors of the plugins of protocol
/// `protocol`, from the metadata, for the interfaces the host registered.
pub(crate) fn majors(
    path: &Path,
    metadata: &Metadata,
    protocol: u32,
    specs: &[InterfaceSpec],
) -> Result<(), LoadError> {
    for plugin in metadata.plugins.iter().filter(|p| p.protocol == protocol) {
        let Some(spec) = specs.iter().find(|s| s.name == plugin.interface) else {
            continue;
        };
        let compatible = match (
            semver::Version::parse(spec.version),
            semver::Version::parse(&plugin.interface_version),
        ) {
            (Ok(host), Ok(found)) => semver_compatible(&host, &found),
            _ => false,
        };
        if !compatible {
            return Err(LoadError::new(
                path,
                LoadErrorKind::IncompatibleInterface(DispenseError::IncompatibleVersion {
                    plugin: plugin.name.clone(),
                    path: path.to_owned(),
                    interface: spec.name,
                    expected: spec.version,
                    found: plugin.interface_version.clone(),
                }),
            ));
        }
    }
    Ok(())
}

/// One entry checked against the interfaces the host registered: the spec
/// it passed and the methods it lacks (`None`: not a registered interface).
pub(crate) type Passed = Option<(InterfaceSpec, Vec<MissingMethod>)>;

/// A loaded library's entries checked against the interfaces the host
/// registered.
pub(crate) type Registered = Vec<Passed>;

/// Runs [`entry`] for every entry whose interface the host registered.
pub(crate) fn registered(
    path: &Path,
    entries: &[PluginEntry],
    specs: &[InterfaceSpec],
) -> Result<Registered, LoadError> {
    entries
        .iter()
        .map(|e| {
            let Some(spec) = specs.iter().find(|s| s.name == e.interface()) else {
                return Ok(None);
            };
            let candidate = Candidate { entry: e, path };
            entry(spec, &candidate)
                .map(|missing| Some((*spec, missing)))
                .map_err(|e| LoadError::new(path, LoadErrorKind::IncompatibleInterface(e)))
        })
        .collect()
}

/// Checks, from its metadata, that a library can run in a process of its
/// own: the interfaces the host registers for its plugins must be
/// `#[interface]` traits (a hand-written one has no calls that travel).
pub(crate) fn isolable(
    path: &Path,
    metadata: &Metadata,
    protocol: u32,
    specs: &[InterfaceSpec],
) -> Result<(), LoadError> {
    for plugin in metadata.plugins.iter().filter(|p| p.protocol == protocol) {
        let hand_written = specs
            .iter()
            .any(|s| s.name == plugin.interface && s.methods.is_none());
        if hand_written {
            return Err(LoadError::new(
                path,
                LoadErrorKind::Isolation {
                    reason: format!(
                        "plugin `{}` implements {}, which was written by hand (without #[interface]), so its calls cannot travel to another process",
                        plugin.name, plugin.interface
                    ),
                },
            ));
        }
    }
    Ok(())
}
