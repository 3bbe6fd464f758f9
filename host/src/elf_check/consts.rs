//! Constants from `<elf.h>`, and their names for messages.

/// The most program headers accepted. glibc keeps one load command per
/// program header in a variable-length array on the stack, and may copy the
/// whole table there too; real libraries have about a dozen.
pub(crate) const MAX_PHNUM: u16 = 256;
/// The smallest page size of any Linux port: `p_vaddr - p_offset` must be a
/// multiple of it.
pub(super) const MIN_PAGE: u64 = 4096;
/// Bounds the version need and definition walks (glibc follows the
/// `vn_next`/`vd_next` links until one is zero).
pub(super) const MAX_VERSION_RECORDS: usize = 65_536;

pub(super) const ET_DYN: u16 = 3;
pub(super) const PN_XNUM: u16 = 0xffff;

pub(super) const PT_LOAD: u32 = 1;
pub(super) const PT_DYNAMIC: u32 = 2;
pub(super) const PT_NOTE: u32 = 4;
pub(super) const PT_PHDR: u32 = 6;
pub(super) const PT_TLS: u32 = 7;
pub(super) const PT_GNU_EH_FRAME: u32 = 0x6474_e550;
pub(super) const PT_GNU_RELRO: u32 = 0x6474_e552;
pub(super) const PT_GNU_PROPERTY: u32 = 0x6474_e553;

pub(super) const PF_X: u32 = 1;
pub(super) const PF_W: u32 = 2;

pub(super) const EM_386: u16 = 3;
pub(super) const EM_S390: u16 = 22;
pub(super) const EM_ARM: u16 = 40;
pub(super) const EM_X86_64: u16 = 62;
pub(super) const EM_AARCH64: u16 = 183;
pub(super) const EM_RISCV: u16 = 243;
pub(super) const EM_ALPHA: u16 = 0x9026;

pub(super) const DT_NULL: u64 = 0;
pub(super) const DT_NEEDED: u64 = 1;
pub(super) const DT_PLTRELSZ: u64 = 2;
pub(super) const DT_PLTGOT: u64 = 3;
pub(super) const DT_HASH: u64 = 4;
pub(super) const DT_STRTAB: u64 = 5;
pub(super) const DT_SYMTAB: u64 = 6;
pub(super) const DT_RELA: u64 = 7;
pub(super) const DT_RELASZ: u64 = 8;
pub(super) const DT_RELAENT: u64 = 9;
pub(super) const DT_STRSZ: u64 = 10;
pub(super) const DT_SYMENT: u64 = 11;
pub(super) const DT_INIT: u64 = 12;
pub(super) const DT_FINI: u64 = 13;
pub(super) const DT_SONAME: u64 = 14;
pub(super) const DT_RPATH: u64 = 15;
pub(super) const DT_REL: u64 = 17;
pub(super) const DT_RELSZ: u64 = 18;
pub(super) const DT_RELENT: u64 = 19;
pub(super) const DT_PLTREL: u64 = 20;
pub(super) const DT_TEXTREL: u64 = 22;
pub(super) const DT_JMPREL: u64 = 23;
pub(super) const DT_INIT_ARRAY: u64 = 25;
pub(super) const DT_FINI_ARRAY: u64 = 26;
pub(super) const DT_INIT_ARRAYSZ: u64 = 27;
pub(super) const DT_FINI_ARRAYSZ: u64 = 28;
pub(super) const DT_RUNPATH: u64 = 29;
pub(super) const DT_FLAGS: u64 = 30;
pub(super) const DT_PREINIT_ARRAY: u64 = 32;
pub(super) const DT_PREINIT_ARRAYSZ: u64 = 33;
pub(super) const DT_RELRSZ: u64 = 35;
pub(super) const DT_RELR: u64 = 36;
pub(super) const DT_RELRENT: u64 = 37;
pub(super) const DT_GNU_HASH: u64 = 0x6fff_fef5;
pub(super) const DT_TLSDESC_PLT: u64 = 0x6fff_fef6;
pub(super) const DT_TLSDESC_GOT: u64 = 0x6fff_fef7;
pub(super) const DT_CONFIG: u64 = 0x6fff_fefa;
pub(super) const DT_DEPAUDIT: u64 = 0x6fff_fefb;
pub(super) const DT_AUDIT: u64 = 0x6fff_fefc;
pub(super) const DT_VERSYM: u64 = 0x6fff_fff0;
pub(super) const DT_RELACOUNT: u64 = 0x6fff_fff9;
pub(super) const DT_RELCOUNT: u64 = 0x6fff_fffa;
pub(super) const DT_FLAGS_1: u64 = 0x6fff_fffb;
pub(super) const DT_VERDEF: u64 = 0x6fff_fffc;
pub(super) const DT_VERDEFNUM: u64 = 0x6fff_fffd;
pub(super) const DT_VERNEED: u64 = 0x6fff_fffe;
pub(super) const DT_VERNEEDNUM: u64 = 0x6fff_ffff;
pub(super) const DT_AUXILIARY: u64 = 0x7fff_fffd;
pub(super) const DT_FILTER: u64 = 0x7fff_ffff;

