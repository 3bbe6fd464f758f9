//! Step 2 of loading: the handshake — plugboard ABI version, magic cookie,
//! protocol negotiation (the highest version both sides speak wins, as in
//! go-plugin's `VersionedPlugins`) — read from the metadata before any code
//! of the file runs ([`negotiate`]); and, once the library is loaded,
//! [`confirm`] that it reports what its metadata said.

use std::path::Path;

use plugboard_interface::{
    metadata::Metadata, HandshakeConfig, PluginEntry, PluginLibraryRef, ABI_VERSION,
};

use crate::{LoadError, LoadErrorKind};

/// Checks a library's handshake (from its metadata) against the host's;
/// returns the negotiated protocol version.
pub(crate) fn negotiate(
    path: &Path,
    metadata: &Metadata,
    host_cookie: &HandshakeConfig,
    host_protocols: &[u32],
) -> Result<u32, LoadError> {
    let fail = |kind| Err(LoadError::new(path, kind));
    if metadata.abi != ABI_VERSION {
        return fail(LoadErrorKind::AbiVersion {
            expected: ABI_VERSION,
            found: metadata.abi,
        });
    }
    if metadata.cookie_key != host_cookie.cookie_key
        || metadata.cookie_value != host_cookie.cookie_value
    {
        return fail(LoadErrorKind::CookieMismatch {
            expected_key: host_cookie.cookie_key.to_owned(),
            expected_value: host_cookie.cookie_value.to_owned(),
            found_key: metadata.cookie_key.clone(),
            found_value: metadata.cookie_value.clone(),
        });
    }
    match highest_common(host_protocols, &metadata.protocols) {
        Some(protocol) => Ok(protocol),
        None => fail(LoadErrorKind::NoCommonProtocol {
            host: sorted(host_protocols),
            plugin: sorted(&metadata.protocols),
        }),
    }
}

/// Checks that the loaded library's handshake and plugin table are what its
/// metadata said (else the metadata was not written by its own macro);
/// returns the entries of the negotiated protocol.
pub(crate) fn confirm(
    path: &Path,
    root: &PluginLibraryRef,
    metadata: &Metadata,
    protocol: u32,
) -> Result<&'static [PluginEntry], LoadError> {
    let mismatch = |what: &str, expected: String, found: String| {
        LoadError::new(
            path,
            LoadErrorKind::MetadataMismatch {
                reason: format!("{what}: the metadata says {expected}, the loaded library {found}"),
            },
        )
    };
    let header = root.handshake();
    let running = (
        header.abi_version,
        header.cookie_key.as_str(),
        header.cookie_value.as_str(),
        header.protocol_versions.as_slice(),
    );
    let declared = (
        metadata.abi,
        metadata.cookie_key.as_str(),
        metadata.cookie_value.as_str(),
        metadata.protocols.as_slice(),
    );
    if running != declared {
        return Err(mismatch(
            "handshake (ABI, cookie, protocols)",
            format!("{declared:?}"),
            format!("{running:?}"),
        ));
    }
    let sets: &'static [plugboard_interface::PluginSet] = root.plugin_sets().as_slice();
    let Some(set) = sets.iter().find(|s| s.protocol_version == protocol) else {
        return Err(LoadError::new(
            path,
            LoadErrorKind::BadEntry {
                plugin: format!("<protocol {protocol}>"),
                reason: format!(
                    "the library offers protocol {protocol} but exports no plugin set for it"
                ),
            },
        ));
    };
    let entries: &'static [PluginEntry] = set.entries.as_slice();
    let listed: Vec<(&str, &str, &str)> = metadata
        .plugins
        .iter()
        .filter(|p| p.protocol == protocol)
        .map(|p| {
            (
                p.name.as_str(),
                p.interface.as_str(),
                p.interface_version.as_str(),
            )
        })
        .collect();
    let exported: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| (e.name(), e.interface(), e.interface_version()))
        .collect();
    if listed != exported {
        return Err(mismatch(
            &format!("plugin table of protocol {protocol}"),
            format!("{listed:?}"),
            format!("{exported:?}"),
        ));
    }
    Ok(entries)
}

/// The highest protocol version both sides list.
pub(crate) fn highest_common(host: &[u32], plugin: &[u32]) -> Option<u32> {
    plugin.iter().copied().filter(|v| host.contains(v)).max()
}

fn sorted(versions: &[u32]) -> Vec<u32> {
    let mut v = versions.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::highest_common;

    #[test]
    fn highest_common_version_wins() {
        assert_eq!(highest_common(&[1, 2, 3], &[2, 3, 4]), Some(3));
        assert_eq!(highest_common(&[1], &[1]), Some(1));
        assert_eq!(highest_common(&[3, 1], &[1, 3]), Some(3));
    }

    #[test]
    fn no_common_version() {
        assert_eq!(highest_common(&[1, 2], &[3]), None);
        assert_eq!(highest_common(&[1], &[]), None);
    }
}
