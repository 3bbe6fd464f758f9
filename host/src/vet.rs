//! Step 1b: vet a file before any of its code runs.
//!
//! Everything here reads bytes; nothing is loaded or executed. The checks,
//! in order: the path is a regular file (symlinks are followed and the file
//! they point to is vetted), its size is within limits, neither it nor its
//! folder can be written by group or others (OpenSSH's StrictModes), the
//! bytes are a shared library for this platform and architecture whose every
//! loadable segment lies inside the file (a truncated file is caught here,
//! not by a SIGBUS in `dlopen`), it exports the `abi_stable` root module,
//! and it carries plugboard metadata. Then the SHA-256 allowlist and the
//! signature, if the host asks for them. The same bytes are what the host
//! then copies privately and loads.

use std::{
    collections::BTreeMap,
    fs,
    io::Read,
    path::{Path, PathBuf},
};

use ed25519_dalek::{Signature, VerifyingKey};
use object::{Object, ObjectSection, ObjectSegment};
use plugboard_interface::metadata::{self, Metadata, Target};
use sha2::{Digest, Sha256};

use crate::LoadError;

/// The host's vetting rules.
#[derive(Clone)]
pub(crate) struct VetPolicy {
    pub(crate) strict_permissions: bool,
    pub(crate) max_size: u64,
    pub(crate) checksums: Option<BTreeMap<String, [u8; 32]>>,
    pub(crate) trusted_keys: Vec<VerifyingKey>,
}

impl Default for VetPolicy {
    fn default() -> Self {
        Self {
            strict_permissions: cfg!(unix),
            max_size: 256 * 1024 * 1024,
            checksums: None,
            trusted_keys: Vec::new(),
        }
    }
}

/// What vetting found out about a file, without running any of its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The file (as given, before following symlinks).
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its bytes, in hex: always computed by
    /// [`PluginHost::inspect_file`](crate::PluginHost::inspect_file), and when
    /// loading only if the host has a checksum allowlist.
    pub sha256: Option<String>,
    /// The object format, e.g. `Elf`.
    pub format: String,
    /// The architecture, e.g. `X86_64`.
    pub architecture: String,
    /// The metadata the library carries.
    pub metadata: Metadata,
    /// Whether a signature was checked: `None` when the host trusts no keys.
    pub signed_by: Option<String>,
}

/// A file that passed vetting, with the bytes that were vetted.
pub(crate) struct Vetted {
    pub(crate) bytes: Vec<u8>,
    pub(crate) inspection: Inspection,
    /// The file's size and modification time when it was read (a watched
    /// folder compares them to tell a changed file from a touched one).
    pub(crate) stamp: Option<(u64, std::time::SystemTime)>,
}

/// The object format and architecture plugins must have on this host.
fn host_format() -> object::BinaryFormat {
    if cfg!(target_vendor = "apple") {
        object::BinaryFormat::MachO
    } else if cfg!(windows) {
        object::BinaryFormat::Pe
    } else {
        object::BinaryFormat::Elf
    }
}

fn host_architecture() -> Option<object::Architecture> {
    use object::Architecture as A;
    Some(match std::env::consts::ARCH {
        "x86_64" => A::X86_64,
        "x86" => A::I386,
        "aarch64" => A::Aarch64,
        "arm" => A::Arm,
        "riscv64" => A::Riscv64,
        "powerpc64" => A::PowerPc64,
        "s390x" => A::S390x,
        "loongarch64" => A::LoongArch64,
        _ => return None,
    })
}

fn metadata_section_name() -> &'static str {
    match host_format() {
        object::BinaryFormat::MachO => metadata::SECTION_MACHO,
        object::BinaryFormat::Pe => metadata::SECTION_PE,
        _ => metadata::SECTION_ELF,
    }
}