pub(super) const DF_TEXTREL: u64 = 4;
/// The `DT_FLAGS` bits a shared library may carry: `DF_ORIGIN`,
/// `DF_SYMBOLIC`, `DF_TEXTREL`, `DF_BIND_NOW`. The others (`DF_STATIC_TLS`
/// and bits no loader defines) change how glibc maps or runs the library.
pub(super) const DF_KNOWN: u64 = 0x1 | 0x2 | DF_TEXTREL | 0x8;
/// The `DT_FLAGS_1` bits a shared library may carry: `DF_1_NOW`,
/// `DF_1_GLOBAL`, `DF_1_NODELETE`, `DF_1_ORIGIN`. The others (init-first,
/// interposers, filters, audit, "PIE" and so on) change how glibc links or
/// runs it, or mean nothing.
pub(super) const DF_1_KNOWN: u64 = 0x1 | 0x2 | 0x8 | 0x80;

pub(super) const STB_WEAK: u8 = 2;
pub(super) const STT_GNU_IFUNC: u8 = 10;
pub(super) const SHN_UNDEF: u16 = 0;

/// The name of a dynamic tag, for messages.
pub(super) fn tag_name(tag: u64) -> String {
    let name = match tag {
        DT_NULL => "DT_NULL",
        DT_NEEDED => "DT_NEEDED",
        DT_PLTRELSZ => "DT_PLTRELSZ",
        DT_PLTGOT => "DT_PLTGOT",
        DT_HASH => "DT_HASH",
        DT_STRTAB => "DT_STRTAB",
        DT_SYMTAB => "DT_SYMTAB",
        DT_RELA => "DT_RELA",
        DT_RELASZ => "DT_RELASZ",
        DT_RELAENT => "DT_RELAENT",
        DT_STRSZ => "DT_STRSZ",
        DT_SYMENT => "DT_SYMENT",
        DT_INIT => "DT_INIT",
        DT_FINI => "DT_FINI",
        DT_SONAME => "DT_SONAME",
        DT_RPATH => "DT_RPATH",
        DT_REL => "DT_REL",
        DT_RELSZ => "DT_RELSZ",
        DT_RELENT => "DT_RELENT",
        DT_PLTREL => "DT_PLTREL",
        DT_TEXTREL => "DT_TEXTREL",
        DT_JMPREL => "DT_JMPREL",
        DT_INIT_ARRAY => "DT_INIT_ARRAY",
        DT_FINI_ARRAY => "DT_FINI_ARRAY",
        DT_INIT_ARRAYSZ => "DT_INIT_ARRAYSZ",
        DT_FINI_ARRAYSZ => "DT_FINI_ARRAYSZ",
        DT_RUNPATH => "DT_RUNPATH",
        DT_FLAGS => "DT_FLAGS",
        DT_PREINIT_ARRAY => "DT_PREINIT_ARRAY",
        DT_PREINIT_ARRAYSZ => "DT_PREINIT_ARRAYSZ",
        DT_RELRSZ => "DT_RELRSZ",
        DT_RELR => "DT_RELR",
        DT_RELRENT => "DT_RELRENT",
        DT_GNU_HASH => "DT_GNU_HASH",
        DT_TLSDESC_PLT => "DT_TLSDESC_PLT",
        DT_TLSDESC_GOT => "DT_TLSDESC_GOT",
        DT_CONFIG => "DT_CONFIG",
        DT_DEPAUDIT => "DT_DEPAUDIT",
        DT_AUDIT => "DT_AUDIT",
        DT_VERSYM => "DT_VERSYM",
        DT_RELACOUNT => "DT_RELACOUNT",
        DT_RELCOUNT => "DT_RELCOUNT",
        DT_FLAGS_1 => "DT_FLAGS_1",
        DT_VERDEF => "DT_VERDEF",
        DT_VERDEFNUM => "DT_VERDEFNUM",
        DT_VERNEED => "DT_VERNEED",
        DT_VERNEEDNUM => "DT_VERNEEDNUM",
        DT_AUXILIARY => "DT_AUXILIARY",
        DT_FILTER => "DT_FILTER",
        other => return format!("dynamic tag {other:#x}"),
    };
    name.to_owned()
}

