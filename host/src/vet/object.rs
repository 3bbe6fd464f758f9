//! The object checks of the vet: a library's bytes read with the `object`
//! crate (format, architecture, shared library, segments inside the file,
//! exported root module, metadata and its target) and, for ELF files, as
//! glibc's loader reads them ([`crate::elf_check`]).

use object::{Object, ObjectSection, ObjectSegment};
use plugboard_interface::metadata::{self, Metadata, Target};

use crate::LoadErrorKind;

/// What the object checks found (see [`examine`]).
#[derive(Debug)]
pub(crate) struct Examined {
    pub(crate) format: String,
    pub(crate) architecture: String,
    pub(crate) metadata: Metadata,
    /// How many leading bytes the platform's loader reads or maps (for an
    /// ELF file, up to the last page of its last `PT_LOAD`; otherwise all):
    /// what the private copy holds.
    pub(crate) loaded_len: usize,
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
    let mut loaded_len = bytes.len();
    if file.format() == object::BinaryFormat::Elf {
        let extent =
            crate::elf_check::check(bytes).map_err(|problem| LoadErrorKind::NotALibrary {
                reason: problem.reason,
            })?;
        loaded_len = usize::try_from(extent).map_or(loaded_len, |e| e.min(loaded_len));
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
        loaded_len,
    })
}

/// The checks of [`examine`] that the first bytes of an ELF file (its
/// 64-byte header) decide, in the same order and with the same kinds,
/// given the file's length: the class and byte order are valid, the class,
/// byte order and machine are this host's, it is a shared library
/// (`ET_DYN`), and its program header table lies inside the file. A file
/// that fails them is refused without reading the rest. Other formats pass.
pub(crate) fn examine_head(head: &[u8], file_len: u64) -> Result<(), LoadErrorKind> {
    if !head.starts_with(b"\x7fELF") || host_format() != object::BinaryFormat::Elf {
        return Ok(());
    }
    let not_a_library = |reason: String| Err(LoadErrorKind::NotALibrary { reason });
    let (Some(&class), Some(&data)) = (head.get(4), head.get(5)) else {
        return not_a_library("the file ends inside its ELF header".to_owned());
    };
    let (wide, big) = match (class, data) {
        (1 | 2, 1 | 2) => (class == 2, data == 2),
        _ => {
            return not_a_library(format!(
                "its ELF header has class {class} and byte order {data}, which no ELF file has"
            ))
        }
    };
    let header_len = if wide { 64 } else { 52 };
    if (head.len() as u64) < header_len || file_len < header_len {
        return not_a_library("the file ends inside its ELF header".to_owned());
    }
    let u16_at = |at: usize| {
        let pair = [head[at], head[at + 1]];
        if big {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    };
    let word_at = |at: usize| {
        let mut word = [0u8; 8];
        let len = if wide { 8 } else { 4 };
        word[..len].copy_from_slice(&head[at..at + len]);
        if big {
            word[..len].reverse();
        }
        u64::from_le_bytes(word)
    };
    let (e_type, machine) = (u16_at(16), u16_at(18));
    if let Some(host) = host_architecture() {
        let found = elf_architecture(machine, wide);
        if wide != cfg!(target_pointer_width = "64")
            || big != cfg!(target_endian = "big")
            || found != Some(host)
        {
            return Err(LoadErrorKind::WrongPlatform {
                expected: format!("{host:?}"),
                found: match found {
                    Some(arch) => format!("{arch:?} code"),
                    None => format!("code for ELF machine {machine}"),
                },
            });
        }
    }
    if e_type != 3 {
        return not_a_library(format!(
            "its ELF type is {e_type}, not a shared library (ET_DYN, 3)"
        ));
    }
    let (phoff, phentsize_at) = if wide {
        (word_at(32), 54)
    } else {
        (word_at(28), 42)
    };
    let table = u64::from(u16_at(phentsize_at)) * u64::from(u16_at(phentsize_at + 2));
    match phoff.checked_add(table) {
        Some(end) if end <= file_len => Ok(()),
        _ => not_a_library(format!(
            "its program header table (at byte {phoff}, {table} bytes) ends past the end of the {file_len}-byte file"
        )),
    }
}

/// The architecture of an ELF machine number, as `object` names it.
fn elf_architecture(machine: u16, wide: bool) -> Option<object::Architecture> {
    use object::{elf, Architecture as A};
    Some(match (elf::Machine(machine), wide) {
        (elf::EM_X86_64, true) => A::X86_64,
        (elf::EM_X86_64, false) => A::X86_64_X32,
        (elf::EM_386, _) => A::I386,
        (elf::EM_AARCH64, true) => A::Aarch64,
        (elf::EM_AARCH64, false) => A::Aarch64_Ilp32,
        (elf::EM_ARM, _) => A::Arm,
        (elf::EM_RISCV, true) => A::Riscv64,
        (elf::EM_RISCV, false) => A::Riscv32,
        (elf::EM_PPC64, true) => A::PowerPc64,
        (elf::EM_PPC, _) => A::PowerPc,
        (elf::EM_S390, true) => A::S390x,
        (elf::EM_LOONGARCH, true) => A::LoongArch64,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_a_library() {
        let err = examine(b"\x7fELF, and then not an ELF file at all").unwrap_err();
        assert!(matches!(err, LoadErrorKind::NotALibrary { .. }), "{err:?}");
    }

    /// The 64-byte header of an x86-64 shared library whose 11 program
    /// headers follow it.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    fn header() -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        (h[4], h[5], h[6]) = (2, 1, 1);
        h[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
        h[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
        h[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        h[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        h[56..58].copy_from_slice(&11u16.to_le_bytes()); // e_phnum
        h
    }

    #[test]
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    fn the_header_alone_refuses_what_the_full_checks_would() {
        let huge = 255 << 20;
        assert!(examine_head(&header(), huge).is_ok());
        assert!(examine_head(b"MZ, a PE file", huge).is_ok());
        let with = |at: usize, bytes: &[u8]| {
            let mut h = header();
            h[at..at + bytes.len()].copy_from_slice(bytes);
            examine_head(&h, huge).unwrap_err()
        };
        let not_a_library = |k: &LoadErrorKind| matches!(k, LoadErrorKind::NotALibrary { .. });
        let wrong_platform = |k: &LoadErrorKind| matches!(k, LoadErrorKind::WrongPlatform { .. });
        assert!(not_a_library(&with(4, &[7])), "no such class");
        assert!(wrong_platform(&with(4, &[1])), "32-bit");
        assert!(wrong_platform(&with(5, &[2])), "big-endian");
        let aarch64 = with(18, &183u16.to_le_bytes());
        assert!(
            matches!(&aarch64, LoadErrorKind::WrongPlatform { found, .. } if found == "Aarch64 code"),
            "{aarch64:?}"
        );
        assert!(not_a_library(&with(16, &2u16.to_le_bytes())), "ET_EXEC");
        // The program headers end past the end of the file.
        let short = examine_head(&header(), 64 + 56 * 10).unwrap_err();
        assert!(not_a_library(&short), "{short:?}");
        assert!(examine_head(&header(), 64 + 56 * 11).is_ok());
    }
}