/// Vets the file at `path`; computes its SHA-256 if `want_digest` or the
/// policy has an allowlist.
pub(crate) fn vet(path: &Path, policy: &VetPolicy, want_digest: bool) -> Result<Vetted, LoadError> {
    let p = || path.to_owned();
    // Follows symlinks: the file they lead to is what gets vetted (a
    // dangling link or a loop is `Unreadable`).
    let meta = fs::metadata(path).map_err(|source| LoadError::Unreadable { path: p(), source })?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile {
            path: p(),
            found: crate::load::describe_file_type(&meta.file_type()),
        });
    }
    if meta.len() > policy.max_size {
        return Err(LoadError::TooLarge {
            path: p(),
            size: meta.len(),
            limit: policy.max_size,
        });
    }
    if policy.strict_permissions {
        check_permissions(path, &meta)?;
    }

    let mut bytes = Vec::with_capacity(meta.len() as usize);
    fs::File::open(path)
        .and_then(|f| f.take(policy.max_size + 1).read_to_end(&mut bytes))
        .map_err(|source| LoadError::Unreadable { path: p(), source })?;
    if bytes.len() as u64 > policy.max_size {
        return Err(LoadError::TooLarge {
            path: p(),
            size: bytes.len() as u64,
            limit: policy.max_size,
        });
    }

    let (format, architecture, metadata) = examine(path, &bytes)?;
    // Hashing costs about as much as everything else in the vet together:
    // only when the allowlist needs it or the caller wants to show it.
    let digest: Option<[u8; 32]> =
        (want_digest || policy.checksums.is_some()).then(|| Sha256::digest(&bytes).into());
    let sha256 = digest.as_ref().map(|d| hex(d));

    if let (Some(allowed), Some(digest), Some(sha256)) = (&policy.checksums, &digest, &sha256) {
        check_checksum(path, digest, sha256, allowed)?;
    }
    let signed_by = if policy.trusted_keys.is_empty() {
        None
    } else {
        Some(check_signature(path, &bytes, &policy.trusted_keys)?)
    };

    Ok(Vetted {
        stamp: meta.modified().ok().map(|m| (meta.len(), m)),
        inspection: Inspection {
            path: p(),
            size: bytes.len() as u64,
            sha256,
            format,
            architecture,
            metadata,
            signed_by,
        },
        bytes,
    })
}

/// Reads the plugboard metadata out of a library's bytes, with every
/// object-level check of the vet step (format, architecture, shared library,
/// segments inside the bytes, exported root module, metadata and its
/// target), **without loading or running anything**. Never panics, whatever
/// the bytes: it is the pre-load parser the fuzz target and property tests
/// exercise.
///
/// # Errors
///
/// The [`LoadError`] the vet step would refuse the bytes with; its path is
/// `<bytes>`.
pub fn inspect_bytes(bytes: &[u8]) -> Result<Metadata, LoadError> {
    examine(Path::new("<bytes>"), bytes).map(|(_, _, metadata)| metadata)
}

/// Object-level checks on the bytes; returns format, architecture, metadata.
pub(crate) fn examine(path: &Path, bytes: &[u8]) -> Result<(String, String, Metadata), LoadError> {
    let p = || path.to_owned();
    let file = object::File::parse(bytes).map_err(|e| LoadError::NotALibrary {
        path: p(),
        reason: e.to_string(),
    })?;
    if file.format() != host_format() {
        return Err(LoadError::WrongPlatform {
            path: p(),
            expected: format!("{:?}", host_format()),
            found: format!("{:?} file", file.format()),
        });
    }
    if let Some(arch) = host_architecture() {
        if file.architecture() != arch {
            return Err(LoadError::WrongPlatform {
                path: p(),
                expected: format!("{arch:?}"),
                found: format!("{:?} code", file.architecture()),
            });
        }
    }
    if file.kind() != object::ObjectKind::Dynamic {
        return Err(LoadError::NotALibrary {
            path: p(),
            reason: format!("it is a {:?} file, not a shared library", file.kind()),
        });
    }
    let len = bytes.len() as u64;
    for segment in file.segments() {
        let (offset, size) = segment.file_range();
        if offset.checked_add(size).is_none_or(|end| end > len) {
            return Err(LoadError::Truncated {
                path: p(),
                needed: offset.saturating_add(size),
                size: len,
            });
        }
    }
    let root = abi_stable::library::ROOT_MODULE_LOADER_NAME.as_bytes();
    let exports_root = file.exports().is_ok_and(|exports| {
        exports
            .into_iter()
            .filter_map(Result::ok)
            .any(|e| match e.name() {
                // Mach-O prefixes C symbol names with an underscore.
                object::NameOrOrdinal::Name(name) => {
                    name == root || name.strip_prefix(b"_") == Some(root)
                }
                object::NameOrOrdinal::Ordinal(_) => false,
            })
    });
    if !exports_root {
        return Err(LoadError::NotAPlugin { path: p() });
    }
    let section = file
        .section_by_name(metadata_section_name())
        .ok_or_else(|| LoadError::BadMetadata {
            path: p(),
            reason: format!("it has no `{}` section", metadata_section_name()),
        })?;
    let data = section.data().map_err(|e| LoadError::BadMetadata {
        path: p(),
        reason: e.to_string(),
    })?;
    let metadata = metadata::parse(data).map_err(|e| LoadError::BadMetadata {
        path: p(),
        reason: e.to_string(),
    })?;
    let host_target = Target::current();
    if metadata.target.arch != host_target.arch
        || metadata.target.os != host_target.os
        || metadata.target.env != host_target.env
    {
        return Err(LoadError::WrongPlatform {
            path: p(),
            expected: host_target.to_string(),
            found: format!("a build for {}", metadata.target),
        });
    }
    Ok((
        format!("{:?}", file.format()),
        format!("{:?}", file.architecture()),
        metadata,
    ))
}

