//! Step 1 of loading: vet a file before any of its code runs.
//!
//! Everything here reads bytes; nothing is loaded or executed. In order: the
//! path is a regular file (symlinks are followed and the file they lead to
//! is vetted), its size is within limits, neither it nor its folder can be
//! written by group or others (OpenSSH's StrictModes), its first 64 bytes
//! are those of a shared library — the magic bytes and, for an ELF file
//! when the host checks no allowlist or signature, the header's class, byte
//! order, machine, type and where its program headers end
//! ([`object::examine_head`]) — checked before the rest is read, so a large
//! file that is not a library (or not one for this machine) costs one small
//! read; and then, on the whole file, read once: the SHA-256 allowlist and
//! the signature, if the host asks for them (first, so that a tampered file
//! is reported as tampered, and nothing but the magic bytes is looked at in
//! a file the host's keys do not vouch for), then this
//! platform's format and architecture, a shared library whose every
//! loadable segment lies inside the file, whose program headers and dynamic
//! section glibc's loader can follow without reading outside the file or
//! the mapped image ([`crate::elf_check`]), the exported root module and the
//! plugboard metadata. The same bytes are what the next steps copy and
//! load — as far as the loader reads them ([`Vetted::loaded_bytes`]).
//!
//! `object.rs` holds the object checks ([`examine`]), `permissions.rs` the
//! StrictModes rule (with `acl.rs`, its Windows form), `trust.rs` the
//! allowlist and the signature.

#[cfg(windows)]
mod acl;
mod object;
mod permissions;
mod trust;

use std::{
    collections::BTreeMap,
    fs,
    io::Read,
    path::{Path, PathBuf},
};

use ed25519_dalek::VerifyingKey;
use plugboard_interface::metadata::Metadata;
use sha2::{Digest, Sha256};

use crate::{LoadError, LoadErrorKind};

pub(crate) use object::examine;
use object::examine_head;
use permissions::check_permissions;
pub use trust::ChecksumsError;
use trust::{check_checksum, check_signature};
pub(crate) use trust::{hex, read_checksums, signature_path, unhex};

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
            strict_permissions: cfg!(any(unix, windows)),
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
    bytes: Vec<u8>,
    /// How many of them the platform's loader reads or maps.
    loaded_len: usize,
    pub(crate) inspection: Inspection,
    pub(crate) stamp: FileStamp,
}

impl Vetted {
    pub(crate) fn metadata(&self) -> &Metadata {
        &self.inspection.metadata
    }

    /// The vetted bytes the platform's loader reads or maps: all of them
    /// but, for an ELF file, what follows its last `PT_LOAD` (section
    /// headers, symbol tables, debug information). What the private copy
    /// holds.
    pub(crate) fn loaded_bytes(&self) -> &[u8] {
        &self.bytes[..self.loaded_len]
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
        check_permissions(path, &file, &meta)?;
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
    // The ELF header's fixed fields are compared too, before the rest is
    // read — unless the host checks an allowlist or signatures, which come
    // before anything looks at the file's structure (see below).
    if policy.checksums.is_none() && policy.trusted_keys.is_empty() {
        examine_head(&bytes, meta.len()).map_err(fail)?;
    }
    bytes.reserve_exact((meta.len() as usize).saturating_sub(bytes.len()) + 1);
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
        loaded_len: examined.loaded_len,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_library_magic_bytes_are_read_further() {
        assert!(!looks_like_a_library(b"#!/bin/sh"));
        assert!(looks_like_a_library(b"\x7fELF\x02"));
    }
}
