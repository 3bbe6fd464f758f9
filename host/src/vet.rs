//! Step 1 of loading: vet a file before any of its code runs.
//!
//! Everything here reads bytes; nothing is loaded or executed. In order: the
//! path is a regular file (symlinks are followed and the file they lead to
//! is vetted), its size is within limits, neither it nor its folder can be
//! written by group or others (OpenSSH's StrictModes), its first bytes are
//! those of a shared library (checked before the rest is read, so a large
//! file that is not a library costs one small read), and then, on the whole
//! file: the SHA-256 allowlist and the signature, if the host asks for them
//! (first, so that a tampered file is reported as tampered), then this
//! platform's format and architecture, a shared library whose every
//! loadable segment lies inside the file, whose program headers and dynamic
//! section glibc's loader can follow without reading outside the file or
//! the mapped image ([`crate::elf_check`]), the exported root module and the
//! plugboard metadata. The same bytes are what the next steps copy and
//! load.

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

use crate::{LoadError, LoadErrorKind};

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
    /// The trusted key (hex) whose signature verified, when the host trusts
    /// any keys.
    pub signed_by: Option<String>,
}

/// A file's identity and version, as a watched folder compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    pub(crate) len: u64,
    pub(crate) modified: Option<std::time::SystemTime>,
    pub(crate) device: u64,
    pub(crate) inode: u64,
    pub(crate) mode: u32,
}

impl FileStamp {
    pub(crate) fn of(meta: &fs::Metadata) -> Self {
        #[cfg(unix)]
        let (device, inode, mode) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino(), meta.mode())
        };
        #[cfg(not(unix))]
        let (device, inode, mode) = (0, 0, u32::from(meta.permissions().readonly()));
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            device,
            inode,
            mode,
        }
    }

    /// Whether `other` is the same file with the same contents as far as
    /// its metadata tells (permissions aside).
    pub(crate) fn same_content(&self, other: &Self) -> bool {
        (self.len, self.modified, self.device, self.inode)
            == (other.len, other.modified, other.device, other.inode)
    }
}

/// A file that passed vetting, with the bytes that were vetted.
pub(crate) struct Vetted {
    pub(crate) bytes: Vec<u8>,
    pub(crate) inspection: Inspection,
    pub(crate) stamp: FileStamp,
}

impl Vetted {
    pub(crate) fn metadata(&self) -> &Metadata {
        &self.inspection.metadata
    }
}

