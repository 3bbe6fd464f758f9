//! What the checker knows about each machine's relocations
//! (glibc's `sysdeps/*/dl-machine.h`).

use super::*;

/// How a relocation type changes memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Effect {
    /// Nothing is written.
    Nothing,
    /// Base address plus addend.
    Relative,
    /// A symbol's address or size (plus addend).
    Symbol,
    /// Thread-local storage bookkeeping for a symbol.
    Tls,
    /// The result of calling the resolver at base plus addend.
    IRelative,
}

/// What a relocation type does: its effect and how many bytes it writes.
#[derive(Clone, Copy, Debug)]
pub(super) struct RelocType {
    pub(super) effect: Effect,
    pub(super) width: u64,
}

/// Which relocation tables the machine's glibc port applies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Tables {
    RelaOnly,
    RelOnly,
    Either,
}

/// What the checker knows about a machine's relocations.
pub(super) struct Machine {
    pub(super) name: &'static str,
    pub(super) tables: Tables,
    /// `None` when the machine's relocation types are not known here.
    pub(super) classify: Option<fn(u32) -> Option<RelocType>>,
    /// Bytes per SysV hash table entry (`Elf_Symndx`).
    pub(super) hash_entry: u64,
}

pub(super) fn machine(image: &Image<'_>) -> Machine {
    let wide = image.layout.wide;
    match image.machine {
        EM_X86_64 => Machine {
            name: "x86-64",
            tables: Tables::RelaOnly,
            classify: Some(x86_64_reloc),
            hash_entry: 4,
        },
        EM_386 => Machine {
            name: "i386",
            tables: Tables::RelOnly,
            classify: Some(i386_reloc),
            hash_entry: 4,
        },
        EM_AARCH64 => Machine {
            name: "AArch64",
            tables: Tables::RelaOnly,
            classify: Some(aarch64_reloc),
            hash_entry: 4,
        },
        EM_ARM => Machine {
            name: "Arm",
            tables: Tables::RelOnly,
            classify: None,
            hash_entry: 4,
        },
        EM_S390 | EM_ALPHA if wide => Machine {
            name: "this machine",
            tables: Tables::RelaOnly,
            classify: None,
            hash_entry: 8,
        },
        _ => Machine {
            name: "this machine",
            tables: Tables::Either,
            classify: None,
            hash_entry: 4,
        },
    }
}

/// The relocation types glibc's x86-64 loader applies (sysdeps/x86_64/dl-machine.h),
/// less `R_X86_64_COPY`, which only executables may use.
pub(super) fn x86_64_reloc(r_type: u32) -> Option<RelocType> {
    let (effect, width) = match r_type {
        0 => (Effect::Nothing, 0),
        1 | 6 | 7 | 33 => (Effect::Symbol, 8), // 64, GLOB_DAT, JUMP_SLOT, SIZE64
        2 | 10 | 32 => (Effect::Symbol, 4),    // PC32, 32, SIZE32
        8 | 38 => (Effect::Relative, 8),       // RELATIVE, RELATIVE64
        16..=18 => (Effect::Tls, 8),           // DTPMOD64, DTPOFF64, TPOFF64
        36 => (Effect::Tls, 16),               // TLSDESC
        37 => (Effect::IRelative, 8),
        _ => return None,
    };
    Some(RelocType { effect, width })
}

/// The relocation types glibc's i386 loader applies (sysdeps/i386/dl-machine.h),
/// less `R_386_COPY`.
pub(super) fn i386_reloc(r_type: u32) -> Option<RelocType> {
    let (effect, width) = match r_type {
        0 => (Effect::Nothing, 0),
        1 | 2 | 6 | 7 | 38 => (Effect::Symbol, 4), // 32, PC32, GLOB_DAT, JMP_SLOT, SIZE32
        8 => (Effect::Relative, 4),
        14 | 35..=37 => (Effect::Tls, 4), // TLS_TPOFF, DTPMOD32, DTPOFF32, TPOFF32
        41 => (Effect::Tls, 8),           // TLS_DESC
        42 => (Effect::IRelative, 4),
        _ => return None,
    };
    Some(RelocType { effect, width })
}

/// The relocation types glibc's AArch64 loader applies (sysdeps/aarch64/dl-machine.h),
/// less `R_AARCH64_COPY`.
pub(super) fn aarch64_reloc(r_type: u32) -> Option<RelocType> {
    let (effect, width) = match r_type {
        0 => (Effect::Nothing, 0),
        257 | 1025 | 1026 => (Effect::Symbol, 8), // ABS64, GLOB_DAT, JUMP_SLOT
        1027 => (Effect::Relative, 8),
        1028..=1030 => (Effect::Tls, 8), // TLS_DTPMOD, TLS_DTPREL, TLS_TPREL
        1031 => (Effect::Tls, 16),       // TLSDESC
        1032 => (Effect::IRelative, 8),
        _ => return None,
    };
    Some(RelocType { effect, width })
}
