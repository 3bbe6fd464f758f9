//! Step 5: dispense a typed plugin object, after checking that the entry's
//! interface name, semver and `abi_stable` layout match the host's type. One
//! of the two modules with `unsafe` (the other is `load`).
//!
//! The same checks run at load time for the interfaces a host registered
//! with [`PluginHostBuilder::interface`](crate::PluginHostBuilder::interface).

use std::{mem::MaybeUninit, path::Path};

use abi_stable::{
    abi_stability::abi_checking::{check_layout_compatibility, AbiInstabilityErrors},
    std_types::RResult,
    type_layout::TypeLayout,
};
use plugboard_interface::Interface;

use crate::{layout, registry::Slot, DispenseError, LayoutReport, MissingMethod, PluginInfo};

/// What the host knows of an interface type, without the type.
#[derive(Clone, Copy)]
pub(crate) struct InterfaceSpec {
    pub(crate) name: &'static str,
    pub(crate) version: &'static str,
    pub(crate) layout: &'static TypeLayout,
    pub(crate) optional_methods: &'static [(&'static str, &'static str)],
    /// Creates an object of this interface from a checked slot and drops it.
    pub(crate) probe: fn(&Slot, &PluginInfo) -> Result<(), DispenseError>,
}

impl InterfaceSpec {
    pub(crate) fn of<I: Interface>() -> Self {
        Self {
            name: I::NAME,
            version: I::VERSION,
            layout: I::LAYOUT,
            optional_methods: I::OPTIONAL_METHODS,
            probe: |slot, info| create::<I>(slot, &info.entry.name, &info.path).map(drop),
        }
    }
}

/// Checks that the plugin in `slot` can be used as `spec`'s interface: same
/// interface name, same major version, compatible layout. Returns the
/// optional methods the plugin lacks.
///
/// Minor versions work both ways: a plugin built against a newer minor has
/// extra trailing vtable fields, which `abi_stable` accepts; a plugin built
/// against an older minor has fewer, which `abi_stable` refuses in this
/// direction, so for a plugin that declares an older minor the check is also
/// run the other way round (plugin as the expected layout). That accepts
/// exactly "the same type, with fields missing at the end"; the missing
/// methods are then optional ones whose default bodies run in the host.
pub(crate) fn check(
    spec: &InterfaceSpec,
    slot: &Slot,
    info: &PluginInfo,
) -> Result<Vec<MissingMethod>, DispenseError> {
    let entry = &slot.entry;
    if entry.interface.as_str() != spec.name {
        return Err(DispenseError::WrongInterface {
            plugin: info.entry.name.clone(),
            path: info.path.clone(),
            expected: spec.name,
            found: format!("{} {}", entry.interface, entry.interface_version),
            implementing: Vec::new(),
        });
    }
    let version_error = || DispenseError::IncompatibleVersion {
        plugin: info.entry.name.clone(),
        path: info.path.clone(),
        interface: spec.name,
        expected: spec.version,
        found: entry.interface_version.to_string(),
    };
    let host = semver::Version::parse(spec.version).map_err(|_| version_error())?;
    let plugin =
        semver::Version::parse(entry.interface_version.as_str()).map_err(|_| version_error())?;
    if !semver_compatible(&host, &plugin) {
        return Err(version_error());
    }
    check_layouts(spec.layout, entry.layout, plugin < host).map_err(|errors| {
        log::debug!(
            "{}: the full layout report for plugin `{}`:\n{errors}",
            info.path.display(),
            info.entry.name
        );
        DispenseError::LayoutMismatch {
            plugin: info.entry.name.clone(),
            path: info.path.clone(),
            interface: spec.name,
            expected: spec.version,
            found: entry.interface_version.as_str().into(),
            report: Box::new(LayoutReport {
                summary: layout::summarize(&errors),
                details: errors.to_string(),
            }),
        }
    })?;
    Ok(spec
        .optional_methods
        .iter()
        .filter(|(_, since)| semver::Version::parse(since).is_ok_and(|since| plugin < since))
        .map(|(name, since)| MissingMethod {
            name: (*name).to_owned(),
            since: (*since).to_owned(),
        })
        .collect())
}