/// What the object checks found (see [`examine`]).
#[derive(Debug)]
pub(crate) struct Examined {
    pub(crate) format: String,
    pub(crate) architecture: String,
    pub(crate) metadata: Metadata,
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

/// How many bytes are read to recognise a shared library before the rest.
const HEAD: usize = 64;

/// Whether `head` starts like a shared library of some platform (ELF, PE,
/// Mach-O, or a universal Mach-O).
fn looks_like_a_library(head: &[u8]) -> bool {
    const MAGICS: &[&[u8]] = &[
        b"\x7fELF",
        b"MZ",
        &[0xfe, 0xed, 0xfa, 0xce],
        &[0xce, 0xfa, 0xed, 0xfe],
        &[0xfe, 0xed, 0xfa, 0xcf],
        &[0xcf, 0xfa, 0xed, 0xfe],
        &[0xca, 0xfe, 0xba, 0xbe],
    ];
    MAGICS.iter().any(|magic| head.starts_with(magic))
}

/// Vets the file at `path`; computes its SHA-256 if `want_digest` or the
/// policy has an allowlist.
pub(crate) fn file(
    path: &Path,
    policy: &VetPolicy,
    want_digest: bool,
) -> Result<Vetted, LoadError> {
    let fail = |kind| LoadError::new(path, kind);
    // Follows symlinks: the file they lead to is what gets vetted (a
    // dangling link or a loop is `Unreadable`). The checks that follow read
    // the opened file, so a path swapped in between is not what is read.
    let not_a_file = |meta: &fs::Metadata| {
        fail(LoadErrorKind::NotAFile {
            found: describe_file_type(&meta.file_type()),
        })
    };
    let named = fs::metadata(path).map_err(|cause| fail(LoadErrorKind::Unreadable { cause }))?;
    if !named.is_file() {
        return Err(not_a_file(&named));
    }
    let mut file = open(path).map_err(|cause| fail(LoadErrorKind::Unreadable { cause }))?;
    let meta = file
        .metadata()
        .map_err(|cause| fail(LoadErrorKind::Unreadable { cause }))?;
    if !meta.is_file() {
        return Err(not_a_file(&meta));
    }
    if meta.len() > policy.max_size {
        return Err(fail(LoadErrorKind::TooLarge {
            size: meta.len(),
            limit: policy.max_size,
        }));
    }
    if policy.strict_permissions {
        check_permissions(path, &meta)?;
    }

    let mut bytes = Vec::new();
    (&mut file)
        .take(HEAD as u64)
        .read_to_end(&mut bytes)
        .map_err(|cause| fail(LoadErrorKind::Unreadable { cause }))?;
    if !looks_like_a_library(&bytes) {
        return Err(fail(LoadErrorKind::NotALibrary {
            reason: "it does not start like a shared library (ELF, PE or Mach-O)".to_owned(),
        }));
    }
    bytes.reserve(meta.len() as usize);
    file.take(policy.max_size + 1 - bytes.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(|cause| fail(LoadErrorKind::Unreadable { cause }))?;
    if bytes.len() as u64 > policy.max_size {
        return Err(fail(LoadErrorKind::TooLarge {
            size: bytes.len() as u64,
            limit: policy.max_size,
        }));
    }

    // Hashing costs about as much as everything else in the vet together:
    // only when the allowlist needs it or the caller wants to show it.
    let digest: Option<[u8; 32]> =
        (want_digest || policy.checksums.is_some()).then(|| Sha256::digest(&bytes).into());
    let sha256 = digest.as_ref().map(|d| hex(d));
    // The allowlist and the signature, when the host asks for them, come
    // before the object checks (all only read bytes): a file that is not
    // the one allowed or signed is reported as such even when the change
    // also broke its structure, since tampering is the diagnosis that
    // helps, and no parser reads a file the host's keys do not vouch for.
    if let (Some(allowed), Some(digest), Some(sha256)) = (&policy.checksums, &digest, &sha256) {
        check_checksum(path, digest, sha256, allowed)?;
    }
    let signed_by = if policy.trusted_keys.is_empty() {
        None
    } else {
        Some(check_signature(path, &bytes, &policy.trusted_keys)?)
    };
    let examined = examine(&bytes).map_err(fail)?;

    Ok(Vetted {
        stamp: FileStamp::of(&meta),
        inspection: Inspection {
            path: path.to_owned(),
            size: bytes.len() as u64,
            sha256,
            format: examined.format,
            architecture: examined.architecture,
            metadata: examined.metadata,
            signed_by,
        },
        bytes,
    })
}

/// Opens `path` for reading without blocking: if a FIFO replaced the file
/// since it was looked at, opening it would wait for a writer (its type is
/// refused right after, from the opened file).
fn open(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Object-level checks on a library's bytes: format, architecture, shared
/// library, segments inside the bytes, exported root module, metadata and
/// its target. Never panics, whatever the bytes.
pub(crate) fn examine(bytes: &[u8]) -> Result<Examined, LoadErrorKind> {
    let file = object::File::parse(bytes).map_err(|e| LoadErrorKind::NotALibrary {
        reason: e.to_string(),
    })?;
    if file.format() != host_format() {
        return Err(LoadErrorKind::WrongPlatform {
            expected: format!("{:?}", host_format()),
            found: format!("{:?} file", file.format()),
        });
    }
    if let Some(arch) = host_architecture() {
        if file.architecture() != arch {
            return Err(LoadErrorKind::WrongPlatform {
                expected: format!("{arch:?}"),
                found: format!("{:?} code", file.architecture()),
            });
        }
    }
    if file.kind() != object::ObjectKind::Dynamic {
        return Err(LoadErrorKind::NotALibrary {
            reason: format!("it is a {:?} file, not a shared library", file.kind()),
        });
    }
    let len = bytes.len() as u64;
    for segment in file.segments() {
        let (offset, size) = segment.file_range();
        if offset.checked_add(size).is_none_or(|end| end > len) {
            return Err(LoadErrorKind::Truncated {
                needed: offset.saturating_add(size),
                size: len,
            });
        }
    }
    // `object`'s view is not the loader's (it reads `e_phnum == PN_XNUM`
    // from section header 0, and only looks at PT_LOAD ranges): read the
    // program headers and dynamic section again, as glibc's loader will.
    // After the platform checks, so that a library for another machine is
    // reported as that (its relocations and page layout are judged by the
    // rules of the machine it says it is for), and after the truncation
    // check, whose error is the more specific one.
    if file.format() == object::BinaryFormat::Elf {
        crate::elf_check::check(bytes).map_err(|problem| LoadErrorKind::NotALibrary {
            reason: problem.reason,
        })?;
    }
    let root = plugboard_interface::__private::ROOT_SYMBOL.as_bytes();
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
        return Err(LoadErrorKind::NotAPlugin);
    }
    let section = file
        .section_by_name(metadata_section_name())
        .ok_or_else(|| LoadErrorKind::BadMetadata {
            reason: format!("it has no `{}` section", metadata_section_name()),
        })?;
    let data = section.data().map_err(|e| LoadErrorKind::BadMetadata {
        reason: e.to_string(),
    })?;
    let metadata = metadata::parse(data).map_err(|e| LoadErrorKind::BadMetadata {
        reason: e.to_string(),
    })?;
    let host_target = Target::current();
    if metadata.target != host_target {
        return Err(LoadErrorKind::WrongPlatform {
            expected: host_target.to_string(),
            found: format!("a build for {}", metadata.target),
        });
    }
    Ok(Examined {
        format: format!("{:?}", file.format()),
        architecture: format!("{:?}", file.architecture()),
        metadata,
    })
}

/// A file type in words, for refusals.
pub(crate) fn describe_file_type(ft: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_socket() {
            return "socket";
        }
        if ft.is_fifo() {
            return "FIFO";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "device";
        }
    }
    if ft.is_dir() {
        "directory"
    } else {
        "special file"
    }
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
        (writable_by_others || !owner_ok).then(|| {
            LoadError::new(
                path,
                LoadErrorKind::InsecurePermissions {
                    what: format!("{kind} {}", crate::display::path(what)),
                    mode,
                    owner: m.uid(),
                },
            )
        })
    };
    if let Some(e) = insecure(path, meta, "file") {
        return Err(e);
    }
    let unreadable = |cause| LoadError::new(path, LoadErrorKind::Unreadable { cause });
    let real = fs::canonicalize(path).map_err(unreadable)?;
    if let Some(dir) = real.parent() {
        let dir_meta = fs::metadata(dir).map_err(unreadable)?;
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

fn check_signature(
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

    #[test]
    fn garbage_is_not_a_library() {
        let err = examine(b"\x7fELF, and then not an ELF file at all").unwrap_err();
        assert!(matches!(err, LoadErrorKind::NotALibrary { .. }), "{err:?}");
        assert!(!looks_like_a_library(b"#!/bin/sh"));
        assert!(looks_like_a_library(b"\x7fELF\x02"));
    }
}