/// The tags this module interprets and so must see at most once (glibc
/// keeps the last of several, other tools may take the first).
/// `DT_NEEDED`, `DT_AUXILIARY` and `DT_FILTER` may repeat.
pub(super) fn must_be_unique(tag: u64) -> bool {
    matches!(
        tag,
        DT_PLTRELSZ
            | DT_PLTGOT
            | DT_HASH
            | DT_STRTAB
            | DT_SYMTAB
            | DT_RELA
            | DT_RELASZ
            | DT_RELAENT
            | DT_STRSZ
            | DT_SYMENT
            | DT_INIT
            | DT_FINI
            | DT_SONAME
            | DT_RPATH
            | DT_REL
            | DT_RELSZ
            | DT_RELENT
            | DT_PLTREL
            | DT_TEXTREL
            | DT_JMPREL
            | DT_INIT_ARRAY
            | DT_FINI_ARRAY
            | DT_INIT_ARRAYSZ
            | DT_FINI_ARRAYSZ
            | DT_RUNPATH
            | DT_FLAGS
            | DT_PREINIT_ARRAY
            | DT_PREINIT_ARRAYSZ
            | DT_RELRSZ
            | DT_RELR
            | DT_RELRENT
            | DT_GNU_HASH
            | DT_TLSDESC_PLT
            | DT_TLSDESC_GOT
            | DT_CONFIG
            | DT_DEPAUDIT
            | DT_AUDIT
            | DT_VERSYM
            | DT_RELACOUNT
            | DT_RELCOUNT
            | DT_FLAGS_1
            | DT_VERDEF
            | DT_VERDEFNUM
            | DT_VERNEED
            | DT_VERNEEDNUM
    )
}

/// The name of a program header type, for messages.
pub(super) fn segment_name(p_type: u32) -> String {
    let name = match p_type {
        PT_LOAD => "PT_LOAD",
        PT_DYNAMIC => "PT_DYNAMIC",
        3 => "PT_INTERP",
        PT_NOTE => "PT_NOTE",
        PT_PHDR => "PT_PHDR",
        PT_TLS => "PT_TLS",
        PT_GNU_EH_FRAME => "PT_GNU_EH_FRAME",
        0x6474_e551 => "PT_GNU_STACK",
        PT_GNU_RELRO => "PT_GNU_RELRO",
        PT_GNU_PROPERTY => "PT_GNU_PROPERTY",
        other => return format!("type {other:#x}"),
    };
    name.to_owned()
}