/// Checks that `actual` can be used where `expected` is expected. When the
/// `actual` side declares an older minor version, a failed check is retried
/// the other way round: that passes exactly when `actual` is `expected` with
/// trailing prefix fields (methods) missing, which the optional accessors
/// handle. Used for plugins (actual) in hosts (expected), for the root
/// module, and for host services (actual) requested by plugins (expected).
pub(crate) fn check_layouts(
    expected: &'static TypeLayout,
    actual: &'static TypeLayout,
    actual_is_older: bool,
) -> Result<(), AbiInstabilityErrors> {
    match check_layout_compatibility(expected, actual) {
        Ok(()) => Ok(()),
        Err(_) if actual_is_older && check_layout_compatibility(actual, expected).is_ok() => Ok(()),
        Err(errors) => Err(errors),
    }
}

/// The rule a host applies to every type that crosses the boundary (plugin
/// objects, host services, the root module): can a value whose layout is
/// `actual`, built against `actual_version`, be used where `expected` (at
/// `expected_version`) is expected? Same major (for 0.x, same minor), and
/// `abi_stable`'s layout check — run the other way round too when `actual`
/// is the older minor, which accepts exactly "the same type with trailing
/// prefix fields missing".
///
/// # Errors
///
/// A one-line reason: the versions are not semver, the majors differ, or
/// the first layout mismatch.
pub fn layouts_compatible(
    expected: &'static TypeLayout,
    expected_version: &str,
    actual: &'static TypeLayout,
    actual_version: &str,
) -> Result<(), String> {
    let parse = |v: &str| {
        semver::Version::parse(v).map_err(|e| format!("`{v}` is not a semantic version ({e})"))
    };
    let (expected_v, actual_v) = (parse(expected_version)?, parse(actual_version)?);
    if !semver_compatible(&expected_v, &actual_v) {
        return Err("the major versions differ".to_owned());
    }
    check_layouts(expected, actual, actual_v < expected_v).map_err(|e| layout::summarize(&e))
}

/// Calls the plugin's factory for an `I`. [`check`] must have passed for
/// this slot and `I`.
pub(crate) fn create<I: Interface>(
    slot: &Slot,
    plugin: &str,
    path: &Path,
) -> Result<I, DispenseError> {
    let mut object = MaybeUninit::<I>::uninit();
    // SAFETY: `check` verified that the entry's layout is compatible with
    // `I`'s, so the factory writes a valid `I` (the `Factory` contract) into
    // a slot that is valid and aligned for `I`. The factory catches panics
    // inside the plugin, so none unwinds into the host.
    let result = unsafe { (slot.entry.factory)(object.as_mut_ptr().cast()) };
    match result {
        // SAFETY: on `ROk` the factory has initialised the object.
        RResult::ROk(()) => Ok(unsafe { object.assume_init() }),
        RResult::RErr(source) => Err(DispenseError::FactoryFailed {
            plugin: plugin.to_owned(),
            path: path.to_owned(),
            source,
        }),
    }
}

/// Semver compatibility as Cargo reads it: same major version, and for 0.x,
/// same minor version.
pub(crate) fn semver_compatible(host: &semver::Version, plugin: &semver::Version) -> bool {
    host.major == plugin.major && (host.major != 0 || host.minor == plugin.minor)
}

#[cfg(test)]
mod tests {
    use super::semver_compatible;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn same_major_is_compatible() {
        assert!(semver_compatible(&v("1.0.0"), &v("1.3.2")));
        assert!(semver_compatible(&v("1.3.0"), &v("1.0.0")));
        assert!(!semver_compatible(&v("1.0.0"), &v("2.0.0")));
    }

    #[test]
    fn zero_major_needs_same_minor() {
        assert!(semver_compatible(&v("0.2.0"), &v("0.2.9")));
        assert!(!semver_compatible(&v("0.2.0"), &v("0.3.0")));
    }
}