#[cfg(unix)]
fn check_permissions(path: &Path, meta: &fs::Metadata) -> Result<(), LoadError> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let insecure = |what: &Path, m: &fs::Metadata, kind: &'static str| {
        let mode = m.mode() & 0o7777;
        let writable_by_others = mode & 0o022 != 0;
        let owner_ok = m.uid() == me || m.uid() == 0;
        (writable_by_others || !owner_ok).then(|| LoadError::InsecurePermissions {
            path: path.to_owned(),
            what: format!("{kind} {}", what.display()),
            mode,
            owner: m.uid(),
        })
    };
    if let Some(e) = insecure(path, meta, "file") {
        return Err(e);
    }
    let real = fs::canonicalize(path).map_err(|source| LoadError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    if let Some(dir) = real.parent() {
        let dir_meta = fs::metadata(dir).map_err(|source| LoadError::Unreadable {
            path: path.to_owned(),
            source,
        })?;
        if let Some(e) = insecure(dir, &dir_meta, "folder") {
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path, _meta: &fs::Metadata) -> Result<(), LoadError> {
    Ok(())
}

fn check_checksum(
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
        Some(expected) => Err(LoadError::ChecksumMismatch {
            path: path.to_owned(),
            expected: hex(expected),
            found: sha256.to_owned(),
        }),
        None => Err(LoadError::NotAllowed {
            path: path.to_owned(),
            sha256: sha256.to_owned(),
        }),
    }
}

/// The detached signature of `path`: `path` + `.sig`.
pub(crate) fn signature_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sig");
    PathBuf::from(s)
}

fn check_signature(
    path: &Path,
    bytes: &[u8],
    trusted: &[VerifyingKey],
) -> Result<String, LoadError> {
    let sig_path = signature_path(path);
    let text = fs::read_to_string(&sig_path).map_err(|_| LoadError::Unsigned {
        path: path.to_owned(),
        signature: sig_path.clone(),
    })?;
    let bad = |reason: &str| LoadError::BadSignature {
        path: path.to_owned(),
        reason: reason.to_owned(),
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

/// Reads a `sha256sum`-style file: `<hex>  <file name>` per line.
pub(crate) fn read_checksums(text: &str) -> Result<BTreeMap<String, [u8; 32]>, String> {
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (hash, name) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("line {}: expected `<sha256>  <file name>`", n + 1))?;
        let name = name.trim().trim_start_matches('*');
        let digest: [u8; 32] = unhex(hash)
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| format!("line {}: `{hash}` is not a SHA-256 in hex", n + 1))?;
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
        assert!(read_checksums("zz  libx.so").is_err());
    }

    #[test]
    fn garbage_is_not_a_library() {
        let err = examine(Path::new("x.so"), b"hello, not an ELF file").unwrap_err();
        assert!(matches!(err, LoadError::NotALibrary { .. }), "{err:?}");
    }
}
