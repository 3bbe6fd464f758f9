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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_a_library() {
        let err = examine(b"\x7fELF, and then not an ELF file at all").unwrap_err();
        assert!(matches!(err, LoadErrorKind::NotALibrary { .. }), "{err:?}");
    }
}
