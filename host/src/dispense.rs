//! Step 5: dispense a typed plugin object, after checking that the entry's
//! interface name, semver and `abi_stable` layout match the host's type. One
//! of the two modules with `unsafe` (the other is `load`).

use std::mem::MaybeUninit;

use abi_stable::{abi_stability::abi_checking::check_layout_compatibility, std_types::RResult};
use plugboard_interface::Interface;

use crate::{layout, registry::Slot, DispenseError, PluginInfo};

/// Checks that the plugin in `slot` can be used as an `I`: same interface
/// name, compatible semver, compatible layout.
pub(crate) fn check<I: Interface>(slot: &Slot, info: &PluginInfo) -> Result<(), DispenseError> {
    let entry = &slot.entry;
    if entry.interface.as_str() != I::NAME {
        return Err(DispenseError::WrongInterface {
            plugin: info.entry.name.clone(),
            path: info.path.clone(),
            expected: I::NAME,
            found: format!("{} {}", entry.interface, entry.interface_version),
            implementing: Vec::new(),
        });
    }
    let version_error = || DispenseError::IncompatibleVersion {
        plugin: info.entry.name.clone(),
        path: info.path.clone(),
        interface: I::NAME,
        expected: I::VERSION,
        found: entry.interface_version.to_string(),
    };
    let host = semver::Version::parse(I::VERSION).map_err(|_| version_error())?;
    let plugin =
        semver::Version::parse(entry.interface_version.as_str()).map_err(|_| version_error())?;
    if !semver_compatible(&host, &plugin) {
        return Err(version_error());
    }
    check_layout_compatibility(I::LAYOUT, entry.layout).map_err(|errors| {
        let details = errors.to_string();
        DispenseError::LayoutMismatch {
            plugin: info.entry.name.clone(),
            path: info.path.clone(),
            interface: I::NAME,
            expected: I::VERSION,
            summary: layout::summarize(&details),
            details: details.into(),
        }
    })
}

/// Calls the plugin's factory for an `I`. `check::<I>` must have passed for
/// this slot.
pub(crate) fn create<I: Interface>(slot: &Slot, info: &PluginInfo) -> Result<I, DispenseError> {
    let mut object = MaybeUninit::<I>::uninit();
    // SAFETY: `check::<I>` verified that the entry's layout is compatible
    // with `I`'s, so the factory writes a valid `I` (the `Factory`
    // contract) into a slot that is valid and aligned for `I`. The factory
    // catches panics inside the plugin, so none unwinds into the host.
    let result = unsafe { (slot.entry.factory)(object.as_mut_ptr().cast()) };
    match result {
        // SAFETY: on `ROk` the factory has initialised the object.
        RResult::ROk(()) => Ok(unsafe { object.assume_init() }),
        RResult::RErr(source) => Err(DispenseError::FactoryFailed {
            plugin: info.entry.name.clone(),
            path: info.path.clone(),
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
