//! Step 3: the handshake — framework ABI version, magic cookie, protocol
//! negotiation (the highest version both sides speak wins, as in go-plugin's
//! `VersionedPlugins`).

use std::path::Path;

use plugboard_interface::{metadata::Metadata, HandshakeConfig, ABI_VERSION};

use crate::LoadError;

/// A library's side of the handshake, as its metadata declares it (read
/// before any of its code runs).
pub(crate) struct Offer<'a> {
    pub(crate) abi_version: u32,
    pub(crate) cookie_key: &'a str,
    pub(crate) cookie_value: &'a str,
    pub(crate) protocols: &'a [u32],
}

impl<'a> From<&'a Metadata> for Offer<'a> {
    fn from(m: &'a Metadata) -> Self {
        Self {
            abi_version: m.abi,
            cookie_key: &m.cookie_key,
            cookie_value: &m.cookie_value,
            protocols: &m.protocols,
        }
    }
}

/// Checks a library's handshake against the host's; returns the negotiated
/// protocol version.
pub(crate) fn check(
    path: &Path,
    plugin: Offer<'_>,
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
    if plugin.cookie_key != host_cookie.cookie_key
        || plugin.cookie_value != host_cookie.cookie_value
    {
        return Err(LoadError::CookieMismatch {
            path: path.to_owned(),
            expected_key: host_cookie.cookie_key.to_owned(),
            expected_value: host_cookie.cookie_value.to_owned(),
            found_key: plugin.cookie_key.to_owned(),
            found_value: plugin.cookie_value.to_owned(),
        });
    }
    negotiate(host_protocols, plugin.protocols).ok_or_else(|| LoadError::NoCommonProtocol {
        path: path.to_owned(),
        host: sorted(host_protocols),
        plugin: sorted(plugin.protocols),
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
