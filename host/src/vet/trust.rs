//! What the host trusts a file by: its SHA-256 in an allowlist
//! (`sha256sum` format) and an ed25519 signature in `<file>.sig`.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use ed25519_dalek::{Signature, VerifyingKey};

use crate::{LoadError, LoadErrorKind};

pub(super) fn check_checksum(
    path: &Path,
    digest: &[u8; 32],
    sha256: &str,
    allowed: &BTreeMap<String, [u8; 32]>,
) -> Result<(), LoadError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match allowed.get(&name) {
        Some(expected) if expected == digest => Ok(()),
        Some(expected) => Err(LoadError::new(
            path,
            LoadErrorKind::ChecksumMismatch {
                expected: hex(expected),
                found: sha256.to_owned(),
            },
        )),
        None => Err(LoadError::new(
            path,
            LoadErrorKind::NotAllowed {
                sha256: sha256.to_owned(),
            },
        )),
    }
}

/// The detached signature of `path`: `path` + `.sig`.
pub(crate) fn signature_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sig");
    PathBuf::from(s)
}

pub(super) fn check_signature(
    path: &Path,
    bytes: &[u8],
    trusted: &[VerifyingKey],
) -> Result<String, LoadError> {
    let sig_path = signature_path(path);
    let text = fs::read_to_string(&sig_path).map_err(|_| {
        LoadError::new(
            path,
            LoadErrorKind::Unsigned {
                signature: sig_path.clone(),
            },
        )
    })?;
    let bad = |reason: &str| {
        LoadError::new(
            path,
            LoadErrorKind::BadSignature {
                reason: reason.to_owned(),
            },
        )
    };
    let raw = unhex(text.trim()).ok_or_else(|| bad("the .sig file is not hex text"))?;
    let signature = Signature::from_slice(&raw)
        .map_err(|_| bad("the .sig file does not hold an ed25519 signature"))?;
    trusted
        .iter()
        .find(|key| key.verify_strict(bytes, &signature).is_ok())
        .map(|key| hex(key.as_bytes()))
        .ok_or_else(|| bad("it does not verify against any trusted key (the file or its signature was changed, or it was signed with another key)"))
}

/// Why a checksum list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ChecksumsError {
    /// The 1-based line.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Reads a `sha256sum`-style file: `<hex>  <file name>` per line.
pub(crate) fn read_checksums(text: &str) -> Result<BTreeMap<String, [u8; 32]>, ChecksumsError> {
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |reason: String| ChecksumsError {
            line: n + 1,
            reason,
        };
        let (hash, name) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| err("expected `<sha256>  <file name>`".to_owned()))?;
        let name = name.trim().trim_start_matches('*');
        let digest: [u8; 32] = unhex(hash)
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| err(format!("`{hash}` is not a SHA-256 in hex")))?;
        let file_name = Path::new(name)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.to_owned());
        map.insert(file_name, digest);
    }
    Ok(map)
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses hex (either case); `None` if malformed.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(unhex("00ABff"), Some(vec![0, 0xab, 0xff]));
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
    }

    #[test]
    fn reads_sha256sum_files() {
        let h = "a".repeat(64);
        let map = read_checksums(&format!("# comment\n{h}  dir/libx.so\n{h} *liby.so\n")).unwrap();
        assert_eq!(map.keys().collect::<Vec<_>>(), ["libx.so", "liby.so"]);
        assert_eq!(read_checksums("zz  libx.so").unwrap_err().line, 1);
    }
}
