//! Step 3: the handshake — framework ABI version, magic cookie, protocol
//! negotiation (the highest version both sides speak wins, as in go-plugin's
//! `VersionedPlugins`).

use std::path::Path;

use plugboard_interface::{Handshake, HandshakeConfig, ABI_VERSION};

use crate::LoadError;

/// Checks a library's handshake against the host's; returns the negotiated
/// protocol version.
pub(crate) fn check(
    path: &Path,
    plugin: &Handshake,
    host_cookie: &HandshakeConfig,
    host_protocols: &[u32],
) -> Result<u32, LoadError> {
    if plugin.abi_version != ABI_VERSION {
        return Err(LoadError::AbiVersion {
            path: path.to_owned(),
            expected: ABI_VERSION,
            found: plugin.abi_version,
        });
    }
    if plugin.cookie_key.as_str() != host_cookie.cookie_key
        || plugin.cookie_value.as_str() != host_cookie.cookie_value
    {
        return Err(LoadError::CookieMismatch {
            path: path.to_owned(),
            expected_key: host_cookie.cookie_key.to_owned(),
            expected_value: host_cookie.cookie_value.to_owned(),
            found_key: plugin.cookie_key.to_string(),
            found_value: plugin.cookie_value.to_string(),
        });
    }
    negotiate(host_protocols, plugin.protocol_versions.as_slice()).ok_or_else(|| {
        LoadError::NoCommonProtocol {
            path: path.to_owned(),
            host: sorted(host_protocols),
            plugin: sorted(plugin.protocol_versions.as_slice()),
        }
    })
}

/// The highest protocol version both sides list.
pub(crate) fn negotiate(host: &[u32], plugin: &[u32]) -> Option<u32> {
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
    use super::negotiate;

    #[test]
    fn highest_common_version_wins() {
        assert_eq!(negotiate(&[1, 2, 3], &[2, 3, 4]), Some(3));
        assert_eq!(negotiate(&[1], &[1]), Some(1));
        assert_eq!(negotiate(&[3, 1], &[1, 3]), Some(3));
    }

    #[test]
    fn no_common_version() {
        assert_eq!(negotiate(&[1, 2], &[3]), None);
        assert_eq!(negotiate(&[1], &[]), None);
    }
}
