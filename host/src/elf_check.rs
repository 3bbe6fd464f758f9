//! Will `dlopen` be able to load this ELF file without crashing the host?
//!
//! The `object` crate answers "what does this file say?"; this module
//! answers "what will glibc's loader do with it?", by reading the raw
//! header fields itself, the way the loader reads them (glibc's
//! `elf/dl-load.c`, `elf/dl-map-segments.h`, `elf/get-dynamic-info.h`,
//! `elf/dl-setup_hash.c`, `elf/dl-lookup.c`, `elf/dl-version.c`,
//! `elf/do-rel.h`, `elf/dynamic-link.h` and `elf/dl-init.c`). Where the two
//! readings could differ, the file is refused as ambiguous: `e_phnum ==
//! PN_XNUM` (the loader takes 65535 headers literally, `object` asks
//! section header 0), two `PT_DYNAMIC` headers (the loader uses the last),
//! a `PT_DYNAMIC` whose file offset and address name different bytes (the
//! loader reads the address), a dynamic tag given twice (the loader keeps
//! the last).
//!
//! # The model of the loaded image
//!
//! Once glibc has mapped a library, a virtual address `v` inside
//! `p_vaddr .. p_vaddr + p_filesz` of a `PT_LOAD` holds the file's byte at
//! `p_offset + (v - p_vaddr)`; up to `p_memsz` it holds zeroes; everything
//! else is unmapped or `PROT_NONE`. That is only true when the `PT_LOAD`
//! headers are in ascending address order, do not overlap and do not share
//! a page (a later segment's mapping would replace an earlier one's page),
//! so those are the first things checked. The "file-backed part" of a
//! segment is `p_vaddr .. p_vaddr + p_filesz`.
//!
//! # What is refused
//!
//! * The ELF header: a bad magic, class or byte order; not `ET_DYN`;
//!   `e_phentsize` not the size of the class's program header; `e_phnum`
//!   zero, `PN_XNUM` or above [`MAX_PHNUM`] (glibc puts a table with one
//!   slot per header on its stack); a program header table that is not
//!   inside the file.
//! * `PT_LOAD`: none at all; one whose file range runs past the end of the
//!   file (that page would SIGBUS when touched); `p_filesz > p_memsz`; an
//!   address range that wraps; `p_align` not a power of two; `p_vaddr` and
//!   `p_offset` not congruent modulo the alignment (and at least a page);
//!   segments out of order, overlapping or sharing a page.
//! * `PT_DYNAMIC`: missing, duplicated, empty, outside the file, not inside
//!   the file-backed part of one `PT_LOAD`, file offset and address naming
//!   different bytes, a size that is not a whole number of entries, no
//!   `DT_NULL` inside it (the loader reads until `DT_NULL`), or writable
//!   (`PF_W`, so the loader writes to it) inside a read-only segment.
//! * `PT_PHDR`, `PT_TLS`'s initialisation image, `PT_NOTE`,
//!   `PT_GNU_PROPERTY` and `PT_GNU_EH_FRAME`: not inside the file-backed
//!   part of a `PT_LOAD` (the loader, or the unwinder, reads them from
//!   memory); `PT_PHDR` not describing the table at `e_phoff`; notes whose
//!   sizes run past their segment (glibc's property parser trusts
//!   `n_descsz`); `PT_TLS` with `p_filesz > p_memsz` or an alignment that
//!   is not a power of two. `PT_GNU_RELRO`: not inside the memory of one
//!   `PT_LOAD` (the loader `mprotect`s it). Two of any of these but
//!   `PT_NOTE`.
//! * The dynamic section: every table glibc dereferences (`DT_STRTAB`,
//!   `DT_SYMTAB`, `DT_HASH`, `DT_GNU_HASH`, `DT_RELA`/`DT_REL`,
//!   `DT_JMPREL`, `DT_RELR`, `DT_VERSYM`, `DT_VERNEED`, `DT_VERDEF`,
//!   `DT_INIT_ARRAY`, `DT_FINI_ARRAY`, `DT_PREINIT_ARRAY`) with its size
//!   must lie inside the file-backed part of a `PT_LOAD`; `DT_INIT` and
//!   `DT_FINI` inside an executable one; `DT_PLTGOT` inside writable
//!   memory. A table whose size entry the loader dereferences without
//!   checking (`DT_RELASZ`, `DT_RELAENT`, `DT_PLTRELSZ`, `DT_RELRSZ`,
//!   `DT_INIT_ARRAYSZ`, ...) must have it. String offsets (`DT_NEEDED`,
//!   `DT_SONAME`, `DT_RPATH`, `DT_RUNPATH`, the audit and filter names,
//!   every symbol and version name) must lie inside `DT_STRSZ` and end with
//!   a NUL there.
//! * The tables themselves, as far as the loader walks them: the GNU or
//!   SysV hash table (bounds, a Bloom filter size glibc accepts, chains
//!   that stay inside the file and end); the symbols the hash table and the
//!   relocations can reach; the version need and definition chains (each
//!   needed file a `DT_NEEDED` library, as glibc asserts) and every
//!   `DT_VERSYM` index below the highest version index; every relocation
//!   (symbol index in range, a type the loader applies, a target inside
//!   writable memory, an `IRELATIVE` resolver inside executable code,
//!   `DT_RELACOUNT` leading relative relocations); every `DT_RELR` entry;
//!   every slot of the init and fini arrays relocated exactly once to
//!   executable code of this library (glibc calls them all, unrelocated or
//!   not).
//! * Where the file has section headers (which the loader ignores but
//!   `object`, and so the rest of the vet, reads): an allocated section
//!   that the `PT_LOAD`s do not map at its address from its own file
//!   offset, and a dynamic table (symbols, strings, hash tables, versions,
//!   relocations, init and fini arrays, the dynamic section itself) other
//!   than the one the section headers describe. Both mean the loader would
//!   act on other bytes than the vet looked at: a code segment's
//!   `p_offset` moved by whole pages, or a `DT_PLTRELSZ` of 0 that leaves
//!   the PLT unrelocated, pass every loader rule and crash the plugin.
//!
//! # What is not checked
//!
//! Whether the code the library runs is correct: a constructor that
//! crashes, or an init-array slot that names the wrong function in the
//! right segment, is the plugin's code misbehaving, which no header check
//! can tell from a good one (allowlists and signatures are the answer to
//! that). Relocation types are known for x86-64, i386 and AArch64; for
//! other machines the relocation targets are checked but not their types.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Why the program headers / dynamic section cannot be trusted to load safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ElfProblem {
    /// One plain-English sentence naming the header and the numbers.
    pub(crate) reason: String,
}

impl fmt::Display for ElfProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

type Check<T> = Result<T, ElfProblem>;

/// A refusal with this reason.
fn refuse<T>(reason: impl Into<String>) -> Check<T> {
    Err(ElfProblem {
        reason: reason.into(),
    })
}

/// Reads the ELF header, program headers and dynamic section exactly as glibc's loader
/// (elf/dl-load.c, dl-map-segments, elf_get_dynamic_info) will, and refuses anything
/// ambiguous or anything that would make the loader read past the end of the file.
pub(crate) fn check(bytes: &[u8]) -> Result<(), ElfProblem> {
    let header = Header::read(bytes)?;
    let phdrs = read_program_headers(bytes, &header)?;
    let image = Image::new(bytes, &header, &phdrs)?;
    let sections = check_sections(&image, &header)?;
    check_other_segments(&image, &header, &phdrs)?;
    let dynamic = Dynamic::read(&image, &phdrs)?;
    let nsyms = DynamicCheck::run(&image, &dynamic)?;
    check_section_agreement(&sections, &dynamic, &phdrs, nsyms, header.layout)
}

// ---------------------------------------------------------------------------
// Constants (from <elf.h>).

/// The most program headers accepted. glibc keeps one load command per
/// program header in a variable-length array on the stack, and may copy the
/// whole table there too; real libraries have about a dozen.
pub(crate) const MAX_PHNUM: u16 = 256;
/// The smallest page size of any Linux port: `p_vaddr - p_offset` must be a
/// multiple of it.
const MIN_PAGE: u64 = 4096;
/// Bounds the version need and definition walks (glibc follows the
/// `vn_next`/`vd_next` links until one is zero).
const MAX_VERSION_RECORDS: usize = 65_536;

const ET_DYN: u16 = 3;
const PN_XNUM: u16 = 0xffff;

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_NOTE: u32 = 4;
const PT_PHDR: u32 = 6;
const PT_TLS: u32 = 7;
const PT_GNU_EH_FRAME: u32 = 0x6474_e550;
const PT_GNU_RELRO: u32 = 0x6474_e552;
const PT_GNU_PROPERTY: u32 = 0x6474_e553;

const PF_X: u32 = 1;
const PF_W: u32 = 2;

const EM_386: u16 = 3;
const EM_S390: u16 = 22;
const EM_ARM: u16 = 40;
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const EM_RISCV: u16 = 243;
const EM_ALPHA: u16 = 0x9026;

const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_PLTRELSZ: u64 = 2;
const DT_PLTGOT: u64 = 3;
const DT_HASH: u64 = 4;
const DT_STRTAB: u64 = 5;
const DT_SYMTAB: u64 = 6;
const DT_RELA: u64 = 7;
const DT_RELASZ: u64 = 8;
const DT_RELAENT: u64 = 9;
const DT_STRSZ: u64 = 10;
const DT_SYMENT: u64 = 11;
const DT_INIT: u64 = 12;
const DT_FINI: u64 = 13;
const DT_SONAME: u64 = 14;
const DT_RPATH: u64 = 15;
const DT_REL: u64 = 17;
const DT_RELSZ: u64 = 18;
const DT_RELENT: u64 = 19;
const DT_PLTREL: u64 = 20;
const DT_TEXTREL: u64 = 22;
const DT_JMPREL: u64 = 23;
const DT_INIT_ARRAY: u64 = 25;
const DT_FINI_ARRAY: u64 = 26;
const DT_INIT_ARRAYSZ: u64 = 27;
const DT_FINI_ARRAYSZ: u64 = 28;
const DT_RUNPATH: u64 = 29;
const DT_FLAGS: u64 = 30;
const DT_PREINIT_ARRAY: u64 = 32;
const DT_PREINIT_ARRAYSZ: u64 = 33;
const DT_RELRSZ: u64 = 35;
const DT_RELR: u64 = 36;
const DT_RELRENT: u64 = 37;
const DT_GNU_HASH: u64 = 0x6fff_fef5;
const DT_TLSDESC_PLT: u64 = 0x6fff_fef6;
const DT_TLSDESC_GOT: u64 = 0x6fff_fef7;
const DT_CONFIG: u64 = 0x6fff_fefa;
const DT_DEPAUDIT: u64 = 0x6fff_fefb;
const DT_AUDIT: u64 = 0x6fff_fefc;
const DT_VERSYM: u64 = 0x6fff_fff0;
const DT_RELACOUNT: u64 = 0x6fff_fff9;
const DT_RELCOUNT: u64 = 0x6fff_fffa;
const DT_FLAGS_1: u64 = 0x6fff_fffb;
const DT_VERDEF: u64 = 0x6fff_fffc;
const DT_VERDEFNUM: u64 = 0x6fff_fffd;
const DT_VERNEED: u64 = 0x6fff_fffe;
const DT_VERNEEDNUM: u64 = 0x6fff_ffff;
const DT_AUXILIARY: u64 = 0x7fff_fffd;
const DT_FILTER: u64 = 0x7fff_ffff;

const DF_TEXTREL: u64 = 4;

const STB_WEAK: u8 = 2;
const STT_GNU_IFUNC: u8 = 10;
const SHN_UNDEF: u16 = 0;

/// The name of a dynamic tag, for messages.
fn tag_name(tag: u64) -> String {
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
fn must_be_unique(tag: u64) -> bool {
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
fn segment_name(p_type: u32) -> String {
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

fn align_up(value: u64, align: u64) -> Option<u64> {
    debug_assert!(align.is_power_of_two());
    Some(value.checked_add(align - 1)? & !(align - 1))
}

fn align_down(value: u64, align: u64) -> u64 {
    debug_assert!(align.is_power_of_two());
    value & !(align - 1)
}

// ---------------------------------------------------------------------------
// Reading fields.

/// Byte order and class: how to read a field.
#[derive(Clone, Copy)]
struct Layout {
    /// ELFCLASS64.
    wide: bool,
    /// ELFDATA2MSB.
    big: bool,
}

impl Layout {
    /// Bytes in an address (`ElfW(Addr)`).
    fn word(self) -> u64 {
        if self.wide {
            8
        } else {
            4
        }
    }
    fn phdr_size(self) -> u64 {
        if self.wide {
            56
        } else {
            32
        }
    }
    fn dyn_size(self) -> u64 {
        2 * self.word()
    }
    fn sym_size(self) -> u64 {
        if self.wide {
            24
        } else {
            16
        }
    }
    fn rela_size(self) -> u64 {
        3 * self.word()
    }
    fn rel_size(self) -> u64 {
        2 * self.word()
    }
    /// The highest address of the class, plus one.
    fn address_space(self) -> u128 {
        if self.wide {
            1 << 64
        } else {
            1 << 32
        }
    }

    /// An unsigned field of `size` bytes (1, 2, 4 or 8) at `at` in `data`.
    fn field(self, data: &[u8], at: u64, size: u64) -> Option<u64> {
        let start = usize::try_from(at).ok()?;
        let end = start.checked_add(usize::try_from(size).ok()?)?;
        let raw = data.get(start..end)?;
        let mut value = 0u64;
        if self.big {
            for &b in raw {
                value = value << 8 | u64::from(b);
            }
        } else {
            for &b in raw.iter().rev() {
                value = value << 8 | u64::from(b);
            }
        }
        Some(value)
    }
    fn u16(self, data: &[u8], at: u64) -> Option<u16> {
        self.field(data, at, 2).map(|v| v as u16)
    }
    fn u32(self, data: &[u8], at: u64) -> Option<u32> {
        self.field(data, at, 4).map(|v| v as u32)
    }
    /// An address-sized field (`ElfW(Addr)`, `ElfW(Off)`, `ElfW(Xword)`).
    fn addr(self, data: &[u8], at: u64) -> Option<u64> {
        self.field(data, at, self.word())
    }
}

// ---------------------------------------------------------------------------
// The ELF header and the program headers.

struct Header {
    layout: Layout,
    machine: u16,
    phoff: u64,
    phnum: u16,
    /// `e_shoff`, `e_shentsize`, `e_shnum` (0 when there is no table).
    shoff: u64,
    shentsize: u16,
    shnum: u16,
    file_len: u64,
}

impl Header {
    fn read(bytes: &[u8]) -> Check<Self> {
        if bytes.len() < 16 || bytes[..4] != *b"\x7fELF" {
            return refuse("the file does not start with the ELF magic bytes");
        }
        let wide = match bytes[4] {
            1 => false,
            2 => true,
            other => {
                return refuse(format!(
                    "the ELF class byte is {other}, neither ELFCLASS32 (1) nor ELFCLASS64 (2)"
                ))
            }
        };
        let big = match bytes[5] {
            1 => false,
            2 => true,
            other => {
                return refuse(format!(
                    "the ELF data byte is {other}, neither little-endian (1) nor big-endian (2)"
                ))
            }
        };
        let layout = Layout { wide, big };
        let file_len = bytes.len() as u64;
        let header_size = if wide { 64 } else { 52 };
        if file_len < header_size {
            return refuse(format!(
                "the {file_len}-byte file is shorter than the {header_size}-byte ELF header"
            ));
        }
        let read16 = |at| layout.u16(bytes, at).unwrap_or(0);
        let (phoff, shoff, phentsize_at) = if wide {
            (
                layout.field(bytes, 32, 8).unwrap_or(0),
                layout.field(bytes, 40, 8).unwrap_or(0),
                54,
            )
        } else {
            (
                layout.field(bytes, 28, 4).unwrap_or(0),
                layout.field(bytes, 32, 4).unwrap_or(0),
                42,
            )
        };
        let e_type = read16(16);
        let machine = read16(18);
        let phentsize = read16(phentsize_at);
        let phnum = read16(phentsize_at + 2);
        let shentsize = read16(phentsize_at + 4);
        let shnum = read16(phentsize_at + 6);
        if e_type != ET_DYN {
            return refuse(format!(
                "e_type is {e_type}, not ET_DYN (3): it is not a shared library"
            ));
        }
        if u64::from(phentsize) != layout.phdr_size() {
            return refuse(format!(
                "e_phentsize is {phentsize}, but a program header of this ELF class is {} bytes",
                layout.phdr_size()
            ));
        }
        match phnum {
            0 => return refuse("e_phnum is 0: the file has no program headers"),
            PN_XNUM => {
                return refuse(
                    "e_phnum is 0xffff (PN_XNUM): glibc's loader reads 65535 program headers while other readers take the count from section header 0",
                )
            }
            n if n > MAX_PHNUM => {
                return refuse(format!(
                    "e_phnum is {n}, more than the {MAX_PHNUM} program headers accepted (glibc keeps a table of them on its stack)"
                ))
            }
            _ => {}
        }
        let table = u64::from(phnum) * layout.phdr_size();
        match phoff.checked_add(table) {
            Some(end) if end <= file_len => {}
            end => {
                return refuse(format!(
                    "the program header table (e_phoff {phoff}, {phnum} headers of {} bytes) ends at byte {}, past the end of the {file_len}-byte file",
                    layout.phdr_size(),
                    end.map_or_else(|| "2^64 or more".to_owned(), |e| e.to_string())
                ))
            }
        }
        Ok(Self {
            layout,
            machine,
            phoff,
            phnum,
            shoff,
            shentsize,
            shnum,
            file_len,
        })
    }

    fn table_size(&self) -> u64 {
        u64::from(self.phnum) * self.layout.phdr_size()
    }
}

/// One program header, fields as in the file.
#[derive(Clone, Debug)]
struct Phdr {
    index: usize,
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
}

impl Phdr {
    /// "program header 3 (PT_LOAD)".
    fn name(&self) -> String {
        format!(
            "program header {} ({})",
            self.index,
            segment_name(self.p_type)
        )
    }

    /// Refuses a file range that does not lie inside the file.
    fn require_in_file(&self, file_len: u64) -> Check<()> {
        match self.offset.checked_add(self.filesz) {
            Some(end) if end <= file_len => Ok(()),
            Some(end) => refuse(format!(
                "{} ends at byte {end}, past the end of the {file_len}-byte file",
                self.name()
            )),
            None => refuse(format!(
                "{}'s file range (p_offset {} plus p_filesz {}) overflows",
                self.name(),
                self.offset,
                self.filesz
            )),
        }
    }
}

fn read_program_headers(bytes: &[u8], header: &Header) -> Check<Vec<Phdr>> {
    let l = header.layout;
    (0..usize::from(header.phnum))
        .map(|index| {
            let at = header.phoff + index as u64 * l.phdr_size();
            let f = |offset: u64, size: u64| l.field(bytes, at + offset, size).unwrap_or(0);
            // The table was checked to lie inside the file, so every field reads.
            Ok(if l.wide {
                Phdr {
                    index,
                    p_type: f(0, 4) as u32,
                    flags: f(4, 4) as u32,
                    offset: f(8, 8),
                    vaddr: f(16, 8),
                    filesz: f(32, 8),
                    memsz: f(40, 8),
                    align: f(48, 8),
                }
            } else {
                Phdr {
                    index,
                    p_type: f(0, 4) as u32,
                    offset: f(4, 4),
                    vaddr: f(8, 4),
                    filesz: f(16, 4),
                    memsz: f(20, 4),
                    flags: f(24, 4) as u32,
                    align: f(28, 4),
                }
            })
        })
        .collect()
}

/// The largest page size the machine's Linux kernels use: two segments
/// that share a page of this size may share one at run time.
fn largest_page(machine: u16) -> u64 {
    match machine {
        EM_386 | EM_X86_64 | EM_S390 | EM_RISCV => 4096,
        _ => 65_536,
    }
}

/// The only header of type `p_type`, if any; two are ambiguous.
fn unique(phdrs: &[Phdr], p_type: u32) -> Check<Option<&Phdr>> {
    let mut found = phdrs.iter().filter(|p| p.p_type == p_type);
    let first = found.next();
    if let (Some(a), Some(b)) = (first, found.next()) {
        return refuse(format!(
            "program headers {} and {} are both {}: glibc's loader uses the last one, other readers the first",
            a.index,
            b.index,
            segment_name(p_type)
        ));
    }
    Ok(first)
}

// ---------------------------------------------------------------------------
// The loaded image.

/// The file as the loader will map it.
struct Image<'a> {
    bytes: &'a [u8],
    layout: Layout,
    machine: u16,
    /// The `PT_LOAD` headers, in file (and so address) order.
    loads: Vec<Phdr>,
    file_len: u64,
    /// Whether a non-empty `PT_TLS` gives the library thread-local storage.
    has_tls: bool,
}

impl<'a> Image<'a> {
    fn new(bytes: &'a [u8], header: &Header, phdrs: &[Phdr]) -> Check<Self> {
        let layout = header.layout;
        let page = largest_page(header.machine);
        let loads: Vec<Phdr> = phdrs
            .iter()
            .filter(|p| p.p_type == PT_LOAD)
            .cloned()
            .collect();
        if loads.is_empty() {
            return refuse("the file has no PT_LOAD program header: nothing would be mapped");
        }
        let mut previous: Option<&Phdr> = None;
        for load in &loads {
            let name = load.name();
            load.require_in_file(header.file_len)?;
            if load.filesz > load.memsz {
                return refuse(format!(
                    "{name} has p_filesz {} larger than its p_memsz {}",
                    load.filesz, load.memsz
                ));
            }
            // With no file bytes but an address inside a page, glibc still
            // maps the file's page at p_offset and zeroes the rest of it: that
            // page must hold at least one byte of the file.
            if load.filesz == 0
                && load.memsz != 0
                && load.vaddr % page != 0
                && load.offset >= header.file_len
            {
                return refuse(format!(
                    "{name} has no file bytes but starts inside a page, so the loader would map and zero file offset {}, at or past the end of the {}-byte file",
                    load.offset, header.file_len
                ));
            }
            // At most the last byte of the address space, so that
            // `p_vaddr + p_memsz` fits in a u64 from here on.
            let end = u128::from(load.vaddr) + u128::from(load.memsz);
            if end >= layout.address_space() {
                return refuse(format!(
                    "{name} (p_vaddr {:#x}, p_memsz {}) runs past the end of the address space",
                    load.vaddr, load.memsz
                ));
            }
            if load.align > 1 && !load.align.is_power_of_two() {
                return refuse(format!(
                    "{name} has p_align {}, which is not a power of two",
                    load.align
                ));
            }
            let align = load.align.max(MIN_PAGE);
            if load.vaddr.wrapping_sub(load.offset) & (align - 1) != 0 {
                return refuse(format!(
                    "{name} maps file offset {:#x} at address {:#x}, which are not congruent modulo its alignment {align:#x}",
                    load.offset, load.vaddr
                ));
            }
            if let Some(prev) = previous {
                let prev_end = prev.vaddr + prev.memsz;
                if load.vaddr < prev_end {
                    return refuse(format!(
                        "{name} starts at address {:#x}, before {} ends at {prev_end:#x}: PT_LOAD segments must be in ascending order without overlap",
                        load.vaddr,
                        prev.name()
                    ));
                }
                if align_up(prev_end, page).is_none_or(|end| end > align_down(load.vaddr, page)) {
                    return refuse(format!(
                        "{name} starts at address {:#x}, in the same {page}-byte page where {} ends ({prev_end:#x}): the loader would map one over the other",
                        load.vaddr,
                        prev.name()
                    ));
                }
            }
            previous = Some(load);
        }
        Ok(Self {
            bytes,
            layout,
            machine: header.machine,
            loads,
            file_len: header.file_len,
            has_tls: phdrs.iter().any(|p| p.p_type == PT_TLS && p.memsz != 0),
        })
    }

    /// The `PT_LOAD` whose file-backed part holds `addr .. addr + len`
    /// (for `len == 0`: `addr` is inside it or at its end).
    fn file_backed_load(&self, addr: u64, len: u64) -> Option<&Phdr> {
        let end = addr.checked_add(len)?;
        self.loads
            .iter()
            .find(|l| l.vaddr <= addr && end <= l.vaddr + l.filesz)
    }

    /// The file offset the loader maps at `addr`, if `addr .. addr + len`
    /// is file-backed.
    fn file_offset(&self, addr: u64, len: u64) -> Option<u64> {
        self.file_backed_load(addr, len)
            .map(|l| l.offset + (addr - l.vaddr))
    }

    /// The bytes the loader maps at `addr .. addr + len`, if file-backed.
    fn read(&self, addr: u64, len: u64) -> Option<&'a [u8]> {
        let offset = usize::try_from(self.file_offset(addr, len)?).ok()?;
        self.bytes
            .get(offset..offset.checked_add(usize::try_from(len).ok()?)?)
    }

    /// The `PT_LOAD` whose memory (`p_vaddr .. p_vaddr + p_memsz`) holds
    /// `addr .. addr + len`.
    fn mapped_load(&self, addr: u64, len: u64) -> Option<&Phdr> {
        let end = addr.checked_add(len)?;
        self.loads
            .iter()
            .find(|l| l.vaddr <= addr && end <= l.vaddr + l.memsz)
    }

    /// The bytes at `addr .. addr + len`, or a refusal naming `what`.
    fn require(&self, what: &str, addr: u64, len: u64) -> Check<&'a [u8]> {
        self.read(addr, len).ok_or_else(|| ElfProblem {
            reason: match addr.checked_add(len) {
                Some(end) => format!(
                    "{what} (addresses {addr:#x}..{end:#x}) does not lie inside the file-backed part of any PT_LOAD segment"
                ),
                None => format!(
                    "{what} (address {addr:#x}, {len} bytes) runs past the end of the address space"
                ),
            },
        })
    }

    /// Refuses unless `addr` is inside the file-backed part of an executable
    /// `PT_LOAD`: the loader calls it.
    fn require_code(&self, what: &str, addr: u64) -> Check<()> {
        match self.file_backed_load(addr, 1) {
            Some(l) if l.flags & PF_X != 0 => Ok(()),
            Some(l) => refuse(format!(
                "{what} is address {addr:#x}, which lies in {}, a segment that is not executable",
                l.name()
            )),
            None => refuse(format!(
                "{what} is address {addr:#x}, outside the file-backed part of every PT_LOAD segment"
            )),
        }
    }

    /// An address-sized value at `addr`, read as the loader sees memory:
    /// file bytes, or zero in the part of a segment past `p_filesz`.
    fn word_at(&self, addr: u64) -> Option<u64> {
        let w = self.layout.word();
        match self.read(addr, w) {
            Some(raw) => self.layout.addr(raw, 0),
            None => self.mapped_load(addr, w).map(|_| 0),
        }
    }
}

// ---------------------------------------------------------------------------
// Section headers.

const SHF_ALLOC: u64 = 2;
const SHT_NOBITS: u32 = 8;

/// The loader ignores section headers, but `object` — and so the rest of
/// the vet (exports, metadata) — reads them. Each allocated section must
/// therefore be mapped at its address from its own file offset: otherwise
/// the code and data the loader maps are not the ones the vet looked at
/// (a `PT_LOAD` whose `p_offset` moved by whole pages still passes every
/// loader check, and maps other bytes as code).
fn check_sections(image: &Image<'_>, header: &Header) -> Check<Vec<Section>> {
    let l = image.layout;
    let mut sections = Vec::new();
    if header.shoff == 0 {
        return Ok(sections);
    }
    let entsize: u64 = if l.wide { 64 } else { 40 };
    if u64::from(header.shentsize) != entsize {
        return refuse(format!(
            "e_shentsize is {}, but a section header of this ELF class is {entsize} bytes",
            header.shentsize
        ));
    }
    let bytes = image.bytes;
    let f = |at: u64, wide_at: u64, narrow_at: u64| -> Option<u64> {
        if l.wide {
            l.field(bytes, at + wide_at, 8)
        } else {
            l.field(bytes, at + narrow_at, 4)
        }
    };
    // With 0xff00 sections or more, e_shnum is 0 and section 0's sh_size counts them.
    let count = match header.shnum {
        0 => f(header.shoff, 32, 20).unwrap_or(0),
        n => u64::from(n),
    };
    let end = count
        .checked_mul(entsize)
        .and_then(|n| n.checked_add(header.shoff));
    if end.is_none_or(|end| end > image.file_len) {
        return refuse(format!(
            "the section header table (e_shoff {}, {count} headers) runs past the end of the {}-byte file",
            header.shoff, image.file_len
        ));
    }
    for i in 1..count {
        let at = header.shoff + i * entsize;
        let sh_type = l.u32(bytes, at + 4).unwrap_or(0);
        let flags = f(at, 8, 8).unwrap_or(0);
        let (addr, offset, size) = (
            f(at, 16, 12).unwrap_or(0),
            f(at, 24, 16).unwrap_or(0),
            f(at, 32, 20).unwrap_or(0),
        );
        let link = if l.wide {
            l.u32(bytes, at + 40)
        } else {
            l.u32(bytes, at + 24)
        };
        if flags & SHF_ALLOC == 0 {
            continue;
        }
        sections.push(Section {
            index: i,
            sh_type,
            addr,
            size,
            link: u64::from(link.unwrap_or(0)),
        });
        if sh_type == SHT_NOBITS || size == 0 {
            continue;
        }
        let mapped = image.file_offset(addr, size);
        if mapped != Some(offset) {
            return refuse(format!(
                "section {i} ({size} bytes at address {addr:#x}) says it comes from file offset {offset}, but the PT_LOAD segments map {} there: the loader and the vet would see different bytes",
                mapped.map_or_else(|| "no file bytes".to_owned(), |m| format!("file offset {m}"))
            ));
        }
    }
    Ok(sections)
}

/// An allocated section, as far as the cross-checks need it.
#[derive(Clone, Copy, Debug)]
struct Section {
    index: u64,
    sh_type: u32,
    addr: u64,
    size: u64,
    link: u64,
}

// Section types of the tables the loader uses.
const SHT_HASH: u32 = 5;
const SHT_DYNAMIC: u32 = 6;
const SHT_RELA: u32 = 4;
const SHT_REL: u32 = 9;
const SHT_DYNSYM: u32 = 11;
const SHT_INIT_ARRAY: u32 = 14;
const SHT_FINI_ARRAY: u32 = 15;
const SHT_PREINIT_ARRAY: u32 = 16;
const SHT_RELR: u32 = 19;
const SHT_GNU_HASH: u32 = 0x6fff_fff6;
const SHT_GNU_VERDEF: u32 = 0x6fff_fffd;
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
const SHT_GNU_VERSYM: u32 = 0x6fff_ffff;

/// Where the file has section headers, the tables the loader finds through
/// the dynamic section must be the ones the section headers describe —
/// which `object`, and so the vet's export and metadata checks, read. A
/// dynamic tag that disagrees (a `DT_PLTRELSZ` of 0 leaves the PLT
/// unrelocated, a `DT_SYMTAB` moved by one entry binds every symbol to its
/// neighbour's name) makes the loader act on other data than the vet saw.
fn check_section_agreement(
    sections: &[Section],
    dynamic: &Dynamic,
    phdrs: &[Phdr],
    nsyms: u64,
    layout: Layout,
) -> Check<()> {
    if sections.is_empty() {
        return Ok(());
    }
    let only = |sh_type: u32| -> Check<Option<Section>> {
        let mut found = sections.iter().filter(|s| s.sh_type == sh_type);
        match (found.next(), found.next()) {
            (Some(a), Some(b)) => refuse(format!(
                "sections {} and {} are both of type {sh_type:#x}, which the dynamic section names only once",
                a.index, b.index
            )),
            (first, _) => Ok(first.copied()),
        }
    };
    let disagree = |what: &str, section: Option<Section>, tag: String, value: Option<u64>| {
        let said = section.map_or_else(
            || "there is no such section".to_owned(),
            |s| format!("section {} says {:#x}", s.index, s.addr),
        );
        let has = value.map_or_else(
            || format!("there is no {tag}"),
            |v| format!("{tag} is {v:#x}"),
        );
        refuse(format!(
            "the section headers and the dynamic section disagree about {what}: {said}, {has}"
        ))
    };
    // (section type, address tag, size tag) of tables named once.
    for (sh_type, tag, size_tag, what) in [
        (SHT_DYNSYM, DT_SYMTAB, None, "the symbol table"),
        (SHT_GNU_HASH, DT_GNU_HASH, None, "the GNU hash table"),
        (SHT_HASH, DT_HASH, None, "the SysV hash table"),
        (SHT_GNU_VERSYM, DT_VERSYM, None, "the symbol versions"),
        (SHT_GNU_VERNEED, DT_VERNEED, None, "the needed versions"),
        (SHT_GNU_VERDEF, DT_VERDEF, None, "the defined versions"),
        (
            SHT_INIT_ARRAY,
            DT_INIT_ARRAY,
            Some(DT_INIT_ARRAYSZ),
            "the init array",
        ),
        (
            SHT_FINI_ARRAY,
            DT_FINI_ARRAY,
            Some(DT_FINI_ARRAYSZ),
            "the fini array",
        ),
        (
            SHT_PREINIT_ARRAY,
            DT_PREINIT_ARRAY,
            Some(DT_PREINIT_ARRAYSZ),
            "the preinit array",
        ),
        (SHT_RELR, DT_RELR, Some(DT_RELRSZ), "the DT_RELR table"),
    ] {
        let section = only(sh_type)?;
        let value = dynamic.get(tag);
        if section.map(|s| s.addr) != value {
            return disagree(what, section, tag_name(tag), value);
        }
        if let (Some(section), Some(size_tag)) = (section, size_tag) {
            if dynamic.get(size_tag) != Some(section.size) {
                return refuse(format!(
                    "the section headers and the dynamic section disagree about the size of {what}: section {} is {} bytes, {} says {}",
                    section.index,
                    section.size,
                    tag_name(size_tag),
                    dynamic.get(size_tag).map_or_else(|| "nothing".to_owned(), |v| v.to_string())
                ));
            }
        }
    }
    // The string table is the one the symbol table links to, whole.
    if let Some(dynsym) = only(SHT_DYNSYM)? {
        if dynsym.size != nsyms.saturating_mul(layout.sym_size()) {
            return refuse(format!(
                "the symbol table section {} holds {} bytes, but the hash table reaches {nsyms} symbols of {} bytes",
                dynsym.index,
                dynsym.size,
                layout.sym_size()
            ));
        }
        let strtab = sections.iter().find(|s| s.index == dynsym.link);
        let (addr, size) = (dynamic.get(DT_STRTAB), dynamic.get(DT_STRSZ));
        if strtab.map(|s| (s.addr, s.size)) != addr.zip(size) {
            return disagree(
                "the string table",
                strtab.copied(),
                "DT_STRTAB".to_owned(),
                addr,
            );
        }
    }
    // The dynamic section itself.
    let section = only(SHT_DYNAMIC)?;
    let segment = phdrs.iter().find(|p| p.p_type == PT_DYNAMIC);
    if section.map(|s| (s.addr, s.size)) != segment.map(|p| (p.vaddr, p.filesz)) {
        return disagree(
            "the dynamic section",
            section,
            "PT_DYNAMIC's address".to_owned(),
            segment.map(|p| p.vaddr),
        );
    }
    // The relocation tables: the DT_RELA/DT_REL and DT_JMPREL ranges
    // together cover exactly the allocated relocation sections.
    let merge = |mut ranges: Vec<(u64, u64)>| {
        ranges.retain(|&(start, end)| end > start);
        ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    };
    let from_sections = merge(
        sections
            .iter()
            .filter(|s| matches!(s.sh_type, SHT_RELA | SHT_REL))
            .map(|s| (s.addr, s.addr.saturating_add(s.size)))
            .collect(),
    );
    let from_dynamic = merge(
        [
            (DT_RELA, DT_RELASZ),
            (DT_REL, DT_RELSZ),
            (DT_JMPREL, DT_PLTRELSZ),
        ]
        .into_iter()
        .filter_map(|(tag, size_tag)| {
            let addr = dynamic.get(tag).filter(|&a| a != 0)?;
            Some((
                addr,
                addr.saturating_add(dynamic.get(size_tag).unwrap_or(0)),
            ))
        })
        .collect(),
    );
    if from_sections != from_dynamic {
        let show = |ranges: &[(u64, u64)]| {
            ranges
                .iter()
                .map(|(a, b)| format!("{a:#x}..{b:#x}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return refuse(format!(
            "the section headers and the dynamic section disagree about the relocation tables: the sections cover [{}], the dynamic entries [{}]",
            show(&from_sections),
            show(&from_dynamic)
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Segments other than PT_LOAD and PT_DYNAMIC.

fn check_other_segments(image: &Image<'_>, header: &Header, phdrs: &[Phdr]) -> Check<()> {
    let len = image.file_len;
    // Only the last of each is used by glibc; two are ambiguous.
    for p_type in [
        PT_PHDR,
        PT_TLS,
        PT_GNU_RELRO,
        PT_GNU_PROPERTY,
        PT_GNU_EH_FRAME,
    ] {
        unique(phdrs, p_type)?;
    }

    // The loader reads the program headers again from memory (at PT_PHDR's
    // address, when there is one) to find notes and text relocations: those
    // must be the headers checked here.
    if let Some(phdr) = unique(phdrs, PT_PHDR)? {
        let name = phdr.name();
        if phdr.offset != header.phoff {
            return refuse(format!(
                "{name} says the program header table is at byte {}, but e_phoff says {}",
                phdr.offset, header.phoff
            ));
        }
        let size = header.table_size();
        image.require(
            &format!("the program header table at {name}'s address"),
            phdr.vaddr,
            size,
        )?;
        if image.file_offset(phdr.vaddr, size) != Some(header.phoff) {
            return refuse(format!(
                "{name}'s address {:#x} maps to a different part of the file than e_phoff ({})",
                phdr.vaddr, header.phoff
            ));
        }
    }

    if let Some(tls) = unique(phdrs, PT_TLS)? {
        // glibc ignores an empty PT_TLS.
        if tls.memsz != 0 {
            let name = tls.name();
            if tls.filesz > tls.memsz {
                return refuse(format!(
                    "{name} has p_filesz {} larger than its p_memsz {}: the loader would zero a negative length",
                    tls.filesz, tls.memsz
                ));
            }
            if tls.align > 1 && !tls.align.is_power_of_two() {
                return refuse(format!(
                    "{name} has p_align {}, which is not a power of two",
                    tls.align
                ));
            }
            if tls.filesz != 0 {
                tls.require_in_file(len)?;
                same_bytes(image, tls, tls.filesz, "its initialisation image")?;
            }
        }
    }

    if let Some(relro) = unique(phdrs, PT_GNU_RELRO)? {
        if relro.memsz != 0 && image.mapped_load(relro.vaddr, relro.memsz).is_none() {
            return refuse(format!(
                "{} (addresses {:#x}, {} bytes) does not lie inside the memory of one PT_LOAD segment: the loader would mprotect memory that is not the library's",
                relro.name(),
                relro.vaddr,
                relro.memsz
            ));
        }
    }

    for note in phdrs
        .iter()
        .filter(|p| matches!(p.p_type, PT_NOTE | PT_GNU_PROPERTY))
    {
        if note.memsz == 0 {
            continue;
        }
        note.require_in_file(len)?;
        let data = same_bytes(image, note, note.memsz, "its notes")?;
        check_notes(image.layout, note, data)?;
    }

    if let Some(eh) = unique(phdrs, PT_GNU_EH_FRAME)? {
        if eh.memsz != 0 {
            eh.require_in_file(len)?;
            same_bytes(image, eh, eh.memsz, "the unwind table index")?;
        }
    }
    Ok(())
}

/// Refuses unless `p_vaddr .. p_vaddr + len` of `ph` is file-backed and
/// maps exactly the bytes at its `p_offset`; returns them.
fn same_bytes<'a>(image: &Image<'a>, ph: &Phdr, len: u64, what: &str) -> Check<&'a [u8]> {
    let name = ph.name();
    let data = image.require(&format!("{what} ({name})"), ph.vaddr, len)?;
    let mapped = image.file_offset(ph.vaddr, len);
    if mapped != Some(ph.offset) {
        return refuse(format!(
            "{name} says p_offset {} but its address {:#x} maps file offset {}: the loader reads the address, other readers the offset",
            ph.offset,
            ph.vaddr,
            mapped.unwrap_or(0)
        ));
    }
    Ok(data)
}

/// Walks the notes of a `PT_NOTE` or `PT_GNU_PROPERTY` segment as glibc's
/// `_dl_process_pt_gnu_property` does, refusing a note whose name or
/// description runs past the segment.
fn check_notes(layout: Layout, ph: &Phdr, data: &[u8]) -> Check<()> {
    let align = if ph.align == 8 { 8 } else { 4 };
    let size = data.len() as u64;
    let mut at = 0u64;
    // The loader looks at a note while its 12-byte header ends inside.
    while at + 12 < size {
        let namesz = u64::from(layout.u32(data, at).unwrap_or(0));
        let descsz = u64::from(layout.u32(data, at + 4).unwrap_or(0));
        let desc = align_up(12 + namesz, align).and_then(|d| d.checked_add(at));
        let end = desc.and_then(|d| d.checked_add(descsz));
        match end {
            Some(end) if end <= size => {}
            _ => {
                return refuse(format!(
                    "the note at byte {at} of {} claims a {namesz}-byte name and a {descsz}-byte description, running past the end of the {size}-byte segment",
                    ph.name()
                ))
            }
        }
        let Some(next) = desc.and_then(|d| align_up(d + descsz - at, align)) else {
            break;
        };
        at += next;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The dynamic section.

struct Dynamic {
    /// Tag → (entry index, value), for the tags that appear once.
    tags: BTreeMap<u64, (usize, u64)>,
    /// String-valued tags that may repeat: (tag, entry index, offset).
    names: Vec<(u64, usize, u64)>,
}

impl Dynamic {
    fn read(image: &Image<'_>, phdrs: &[Phdr]) -> Check<Self> {
        let l = image.layout;
        let Some(dynamic) = unique(phdrs, PT_DYNAMIC)? else {
            return refuse("the file has no PT_DYNAMIC program header: a shared library needs one");
        };
        let name = dynamic.name();
        if dynamic.filesz == 0 {
            return refuse(format!(
                "{name} is empty (p_filesz 0): glibc refuses it as a separate debug file"
            ));
        }
        dynamic.require_in_file(image.file_len)?;
        if !dynamic.filesz.is_multiple_of(l.dyn_size()) {
            return refuse(format!(
                "{name}'s size {} is not a multiple of the {}-byte dynamic entry",
                dynamic.filesz,
                l.dyn_size()
            ));
        }
        let data = same_bytes(image, dynamic, dynamic.filesz, "the dynamic section")?;
        // glibc adds the load address to the entries in place unless
        // PT_DYNAMIC is read-only.
        if dynamic.flags & PF_W != 0 {
            let load = image.file_backed_load(dynamic.vaddr, dynamic.filesz);
            if let Some(load) = load.filter(|l| l.flags & PF_W == 0) {
                return refuse(format!(
                    "{name} is marked writable, so the loader writes to it, but it lies in {}, which is read-only",
                    load.name()
                ));
            }
        }

        let mut tags: BTreeMap<u64, (usize, u64)> = BTreeMap::new();
        let mut names = Vec::new();
        let count = dynamic.filesz / l.dyn_size();
        for index in 0..count {
            let at = index * l.dyn_size();
            let tag = l.addr(data, at).unwrap_or(0);
            let value = l.addr(data, at + l.word()).unwrap_or(0);
            let index = index as usize;
            if tag == DT_NULL {
                return Ok(Self { tags, names });
            }
            if matches!(tag, DT_NEEDED | DT_AUXILIARY | DT_FILTER) {
                names.push((tag, index, value));
            } else if must_be_unique(tag) {
                if let Some((first, _)) = tags.insert(tag, (index, value)) {
                    return refuse(format!(
                        "dynamic entries {first} and {index} are both {}: glibc's loader uses the last one, other readers the first",
                        tag_name(tag)
                    ));
                }
            }
        }
        refuse(format!(
            "{name} has no DT_NULL entry among its {count} entries: the loader would read on past its end"
        ))
    }

    fn get(&self, tag: u64) -> Option<u64> {
        self.tags.get(&tag).map(|&(_, v)| v)
    }

    /// The value of `tag`, which the loader dereferences when `because` is
    /// present.
    fn require(&self, tag: u64, because: u64) -> Check<u64> {
        self.get(tag).ok_or_else(|| ElfProblem {
            reason: format!(
                "the dynamic section has {} but no {}, which the loader reads with it",
                tag_name(because),
                tag_name(tag)
            ),
        })
    }
}

/// How a relocation type changes memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Effect {
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
struct RelocType {
    effect: Effect,
    width: u64,
}

/// Which relocation tables the machine's glibc port applies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tables {
    RelaOnly,
    RelOnly,
    Either,
}

/// What the checker knows about a machine's relocations.
struct Machine {
    name: &'static str,
    tables: Tables,
    /// `None` when the machine's relocation types are not known here.
    classify: Option<fn(u32) -> Option<RelocType>>,
    /// Bytes per SysV hash table entry (`Elf_Symndx`).
    hash_entry: u64,
}

fn machine(image: &Image<'_>) -> Machine {
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
fn x86_64_reloc(r_type: u32) -> Option<RelocType> {
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
fn i386_reloc(r_type: u32) -> Option<RelocType> {
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
fn aarch64_reloc(r_type: u32) -> Option<RelocType> {
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

/// One dynamic symbol, as far as the loader looks at it.
#[derive(Clone, Copy)]
struct Symbol {
    value: u64,
    bind: u8,
    shndx: u16,
}

/// What a relocation leaves in an init or fini array slot.
#[derive(Clone, Copy)]
enum SlotValue {
    /// An address in this library.
    Local(u64),
    /// The address of a symbol another library defines.
    External { weak: bool },
    /// Something the checker cannot follow.
    Unknown,
}

/// The checks that need the dynamic section, in the order the loader
/// needs the tables.
struct DynamicCheck<'i, 'a> {
    image: &'i Image<'a>,
    dynamic: &'i Dynamic,
    machine: Machine,
    strtab: &'a [u8],
    symbols: Vec<Symbol>,
    /// Relocations that write inside an init, fini or preinit array.
    slots: BTreeMap<u64, Vec<SlotValue>>,
    /// The init, fini and preinit arrays: (tag, address, size).
    arrays: Vec<(u64, u64, u64)>,
}

impl<'i, 'a> DynamicCheck<'i, 'a> {
    /// Runs every check; returns the number of symbols.
    fn run(image: &'i Image<'a>, dynamic: &'i Dynamic) -> Check<u64> {
        let machine = machine(image);
        let strtab_addr = dynamic.get(DT_STRTAB);
        let strsz = dynamic.get(DT_STRSZ);
        let (Some(strtab_addr), Some(strsz)) = (strtab_addr, strsz) else {
            return refuse(
                "the dynamic section lacks DT_STRTAB or DT_STRSZ: the loader needs a string table",
            );
        };
        let strtab = image.require("the string table (DT_STRTAB, DT_STRSZ)", strtab_addr, strsz)?;
        let mut check = Self {
            image,
            dynamic,
            machine,
            strtab,
            symbols: Vec::new(),
            slots: BTreeMap::new(),
            arrays: Vec::new(),
        };
        check.names()?;
        let nsyms = check.hash_tables()?;
        check.symbols(nsyms)?;
        check.versions(nsyms)?;
        check.arrays()?;
        check.relocations()?;
        check.init_and_fini()?;
        check.other_addresses()?;
        Ok(nsyms)
    }

    /// The NUL-terminated string at `offset` in the string table.
    fn string(&self, what: &str, offset: u64) -> Check<&'a [u8]> {
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|o| self.strtab.get(o..))
            .filter(|_| offset < self.strtab.len() as u64);
        let Some(rest) = rest else {
            return refuse(format!(
                "{what} is string offset {offset}, outside the {}-byte string table (DT_STRSZ)",
                self.strtab.len()
            ));
        };
        match rest.iter().position(|&b| b == 0) {
            Some(end) => Ok(&rest[..end]),
            None => refuse(format!(
                "{what} (string offset {offset}) has no terminating NUL inside the {}-byte string table",
                self.strtab.len()
            )),
        }
    }

    /// Library names, search paths, audit modules: strings the loader
    /// reads before anything else.
    fn names(&self) -> Check<()> {
        for &(tag, index, offset) in &self.dynamic.names {
            self.string(
                &format!("dynamic entry {index} ({})", tag_name(tag)),
                offset,
            )?;
        }
        for tag in [
            DT_SONAME,
            DT_RPATH,
            DT_RUNPATH,
            DT_AUDIT,
            DT_DEPAUDIT,
            DT_CONFIG,
        ] {
            if let Some(&(index, offset)) = self.dynamic.tags.get(&tag) {
                self.string(
                    &format!("dynamic entry {index} ({})", tag_name(tag)),
                    offset,
                )?;
            }
        }
        Ok(())
    }

    /// Checks the hash table(s) and returns how many symbols the loader can
    /// reach through them.
    fn hash_tables(&self) -> Check<u64> {
        let gnu = self.dynamic.get(DT_GNU_HASH);
        let sysv = self.dynamic.get(DT_HASH);
        // glibc uses the GNU table when there is one, and ignores DT_HASH.
        let sysv_count = match sysv {
            Some(addr) => Some(self.sysv_hash(addr, gnu.is_none())?),
            None => None,
        };
        match (gnu, sysv_count) {
            (Some(addr), _) => self.gnu_hash(addr),
            (None, Some(count)) => Ok(count),
            (None, None) => refuse(
                "the dynamic section has neither DT_GNU_HASH nor DT_HASH, so nothing bounds its symbol table",
            ),
        }
    }

    /// The SysV hash table: returns `nchain`, the number of symbols. Its
    /// chains are walked only when the loader uses it (`walk`).
    fn sysv_hash(&self, addr: u64, walk: bool) -> Check<u64> {
        let image = self.image;
        let e = self.machine.hash_entry;
        let l = image.layout;
        let head = image.require("the DT_HASH header", addr, 2 * e)?;
        let nbucket = l.field(head, 0, e).unwrap_or(0);
        let nchain = l.field(head, e, e).unwrap_or(0);
        let entries = nbucket
            .checked_add(nchain)
            .and_then(|n| n.checked_add(2))
            .and_then(|n| n.checked_mul(e))
            .unwrap_or(u64::MAX);
        let table = image.require(
            &format!("the DT_HASH table ({nbucket} buckets, {nchain} chain entries)"),
            addr,
            entries,
        )?;
        if walk {
            let entry = |i: u64| l.field(table, (2 + i) * e, e).unwrap_or(0);
            // Every symbol is on at most one chain, so a walk that meets a
            // symbol twice loops (the loader would spin forever).
            let mut seen = vec![false; nchain as usize];
            for bucket in 0..nbucket {
                let mut index = entry(bucket);
                while index != 0 {
                    if index >= nchain {
                        return refuse(format!(
                            "DT_HASH bucket {bucket} leads to symbol {index}, but the table has only {nchain} chain entries"
                        ));
                    }
                    if std::mem::replace(&mut seen[index as usize], true) {
                        return refuse(format!(
                            "DT_HASH bucket {bucket} leads to symbol {index} a second time: the chains loop or overlap"
                        ));
                    }
                    index = entry(nbucket + index);
                }
            }
        }
        Ok(nchain)
    }

    /// The GNU hash table, as `_dl_setup_hash` and `do_lookup_x` read it:
    /// returns the number of symbols its chains reach.
    fn gnu_hash(&self, addr: u64) -> Check<u64> {
        let image = self.image;
        let l = image.layout;
        let head = image.require("the DT_GNU_HASH header", addr, 16)?;
        let field = |i: u64| u64::from(l.u32(head, 4 * i).unwrap_or(0));
        let (nbuckets, symbias, bloom_words, shift) = (field(0), field(1), field(2), field(3));
        if !bloom_words.is_power_of_two() {
            return refuse(format!(
                "DT_GNU_HASH has {bloom_words} Bloom filter words: glibc needs a non-zero power of two (it asserts, or reads past the filter)"
            ));
        }
        if shift >= 32 {
            return refuse(format!(
                "DT_GNU_HASH has a Bloom shift of {shift}, not below 32"
            ));
        }
        let size = 16 + bloom_words * l.word() + nbuckets * 4;
        let table = image.require(
            &format!("the DT_GNU_HASH table ({nbuckets} buckets, {bloom_words} Bloom words)"),
            addr,
            size,
        )?;
        let chains = addr + size;
        let mut seen: Vec<bool> = Vec::new();
        let mut count = symbias;
        for bucket in 0..nbuckets {
            let first = u64::from(
                l.u32(table, 16 + bloom_words * l.word() + bucket * 4)
                    .unwrap_or(0),
            );
            if first == 0 {
                continue;
            }
            if first < symbias {
                return refuse(format!(
                    "DT_GNU_HASH bucket {bucket} starts at symbol {first}, below the first hashed symbol {symbias}"
                ));
            }
            let mut index = first;
            loop {
                let slot = (index - symbias) as usize;
                let at = chains.saturating_add((index - symbias) * 4);
                let Some(raw) = image.read(at, 4) else {
                    return refuse(format!(
                        "the DT_GNU_HASH chain of bucket {bucket} runs to address {at:#x}, outside the file-backed part of every PT_LOAD segment"
                    ));
                };
                if slot >= seen.len() {
                    seen.resize(slot + 1, false);
                }
                if std::mem::replace(&mut seen[slot], true) {
                    return refuse(format!(
                        "the DT_GNU_HASH chain of bucket {bucket} runs into another bucket's chain at symbol {index}"
                    ));
                }
                count = count.max(index + 1);
                if l.u32(raw, 0).unwrap_or(1) & 1 == 1 {
                    break;
                }
                index += 1;
            }
        }
        Ok(count)
    }

    /// Every symbol the hash table and relocations can reach: inside the
    /// file, named inside the string table, resolvers inside code.
    fn symbols(&mut self, nsyms: u64) -> Check<()> {
        let image = self.image;
        let l = image.layout;
        let symtab = self.dynamic.require(DT_SYMTAB, DT_STRTAB)?;
        if let Some(entsize) = self.dynamic.get(DT_SYMENT) {
            if entsize != l.sym_size() {
                return refuse(format!(
                    "DT_SYMENT is {entsize}, but a symbol of this ELF class is {} bytes",
                    l.sym_size()
                ));
            }
        }
        let size = nsyms.saturating_mul(l.sym_size());
        let table = image.require(
            &format!("the symbol table (DT_SYMTAB, {nsyms} symbols by the hash table)"),
            symtab,
            size,
        )?;
        self.symbols.reserve(nsyms as usize);
        for i in 0..nsyms {
            let at = i * l.sym_size();
            let f = |offset: u64, size: u64| l.field(table, at + offset, size).unwrap_or(0);
            let (name, value, info, shndx) = if l.wide {
                (f(0, 4), f(8, 8), f(4, 1) as u8, f(6, 2) as u16)
            } else {
                (f(0, 4), f(4, 4), f(12, 1) as u8, f(14, 2) as u16)
            };
            self.string(&format!("the name of symbol {i}"), name)?;
            if info & 0xf == STT_GNU_IFUNC && shndx != SHN_UNDEF {
                image.require_code(&format!("the resolver of IFUNC symbol {i}"), value)?;
            }
            self.symbols.push(Symbol {
                value,
                bind: info >> 4,
                shndx,
            });
        }
        Ok(())
    }

    /// The version need and definition records (`_dl_check_map_versions`)
    /// and the version index of every symbol.
    fn versions(&self, nsyms: u64) -> Check<()> {
        let image = self.image;
        let l = image.layout;
        let needed: BTreeSet<&[u8]> = self
            .dynamic
            .names
            .iter()
            .filter(|(tag, _, _)| *tag == DT_NEEDED)
            .filter_map(|&(_, _, offset)| self.string("", offset).ok())
            .collect();
        let mut highest = 0u64;
        let mut records = 0usize;
        let mut count = |what: &str| {
            records += 1;
            if records > MAX_VERSION_RECORDS {
                refuse(format!(
                    "the {what} records go on for more than {MAX_VERSION_RECORDS} entries: their links loop"
                ))
            } else {
                Ok(())
            }
        };

        if let Some(mut at) = self.dynamic.get(DT_VERNEED) {
            loop {
                count("DT_VERNEED")?;
                let rec = image.require("a DT_VERNEED record", at, 16)?;
                let version = l.u16(rec, 0).unwrap_or(0);
                if version != 1 {
                    return refuse(format!(
                        "the DT_VERNEED record at {at:#x} has version {version}, not 1"
                    ));
                }
                let file = self.string(
                    "the file of a DT_VERNEED record",
                    u64::from(l.u32(rec, 4).unwrap_or(0)),
                )?;
                if !needed.contains(file) {
                    return refuse(format!(
                        "a DT_VERNEED record names {}, which is not a DT_NEEDED library (glibc asserts it is)",
                        String::from_utf8_lossy(file)
                    ));
                }
                let mut aux = at.checked_add(u64::from(l.u32(rec, 8).unwrap_or(0)));
                loop {
                    count("DT_VERNEED")?;
                    let addr = aux.unwrap_or(u64::MAX);
                    let rec = image.require("a DT_VERNEED auxiliary record", addr, 16)?;
                    self.string(
                        "a needed version's name",
                        u64::from(l.u32(rec, 8).unwrap_or(0)),
                    )?;
                    highest = highest.max(u64::from(l.u16(rec, 6).unwrap_or(0) & 0x7fff));
                    match l.u32(rec, 12).unwrap_or(0) {
                        0 => break,
                        next => aux = addr.checked_add(u64::from(next)),
                    }
                }
                match l.u32(rec, 12).unwrap_or(0) {
                    0 => break,
                    next => at = at.saturating_add(u64::from(next)),
                }
            }
        }

        if let Some(mut at) = self.dynamic.get(DT_VERDEF) {
            loop {
                count("DT_VERDEF")?;
                let rec = image.require("a DT_VERDEF record", at, 20)?;
                highest = highest.max(u64::from(l.u16(rec, 4).unwrap_or(0) & 0x7fff));
                let aux = at.saturating_add(u64::from(l.u32(rec, 12).unwrap_or(0)));
                let aux = image.require("a DT_VERDEF auxiliary record", aux, 8)?;
                self.string(
                    "a defined version's name",
                    u64::from(l.u32(aux, 0).unwrap_or(0)),
                )?;
                match l.u32(rec, 16).unwrap_or(0) {
                    0 => break,
                    next => at = at.saturating_add(u64::from(next)),
                }
            }
        }

        match self.dynamic.get(DT_VERSYM) {
            Some(versym) => {
                if highest == 0 {
                    return refuse(
                        "the dynamic section has DT_VERSYM but no version records with an index above 0: the loader would index a missing version table",
                    );
                }
                let table = image.require(
                    &format!("the symbol version table (DT_VERSYM, {nsyms} symbols)"),
                    versym,
                    nsyms.saturating_mul(2),
                )?;
                for i in 0..nsyms {
                    let index = u64::from(l.u16(table, 2 * i).unwrap_or(0) & 0x7fff);
                    if index > highest {
                        return refuse(format!(
                            "symbol {i} has version index {index}, above the highest version index {highest}"
                        ));
                    }
                }
            }
            None if highest > 0 => {
                return refuse(
                    "the dynamic section has version records but no DT_VERSYM, which the loader then reads",
                )
            }
            None => {}
        }
        Ok(())
    }

    /// The init, fini and preinit arrays: inside the file, whole words.
    fn arrays(&mut self) -> Check<()> {
        let w = self.image.layout.word();
        for (tag, size_tag) in [
            (DT_INIT_ARRAY, DT_INIT_ARRAYSZ),
            (DT_FINI_ARRAY, DT_FINI_ARRAYSZ),
            (DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ),
        ] {
            let Some(addr) = self.dynamic.get(tag) else {
                continue;
            };
            let size = self.dynamic.require(size_tag, tag)?;
            if !size.is_multiple_of(w) {
                return refuse(format!(
                    "{} is {size}, not a multiple of the {w}-byte address size",
                    tag_name(size_tag)
                ));
            }
            self.image.require(
                &format!(
                    "the array at {} ({} {size})",
                    tag_name(tag),
                    tag_name(size_tag)
                ),
                addr,
                size,
            )?;
            self.arrays.push((tag, addr, size));
        }
        Ok(())
    }

    /// Whether the loader may write `len` bytes at `addr`: inside a
    /// writable segment's memory, or any segment's with text relocations.
    fn writable(&self, addr: u64, len: u64) -> bool {
        let textrel = self.dynamic.get(DT_TEXTREL).is_some()
            || self
                .dynamic
                .get(DT_FLAGS)
                .is_some_and(|f| f & DF_TEXTREL != 0);
        self.image
            .mapped_load(addr, len)
            .is_some_and(|l| textrel || l.flags & PF_W != 0)
    }

    /// Notes what a relocation leaves at `addr` if that is in an init,
    /// fini or preinit array.
    fn record_slot(&mut self, addr: u64, value: SlotValue) {
        if self
            .arrays
            .iter()
            .any(|&(_, start, size)| start <= addr && addr - start < size)
        {
            self.slots.entry(addr).or_default().push(value);
        }
    }

    /// The relocation tables (`ELF_DYNAMIC_RELOCATE`): DT_RELR, DT_REL or
    /// DT_RELA, and DT_JMPREL.
    fn relocations(&mut self) -> Check<()> {
        let l = self.image.layout;
        let d = self.dynamic;
        let tables = self.machine.tables;

        // (address, size, entry size, with addends) of DT_RELA/DT_REL.
        let mut main: Option<(u64, u64, u64, bool)> = None;
        for (tag, size_tag, ent_tag, entsize, rela) in [
            (DT_RELA, DT_RELASZ, DT_RELAENT, l.rela_size(), true),
            (DT_REL, DT_RELSZ, DT_RELENT, l.rel_size(), false),
        ] {
            let Some(addr) = d.get(tag) else { continue };
            let applies = match tables {
                Tables::RelaOnly => rela,
                Tables::RelOnly => !rela,
                Tables::Either => true,
            };
            if !applies {
                return refuse(format!(
                    "the dynamic section has {}, which glibc's {} loader ignores",
                    tag_name(tag),
                    self.machine.name
                ));
            }
            // glibc reads the entry size whenever the tag is there.
            let ent = d.require(ent_tag, tag)?;
            if ent != entsize {
                return refuse(format!(
                    "{} is {ent}, but a relocation of this kind is {entsize} bytes",
                    tag_name(ent_tag)
                ));
            }
            // A zero address means "none" (with DT_RELR).
            if addr == 0 {
                continue;
            }
            if main.is_some() {
                return refuse("the dynamic section has both DT_RELA and DT_REL");
            }
            let size = d.require(size_tag, tag)?;
            main = Some((addr, size, entsize, rela));
        }

        let plt = match d.get(DT_PLTREL) {
            Some(kind) => {
                let rela = match (kind, tables) {
                    (DT_RELA, Tables::RelaOnly | Tables::Either) => true,
                    (DT_REL, Tables::RelOnly | Tables::Either) => false,
                    _ => {
                        return refuse(format!(
                            "DT_PLTREL is {kind}, not a relocation kind glibc's {} loader accepts (it asserts)",
                            self.machine.name
                        ))
                    }
                };
                let addr = d.require(DT_JMPREL, DT_PLTREL)?;
                let size = d.require(DT_PLTRELSZ, DT_PLTREL)?;
                let entsize = if rela { l.rela_size() } else { l.rel_size() };
                Some((addr, size, entsize, rela))
            }
            None if d.get(DT_JMPREL).is_some() => {
                return refuse("the dynamic section has DT_JMPREL without DT_PLTREL")
            }
            None => None,
        };
        if plt.is_some() {
            // Lazy binding writes the second and third words of the PLT GOT.
            let got = d.require(DT_PLTGOT, DT_JMPREL)?;
            if !self.writable(got, 3 * l.word()) {
                return refuse(format!(
                    "DT_PLTGOT is address {got:#x}, but the loader writes three words there and they are not inside writable memory"
                ));
            }
        }

        let mut main_count = 0;
        if let Some((addr, size, entsize, rela)) = main {
            let name = if rela { "DT_RELA" } else { "DT_REL" };
            main_count = self.table(name, addr, size, entsize, rela)?;
        }
        if let Some((addr, size, entsize, rela)) = plt {
            let count = self.table("DT_JMPREL", addr, size, entsize, rela)?;
            if let Some((main_addr, main_size, main_ent, _)) = main {
                let (main_end, plt_end) = (main_addr + main_size, addr + size);
                // glibc handles a PLT table that is the tail of the main one
                // or that lies apart from it; nothing in between.
                if plt_end == main_end && addr >= main_addr && main_ent == entsize {
                    main_count -= count;
                } else if addr < main_end && main_addr < plt_end {
                    return refuse(
                        "the DT_JMPREL table overlaps the main relocation table other than as its tail",
                    );
                }
            }
        }

        // glibc treats the first DT_RELACOUNT/DT_RELCOUNT entries as relative
        // relocations without looking at their type.
        if let Some((addr, _, entsize, rela)) = main {
            let count_tag = if rela { DT_RELACOUNT } else { DT_RELCOUNT };
            if let Some(relative) = d.get(count_tag) {
                if relative > main_count {
                    return refuse(format!(
                        "{} is {relative}, but the table holds only {main_count} relocations",
                        tag_name(count_tag)
                    ));
                }
                if let Some(classify) = self.machine.classify {
                    for i in 0..relative {
                        let info = self.entry(addr + i * entsize, rela).1;
                        let r_type = self.r_type(info);
                        if classify(r_type).map(|t| t.effect) != Some(Effect::Relative) {
                            return refuse(format!(
                                "{} says the first {relative} relocations are relative, but relocation {i} has type {r_type}",
                                tag_name(count_tag)
                            ));
                        }
                    }
                }
            }
        }

        self.relr()
    }

    fn r_type(&self, info: u64) -> u32 {
        if self.image.layout.wide {
            info as u32
        } else {
            (info & 0xff) as u32
        }
    }

    fn r_sym(&self, info: u64) -> u64 {
        if self.image.layout.wide {
            info >> 32
        } else {
            info >> 8
        }
    }

    /// (r_offset, r_info, r_addend) of the relocation at `addr` (already
    /// checked to be file-backed).
    fn entry(&self, addr: u64, rela: bool) -> (u64, u64, Option<u64>) {
        let l = self.image.layout;
        let w = l.word();
        let raw = self
            .image
            .read(addr, if rela { 3 * w } else { 2 * w })
            .unwrap_or(&[]);
        let f = |i: u64| l.addr(raw, i * w).unwrap_or(0);
        let addend = rela.then(|| {
            let a = f(2);
            // Sign-extend a 32-bit addend.
            if l.wide {
                a
            } else {
                a as u32 as i32 as i64 as u64
            }
        });
        (f(0), f(1), addend)
    }

    /// Checks one relocation table and returns its number of entries.
    fn table(&mut self, name: &str, addr: u64, size: u64, entsize: u64, rela: bool) -> Check<u64> {
        if !size.is_multiple_of(entsize) {
            return refuse(format!(
                "the {name} table's size {size} is not a multiple of its {entsize}-byte entry"
            ));
        }
        self.image.require(
            &format!("the {name} relocation table ({size} bytes)"),
            addr,
            size,
        )?;
        let count = size / entsize;
        let nsyms = self.symbols.len() as u64;
        let w = self.image.layout.word();
        let has_tls = self.image.has_tls;
        for i in 0..count {
            let (offset, info, addend) = self.entry(addr + i * entsize, rela);
            let what = format!("relocation {i} of the {name} table");
            let sym = self.r_sym(info);
            if sym >= nsyms {
                return refuse(format!(
                    "{what} names symbol {sym}, but the symbol table has {nsyms} entries"
                ));
            }
            let r_type = self.r_type(info);
            let kind = match self.machine.classify {
                Some(classify) => classify(r_type).ok_or_else(|| ElfProblem {
                    reason: format!(
                        "{what} has type {r_type}, which glibc's {} loader does not apply to a shared library",
                        self.machine.name
                    ),
                })?,
                None => RelocType {
                    effect: Effect::Nothing,
                    width: w,
                },
            };
            if kind.width != 0 && !self.writable(offset, kind.width) {
                return refuse(format!(
                    "{what} writes {} bytes at address {offset:#x}, outside the memory of every writable PT_LOAD segment",
                    kind.width
                ));
            }
            // REL relocations take their addend from the word they patch.
            let addend = addend.unwrap_or_else(|| self.image.word_at(offset).unwrap_or(0));
            let symbol = self.symbols[sym as usize];
            let defined_here = sym == 0 || symbol.shndx != SHN_UNDEF;
            match kind.effect {
                Effect::IRelative => {
                    self.image
                        .require_code(&format!("the resolver of {what}"), addend)?;
                }
                Effect::Tls if defined_here && !has_tls => {
                    return refuse(format!(
                        "{what} refers to this library's thread-local storage, but it has no PT_TLS segment"
                    ));
                }
                _ => {}
            }
            if self.machine.classify.is_none() {
                continue;
            }
            let slot = match kind.effect {
                Effect::Relative => SlotValue::Local(addend),
                Effect::Symbol if sym != 0 && symbol.shndx != SHN_UNDEF => {
                    SlotValue::Local(symbol.value.wrapping_add(addend))
                }
                Effect::Symbol if sym != 0 => SlotValue::External {
                    weak: symbol.bind == STB_WEAK,
                },
                _ => SlotValue::Unknown,
            };
            self.record_slot(offset, slot);
        }
        Ok(count)
    }

    /// The compact relative relocations (`ELF_DYNAMIC_DO_RELR`).
    fn relr(&mut self) -> Check<()> {
        let d = self.dynamic;
        let l = self.image.layout;
        let w = l.word();
        let Some(addr) = d.get(DT_RELR) else {
            return Ok(());
        };
        let size = d.require(DT_RELRSZ, DT_RELR)?;
        let ent = d.require(DT_RELRENT, DT_RELR)?;
        if ent != w {
            return refuse(format!(
                "DT_RELRENT is {ent}, but a DT_RELR entry is {w} bytes"
            ));
        }
        if !size.is_multiple_of(w) {
            return refuse(format!(
                "DT_RELRSZ is {size}, not a multiple of the {w}-byte entry"
            ));
        }
        let table = self
            .image
            .require(&format!("the DT_RELR table ({size} bytes)"), addr, size)?;
        let mut next: Option<u64> = None;
        for i in 0..size / w {
            let entry = l.addr(table, i * w).unwrap_or(0);
            let mut targets = Vec::new();
            if entry & 1 == 0 {
                targets.push(entry);
                next = entry.checked_add(w);
            } else {
                let Some(base) = next else {
                    return refuse(format!(
                        "DT_RELR entry {i} is a bitmap with no address before it: the loader would patch memory near address 0"
                    ));
                };
                for bit in 1..8 * w {
                    if entry >> bit & 1 == 1 {
                        targets.push(base.saturating_add((bit - 1) * w));
                    }
                }
                next = base.checked_add((8 * w - 1) * w);
            }
            for target in targets {
                if !self.writable(target, w) {
                    return refuse(format!(
                        "DT_RELR entry {i} patches address {target:#x}, outside the memory of every writable PT_LOAD segment"
                    ));
                }
                let value = self.image.word_at(target).unwrap_or(0);
                self.record_slot(target, SlotValue::Local(value));
            }
        }
        Ok(())
    }

    /// DT_INIT, DT_FINI and every slot of the init, fini and preinit
    /// arrays: glibc calls each of them.
    fn init_and_fini(&self) -> Check<()> {
        for tag in [DT_INIT, DT_FINI] {
            if let Some(addr) = self.dynamic.get(tag) {
                self.image.require_code(&tag_name(tag), addr)?;
            }
        }
        if self.machine.classify.is_none() {
            // Without the relocation types, slot values cannot be followed.
            return Ok(());
        }
        let w = self.image.layout.word();
        for &(tag, start, size) in &self.arrays {
            for slot in 0..size / w {
                let addr = start + slot * w;
                let what = format!("slot {slot} of {} (address {addr:#x})", tag_name(tag));
                match self.slots.get(&addr).map(Vec::as_slice) {
                    None | Some([]) => {
                        return refuse(format!(
                            "{what} is never relocated, so the loader would call the unrelocated value {:#x}",
                            self.image.word_at(addr).unwrap_or(0)
                        ))
                    }
                    Some([SlotValue::Local(target)]) => {
                        self.image.require_code(&what, *target)?;
                    }
                    Some([SlotValue::External { weak: false }]) => {}
                    Some([SlotValue::External { weak: true }]) => {
                        return refuse(format!(
                            "{what} is a weak undefined symbol, which may resolve to 0 and would then be called"
                        ))
                    }
                    Some([SlotValue::Unknown]) => {
                        return refuse(format!(
                            "{what} is patched by a relocation that does not produce a function address"
                        ))
                    }
                    Some(several) => {
                        return refuse(format!(
                            "{what} is patched by {} relocations",
                            several.len()
                        ))
                    }
                }
            }
        }
        Ok(())
    }

    /// Addresses the loader writes to or jumps through that no table above
    /// covers.
    fn other_addresses(&self) -> Check<()> {
        let w = self.image.layout.word();
        if let Some(got) = self.dynamic.get(DT_PLTGOT) {
            if !self.writable(got, w) {
                return refuse(format!(
                    "DT_PLTGOT is address {got:#x}, outside the memory of every writable PT_LOAD segment"
                ));
            }
        }
        if let Some(got) = self.dynamic.get(DT_TLSDESC_GOT) {
            if !self.writable(got, w) {
                return refuse(format!(
                    "DT_TLSDESC_GOT is address {got:#x}, outside the memory of every writable PT_LOAD segment"
                ));
            }
        }
        if let Some(plt) = self.dynamic.get(DT_TLSDESC_PLT) {
            self.image.require_code("DT_TLSDESC_PLT", plt)?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Unit tests on the real greeter plugin (x86-64: ELF64, little-endian)
    //! and on small synthetic libraries of every class and byte order.

    use super::*;
    use std::path::Path;
    use std::sync::OnceLock;

    /// The bytes of the real greeter plugin (built on first use).
    pub(crate) fn greeter() -> &'static [u8] {
        static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
        BYTES.get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("host/ is inside the workspace");
            let built = crate::testing::build_cdylibs(root, &["greeter"])
                .expect("building the greeter plugin");
            std::fs::read(&built["greeter"]).expect("reading the greeter plugin")
        })
    }

    const LE64: Layout = Layout {
        wide: true,
        big: false,
    };

    // Offsets of ELF64 program header fields.
    const P_TYPE: u64 = 0;
    const P_FLAGS: u64 = 4;
    const P_OFFSET: u64 = 8;
    const P_VADDR: u64 = 16;
    const P_PADDR: u64 = 24;
    const P_FILESZ: u64 = 32;
    const P_MEMSZ: u64 = 40;
    const P_ALIGN: u64 = 48;

    /// An address no PT_LOAD of the greeter covers.
    const HOLE: u64 = 0x4000_0000;

    /// A copy of an ELF64 little-endian file with byte-patching helpers.
    pub(crate) struct Patched(pub(crate) Vec<u8>);

    impl Patched {
        pub(crate) fn greeter() -> Self {
            Self(greeter().to_vec())
        }
        fn len(&self) -> u64 {
            self.0.len() as u64
        }
        fn get(&self, at: u64, size: u64) -> u64 {
            LE64.field(&self.0, at, size)
                .expect("a field inside the file")
        }
        pub(crate) fn set(&mut self, at: u64, size: u64, value: u64) {
            for i in 0..size {
                self.0[(at + i) as usize] = (value >> (8 * i)) as u8;
            }
        }
        pub(crate) fn phnum(&self) -> usize {
            self.get(56, 2) as usize
        }
        /// The file offset of field `field` of program header `i`.
        fn ph_at(&self, i: usize, field: u64) -> u64 {
            self.get(32, 8) + i as u64 * 56 + field
        }
        pub(crate) fn ph(&self, i: usize, field: u64) -> u64 {
            let size = if field < 8 { 4 } else { 8 };
            self.get(self.ph_at(i, field), size)
        }
        pub(crate) fn set_ph(&mut self, i: usize, field: u64, value: u64) {
            let size = if field < 8 { 4 } else { 8 };
            let at = self.ph_at(i, field);
            self.set(at, size, value);
        }
        /// Indices of the program headers of type `p_type`.
        pub(crate) fn all(&self, p_type: u32) -> Vec<usize> {
            (0..self.phnum())
                .filter(|&i| self.ph(i, P_TYPE) == u64::from(p_type))
                .collect()
        }
        pub(crate) fn find(&self, p_type: u32) -> usize {
            self.all(p_type)[0]
        }
        /// The file offset of the dynamic entry with `tag`.
        fn dyn_at(&self, tag: u64) -> u64 {
            let dynamic = self.find(PT_DYNAMIC);
            let (start, size) = (self.ph(dynamic, P_OFFSET), self.ph(dynamic, P_FILESZ));
            (start..start + size)
                .step_by(16)
                .find(|&at| self.get(at, 8) == tag)
                .unwrap_or_else(|| panic!("the greeter has no {}", tag_name(tag)))
        }
        pub(crate) fn dyn_get(&self, tag: u64) -> u64 {
            self.get(self.dyn_at(tag) + 8, 8)
        }
        pub(crate) fn dyn_set(&mut self, tag: u64, value: u64) {
            let at = self.dyn_at(tag) + 8;
            self.set(at, 8, value);
        }
        /// Turns the `tag` entry into a `new_tag` entry.
        fn dyn_retag(&mut self, tag: u64, new_tag: u64) {
            let at = self.dyn_at(tag);
            self.set(at, 8, new_tag);
        }
        /// The file offset of address `addr` (the greeter maps it once).
        fn offset_of(&self, addr: u64) -> u64 {
            self.all(PT_LOAD)
                .into_iter()
                .find_map(|i| {
                    let (vaddr, filesz) = (self.ph(i, P_VADDR), self.ph(i, P_FILESZ));
                    (vaddr <= addr && addr < vaddr + filesz)
                        .then(|| self.ph(i, P_OFFSET) + addr - vaddr)
                })
                .expect("a file-backed address")
        }
        /// The end of the last PT_LOAD's file-backed part, where its zero-filled part starts.
        fn bss(&self) -> u64 {
            let last = *self.all(PT_LOAD).last().unwrap();
            assert!(self.ph(last, P_MEMSZ) > self.ph(last, P_FILESZ));
            self.ph(last, P_VADDR) + self.ph(last, P_FILESZ)
        }
        /// The file offset of relocation `i` of the DT_RELA table.
        fn rela_at(&self, i: u64) -> u64 {
            self.offset_of(self.dyn_get(DT_RELA)) + 24 * i
        }
        pub(crate) fn check(&self) -> Result<(), ElfProblem> {
            check(&self.0)
        }
        /// The refusal, which must mention every one of `words`.
        #[track_caller]
        fn refused(&self, words: &[&str]) -> String {
            let reason = match self.check() {
                Err(problem) => problem.reason,
                Ok(()) => panic!("accepted, but it should be refused (mentioning {words:?})"),
            };
            for word in words {
                assert!(
                    reason.contains(word),
                    "{reason:?} does not mention {word:?}"
                );
            }
            reason
        }
    }

    /// Attack (a): `e_phnum = PN_XNUM`, and the last PT_LOAD's file offset
    /// moved 64 MiB past the end of the file (still congruent with its
    /// address, so glibc maps it and the first touch is a SIGBUS).
    pub(crate) fn pn_xnum_attack(bytes: &[u8]) -> Vec<u8> {
        let mut p = Patched(bytes.to_vec());
        let last = *p.all(PT_LOAD).last().unwrap();
        let moved = p.ph(last, P_OFFSET) + align_up(p.len(), MIN_PAGE).unwrap() + (64 << 20);
        p.set_ph(last, P_OFFSET, moved);
        p.set(56, 2, u64::from(PN_XNUM));
        p.0
    }

    /// Attack (b): PT_DYNAMIC's address (p_vaddr and p_paddr, 16 bytes)
    /// moved outside every PT_LOAD.
    pub(crate) fn dynamic_outside_loads_attack(bytes: &[u8]) -> Vec<u8> {
        let mut p = Patched(bytes.to_vec());
        let dynamic = p.find(PT_DYNAMIC);
        p.set_ph(dynamic, P_VADDR, HOLE);
        p.set_ph(dynamic, P_PADDR, HOLE);
        p.0
    }

    #[test]
    fn the_real_plugin_passes() {
        assert_eq!(check(greeter()), Ok(()));
    }

    #[test]
    fn attack_a_pn_xnum_with_a_load_past_the_end_is_refused() {
        let bytes = pn_xnum_attack(greeter());
        // The bypass: `object` takes the real count from section header 0
        // and sees no segment at all, so no segment is past the end.
        let file = object::read::elf::ElfFile64::<object::LittleEndian>::parse(&*bytes).unwrap();
        let len = bytes.len() as u64;
        assert!(object::Object::segments(&file).all(|s| {
            let (offset, size) = object::ObjectSegment::file_range(&s);
            offset + size <= len
        }));
        let reason = check(&bytes).unwrap_err().reason;
        assert!(reason.contains("PN_XNUM"), "{reason}");
        // And with a correct e_phnum, the moved segment itself is refused.
        let mut p = Patched(bytes);
        p.set(56, 2, greeter()[56].into());
        let last = *p.all(PT_LOAD).last().unwrap();
        p.refused(&[
            &format!("program header {last} (PT_LOAD) ends at byte"),
            "past the end",
        ]);
    }

    #[test]
    fn attack_b_dynamic_outside_every_load_is_refused() {
        let bytes = dynamic_outside_loads_attack(greeter());
        let diff = bytes.iter().zip(greeter()).filter(|(a, b)| a != b).count();
        assert!(diff <= 16, "{diff} bytes changed");
        Patched(bytes).refused(&["PT_DYNAMIC", "file-backed part of any PT_LOAD"]);
    }

    #[test]
    fn a_header_count_of_zero_or_too_many_is_refused() {
        let mut p = Patched::greeter();
        p.set(56, 2, 0);
        p.refused(&["e_phnum is 0"]);
        p.set(56, 2, u64::from(MAX_PHNUM) + 1);
        p.refused(&["e_phnum is 257"]);
    }

    #[test]
    fn a_wrong_program_header_size_is_refused() {
        let mut p = Patched::greeter();
        p.set(54, 2, 64);
        p.refused(&["e_phentsize is 64", "56 bytes"]);
    }

    #[test]
    fn a_program_header_table_past_the_end_is_refused() {
        let mut p = Patched::greeter();
        let len = p.len();
        p.set(32, 8, len - 100);
        p.refused(&["program header table", "past the end"]);
        p.set(32, 8, u64::MAX - 10);
        p.refused(&["program header table", "2^64"]);
    }

    #[test]
    fn a_load_segment_past_the_end_of_the_file_is_refused() {
        let mut p = Patched::greeter();
        let last = *p.all(PT_LOAD).last().unwrap();
        let len = p.len();
        p.set_ph(last, P_FILESZ, len);
        p.set_ph(last, P_MEMSZ, len);
        p.refused(&["(PT_LOAD) ends at byte", &format!("the {len}-byte file")]);
    }

    #[test]
    fn a_load_segment_with_more_file_than_memory_is_refused() {
        let mut p = Patched::greeter();
        let load = p.find(PT_LOAD);
        let memsz = p.ph(load, P_MEMSZ);
        p.set_ph(load, P_MEMSZ, memsz - 1);
        p.refused(&["p_filesz", "larger than its p_memsz"]);
    }

    #[test]
    fn a_misaligned_load_segment_is_refused() {
        let mut p = Patched::greeter();
        let last = *p.all(PT_LOAD).last().unwrap();
        let vaddr = p.ph(last, P_VADDR);
        p.set_ph(last, P_VADDR, vaddr + 8);
        p.refused(&["not congruent"]);
        let mut p = Patched::greeter();
        p.set_ph(last, P_ALIGN, 0x3000);
        p.refused(&["p_align 12288", "not a power of two"]);
    }

    #[test]
    fn a_file_without_load_segments_is_refused() {
        let mut p = Patched::greeter();
        for i in p.all(PT_LOAD) {
            p.set_ph(i, P_TYPE, 0);
        }
        p.refused(&["no PT_LOAD"]);
    }

    #[test]
    fn overlapping_or_page_sharing_load_segments_are_refused() {
        let loads = Patched::greeter().all(PT_LOAD);
        let mut p = Patched::greeter();
        let first_vaddr = p.ph(loads[0], P_VADDR);
        let first_offset = p.ph(loads[0], P_OFFSET);
        p.set_ph(loads[1], P_VADDR, first_vaddr);
        p.set_ph(loads[1], P_OFFSET, first_offset);
        p.refused(&["ascending order without overlap"]);
        // Moved down one page, the second segment starts in the page where
        // the first ends.
        let mut p = Patched::greeter();
        let vaddr = p.ph(loads[1], P_VADDR);
        p.set_ph(loads[1], P_VADDR, vaddr - MIN_PAGE);
        p.refused(&["same 4096-byte page"]);
    }

    #[test]
    fn a_load_segment_mapping_other_bytes_than_its_sections_is_refused() {
        // The code segment's file offset moved one page: every loader rule
        // still holds, but the loader would map other bytes as code.
        let mut p = Patched::greeter();
        let code = p
            .all(PT_LOAD)
            .into_iter()
            .find(|&i| p.ph(i, P_FLAGS) & u64::from(PF_X) != 0)
            .unwrap();
        let offset = p.ph(code, P_OFFSET);
        p.set_ph(code, P_OFFSET, offset + MIN_PAGE);
        p.refused(&[
            "section",
            "the loader and the vet would see different bytes",
        ]);
    }

    #[test]
    fn dynamic_tables_other_than_the_sections_describe_are_refused() {
        // No PLT relocations: glibc would leave the PLT's GOT unrelocated.
        let mut p = Patched::greeter();
        p.dyn_set(DT_PLTRELSZ, 0);
        p.refused(&["disagree about the relocation tables"]);
        // The symbol table one entry further: every symbol takes its neighbour's name.
        let mut p = Patched::greeter();
        let symtab = p.dyn_get(DT_SYMTAB);
        p.dyn_set(DT_SYMTAB, symtab + 24);
        p.refused(&["disagree about the symbol table", "DT_SYMTAB is"]);
        // A string table reaching into the next section.
        let mut p = Patched::greeter();
        let strsz = p.dyn_get(DT_STRSZ);
        p.dyn_set(DT_STRSZ, strsz + 8);
        p.refused(&["disagree about the string table"]);
        // A shorter init array.
        let mut p = Patched::greeter();
        p.dyn_set(DT_INIT_ARRAYSZ, 8);
        p.refused(&["disagree about the size of the init array"]);
    }

    #[test]
    fn a_missing_or_repeated_dynamic_segment_is_refused() {
        let mut p = Patched::greeter();
        let dynamic = p.find(PT_DYNAMIC);
        p.set_ph(dynamic, P_TYPE, 0);
        p.refused(&["no PT_DYNAMIC"]);
        let mut p = Patched::greeter();
        let note = p.find(PT_NOTE);
        p.set_ph(note, P_TYPE, u64::from(PT_DYNAMIC));
        p.refused(&["both PT_DYNAMIC"]);
    }

    #[test]
    fn a_dynamic_segment_outside_the_file_is_refused() {
        let mut p = Patched::greeter();
        let dynamic = p.find(PT_DYNAMIC);
        let len = p.len();
        p.set_ph(dynamic, P_OFFSET, len - 16);
        p.refused(&["(PT_DYNAMIC) ends at byte", "past the end"]);
        p.set_ph(dynamic, P_FILESZ, 0);
        p.refused(&["(PT_DYNAMIC) is empty"]);
    }

    #[test]
    fn a_dynamic_segment_of_partial_entries_is_refused() {
        let mut p = Patched::greeter();
        let dynamic = p.find(PT_DYNAMIC);
        let size = p.ph(dynamic, P_FILESZ);
        p.set_ph(dynamic, P_FILESZ, size - 8);
        p.refused(&["not a multiple of the 16-byte dynamic entry"]);
    }

    #[test]
    fn a_dynamic_segment_whose_offset_and_address_disagree_is_refused() {
        let mut p = Patched::greeter();
        let dynamic = p.find(PT_DYNAMIC);
        let offset = p.ph(dynamic, P_OFFSET);
        p.set_ph(dynamic, P_OFFSET, offset + 16);
        p.refused(&["PT_DYNAMIC", "the loader reads the address"]);
    }

    #[test]
    fn a_dynamic_section_without_dt_null_is_refused() {
        let mut p = Patched::greeter();
        // DT_DEBUG (21) is harmless and may repeat.
        p.dyn_retag(DT_NULL, 21);
        p.refused(&["no DT_NULL entry"]);
    }

    #[test]
    fn a_writable_dynamic_section_in_a_read_only_segment_is_refused() {
        let mut p = Patched::greeter();
        let dynamic = p.find(PT_DYNAMIC);
        let vaddr = p.ph(dynamic, P_VADDR);
        let load = p
            .all(PT_LOAD)
            .into_iter()
            .find(|&i| p.ph(i, P_VADDR) <= vaddr && vaddr < p.ph(i, P_VADDR) + p.ph(i, P_MEMSZ))
            .unwrap();
        p.set_ph(load, P_FLAGS, 4);
        p.refused(&["marked writable", "read-only"]);
    }

    #[test]
    fn a_repeated_dynamic_tag_is_refused() {
        let mut p = Patched::greeter();
        p.dyn_retag(DT_VERNEEDNUM, DT_STRSZ);
        p.refused(&["both DT_STRSZ"]);
    }

    #[test]
    fn tables_outside_the_file_backed_part_of_a_load_are_refused() {
        let bss = Patched::greeter().bss();
        for (tag, mention) in [
            (DT_STRTAB, "DT_STRTAB"),
            (DT_SYMTAB, "DT_SYMTAB"),
            (DT_GNU_HASH, "DT_GNU_HASH"),
            (DT_RELA, "DT_RELA"),
            (DT_JMPREL, "DT_JMPREL"),
            (DT_VERSYM, "DT_VERSYM"),
            (DT_VERNEED, "DT_VERNEED"),
            (DT_INIT_ARRAY, "DT_INIT_ARRAY"),
            (DT_FINI_ARRAY, "DT_FINI_ARRAY"),
            (DT_INIT, "DT_INIT"),
            (DT_FINI, "DT_FINI"),
        ] {
            for addr in [HOLE, bss] {
                let mut p = Patched::greeter();
                p.dyn_set(tag, addr);
                p.refused(&[mention]);
            }
        }
        // The loader writes to DT_PLTGOT: it must be writable memory.
        let mut p = Patched::greeter();
        p.dyn_set(DT_PLTGOT, HOLE);
        p.refused(&["DT_PLTGOT", "writable memory"]);
        let mut p = Patched::greeter();
        let text = p.dyn_get(DT_INIT);
        p.dyn_set(DT_PLTGOT, text);
        p.refused(&["DT_PLTGOT", "writable memory"]);
        // DT_INIT must be code.
        let mut p = Patched::greeter();
        let data = p.dyn_get(DT_STRTAB);
        p.dyn_set(DT_INIT, data);
        p.refused(&["DT_INIT", "not executable"]);
    }

    #[test]
    fn table_sizes_past_their_segment_are_refused() {
        for (tag, mention) in [
            (DT_STRSZ, "string table"),
            (DT_RELASZ, "DT_RELA"),
            (DT_PLTRELSZ, "DT_JMPREL"),
            (DT_INIT_ARRAYSZ, "DT_INIT_ARRAY"),
            (DT_FINI_ARRAYSZ, "DT_FINI_ARRAY"),
        ] {
            let mut p = Patched::greeter();
            // A multiple of every entry size (24 and 8).
            p.dyn_set(tag, 0x1800_0000);
            p.refused(&[mention, "file-backed part"]);
        }
        let mut p = Patched::greeter();
        let size = p.dyn_get(DT_RELASZ);
        p.dyn_set(DT_RELASZ, size + 8);
        p.refused(&["DT_RELA", "not a multiple of its 24-byte entry"]);
    }

    #[test]
    fn size_entries_the_loader_dereferences_are_required() {
        for (tag, mention) in [
            (DT_RELASZ, "no DT_RELASZ"),
            (DT_RELAENT, "no DT_RELAENT"),
            (DT_PLTRELSZ, "no DT_PLTRELSZ"),
            (DT_INIT_ARRAYSZ, "no DT_INIT_ARRAYSZ"),
            (DT_FINI_ARRAYSZ, "no DT_FINI_ARRAYSZ"),
            (DT_STRSZ, "DT_STRSZ"),
        ] {
            let mut p = Patched::greeter();
            p.dyn_retag(tag, 21);
            p.refused(&[mention]);
        }
        let mut p = Patched::greeter();
        p.dyn_set(DT_RELAENT, 16);
        p.refused(&["DT_RELAENT is 16"]);
        let mut p = Patched::greeter();
        p.dyn_set(DT_PLTREL, DT_REL);
        p.refused(&["DT_PLTREL is 17"]);
    }

    #[test]
    fn string_offsets_outside_the_string_table_are_refused() {
        let mut p = Patched::greeter();
        let strsz = p.dyn_get(DT_STRSZ);
        p.dyn_set(DT_NEEDED, strsz + 10);
        p.refused(&["DT_NEEDED", "outside the", "string table"]);
        // A name that runs to the end of the table without a NUL.
        let mut p = Patched::greeter();
        let strtab = p.offset_of(p.dyn_get(DT_STRTAB));
        p.set(strtab + strsz - 1, 1, b'x'.into());
        p.dyn_set(DT_NEEDED, strsz - 1);
        p.refused(&["no terminating NUL"]);
    }

    #[test]
    fn a_tls_image_outside_the_file_backed_part_of_a_load_is_refused() {
        let mut p = Patched::greeter();
        let tls = p.find(PT_TLS);
        p.set_ph(tls, P_VADDR, HOLE);
        p.refused(&["PT_TLS", "file-backed part"]);
        let mut p = Patched::greeter();
        let memsz = p.ph(tls, P_MEMSZ);
        p.set_ph(tls, P_FILESZ, memsz + 1);
        p.refused(&["PT_TLS", "larger than its p_memsz"]);
        let mut p = Patched::greeter();
        p.set_ph(tls, P_ALIGN, 24);
        p.refused(&["PT_TLS", "not a power of two"]);
    }

    #[test]
    fn a_relro_range_outside_a_load_is_refused() {
        let mut p = Patched::greeter();
        let relro = p.find(PT_GNU_RELRO);
        let memsz = p.ph(relro, P_MEMSZ);
        p.set_ph(relro, P_MEMSZ, memsz + 0x10_0000);
        p.refused(&["PT_GNU_RELRO", "mprotect"]);
    }

    #[test]
    fn notes_outside_a_load_or_past_their_segment_are_refused() {
        let mut p = Patched::greeter();
        let note = p.find(PT_NOTE);
        p.set_ph(note, P_VADDR, HOLE);
        p.refused(&["PT_NOTE", "file-backed part"]);
        // The build-id note's description size, made larger than the segment.
        let mut p = Patched::greeter();
        let at = p.ph(note, P_OFFSET);
        p.set(at + 4, 4, 0x1000);
        p.refused(&["PT_NOTE", "4096-byte description", "running past"]);
        // As a PT_GNU_PROPERTY segment, the same.
        p.set_ph(note, P_TYPE, u64::from(PT_GNU_PROPERTY));
        p.refused(&["PT_GNU_PROPERTY", "running past"]);
    }

    #[test]
    fn a_phdr_segment_that_does_not_describe_the_table_is_refused() {
        let mut p = Patched::greeter();
        let phdr = p.find(PT_PHDR);
        let vaddr = p.ph(phdr, P_VADDR);
        p.set_ph(phdr, P_VADDR, vaddr + 0x100);
        p.refused(&["PT_PHDR", "different part of the file"]);
        let mut p = Patched::greeter();
        p.set_ph(phdr, P_VADDR, HOLE);
        p.refused(&["PT_PHDR", "file-backed part"]);
    }

    #[test]
    fn a_relocation_outside_writable_memory_is_refused() {
        let mut p = Patched::greeter();
        let text = p.dyn_get(DT_INIT);
        let at = p.rela_at(0);
        p.set(at, 8, text);
        p.refused(&["relocation 0 of the DT_RELA table", "writable"]);
        let mut p = Patched::greeter();
        p.set(at, 8, HOLE);
        p.refused(&["relocation 0 of the DT_RELA table", "writable"]);
    }

    #[test]
    fn a_relocation_of_an_unknown_symbol_or_type_is_refused() {
        let relacount = Patched::greeter().dyn_get(DT_RELACOUNT);
        // The first entry after the relative ones.
        let mut p = Patched::greeter();
        let at = p.rela_at(relacount) + 8;
        let info = p.get(at, 8);
        p.set(at, 8, (100_000 << 32) | (info & 0xffff_ffff));
        p.refused(&["names symbol 100000"]);
        let mut p = Patched::greeter();
        p.set(at, 8, (info & !0xffff_ffff) | 5);
        p.refused(&["type 5", "does not apply"]);
    }

    #[test]
    fn a_relative_count_beyond_the_relative_relocations_is_refused() {
        let mut p = Patched::greeter();
        let relacount = p.dyn_get(DT_RELACOUNT);
        p.dyn_set(DT_RELACOUNT, relacount + 1);
        p.refused(&["DT_RELACOUNT", "relative"]);
        let size = p.dyn_get(DT_RELASZ);
        p.dyn_set(DT_RELACOUNT, size / 24 + 1);
        p.refused(&["DT_RELACOUNT", "holds only"]);
    }

    #[test]
    fn init_array_slots_must_be_relocated_to_code() {
        // One slot further: a pointer into read-only data.
        let mut p = Patched::greeter();
        let size = p.dyn_get(DT_INIT_ARRAYSZ);
        p.dyn_set(DT_INIT_ARRAYSZ, size + 8);
        p.refused(&["DT_INIT_ARRAY", "not executable"]);
        // The relocation of slot 0 moved elsewhere: the slot keeps its raw value.
        let mut p = Patched::greeter();
        let slot = p.dyn_get(DT_INIT_ARRAY);
        let count = p.dyn_get(DT_RELASZ) / 24;
        let i = (0..count)
            .find(|&i| p.get(p.rela_at(i), 8) == slot)
            .unwrap();
        let at = p.rela_at(i);
        let bss = p.bss();
        p.set(at, 8, bss);
        p.refused(&["slot 0 of DT_INIT_ARRAY", "never relocated"]);
    }

    #[test]
    fn a_gnu_hash_table_glibc_cannot_read_is_refused() {
        let mut p = Patched::greeter();
        let at = p.offset_of(p.dyn_get(DT_GNU_HASH));
        p.set(at + 8, 4, 0);
        p.refused(&["0 Bloom filter words"]);
        p.set(at + 8, 4, 3);
        p.refused(&["3 Bloom filter words"]);
        let mut p = Patched::greeter();
        p.set(at, 4, 0x1000_0000);
        p.refused(&["DT_GNU_HASH table", "file-backed part"]);
    }

    #[test]
    fn version_records_the_loader_cannot_follow_are_refused() {
        // A symbol version index above every defined or needed version.
        let mut p = Patched::greeter();
        let versym = p.offset_of(p.dyn_get(DT_VERSYM));
        p.set(versym + 2 * 4, 2, 0x50);
        p.refused(&["symbol 4 has version index 80"]);
        // A version need for a library that is not DT_NEEDED: its file name
        // moved to the first version name.
        let mut p = Patched::greeter();
        let verneed = p.offset_of(p.dyn_get(DT_VERNEED));
        let aux = verneed + p.get(verneed + 8, 4);
        let name = p.get(aux + 8, 4);
        p.set(verneed + 4, 4, name);
        p.refused(&["DT_VERNEED record names GCC_3.0", "not a DT_NEEDED library"]);
        // A link that leaves the file-backed part.
        let mut p = Patched::greeter();
        p.set(verneed + 12, 4, 0x1000_0000);
        p.refused(&["DT_VERNEED record", "file-backed part"]);
        // DT_VERSYM without any version records.
        let mut p = Patched::greeter();
        p.dyn_retag(DT_VERNEED, 21);
        p.refused(&["DT_VERSYM but no version records"]);
    }

    #[test]
    fn damaged_headers_never_panic() {
        let bytes = greeter();
        for cut in [0, 3, 15, 16, 52, 63, 64, 65, 200, 500, 4096, 100_000] {
            assert!(check(&bytes[..cut]).is_err(), "{cut} bytes accepted");
        }
        // Every single byte of the ELF and program headers set to extremes.
        let mut p = Patched::greeter();
        let table_end = 64 + 56 * p.phnum();
        for at in 0..table_end {
            let original = p.0[at];
            for value in [0u8, 0xff] {
                p.0[at] = value;
                let _ = p.check();
            }
            p.0[at] = original;
        }
    }

    // -- Synthetic libraries of every class and byte order. -----------------

    /// A minimal shared library: one writable PT_LOAD holding everything,
    /// a PT_DYNAMIC, a string table naming libc, one null symbol, a SysV
    /// hash table and a DT_RELR table patching one word.
    fn synthetic(wide: bool, big: bool, machine: u16) -> Vec<u8> {
        let l = Layout { wide, big };
        let w = l.word();
        let hash_entry = if machine == EM_S390 && wide { 8 } else { 4 };
        let ehdr = if wide { 64 } else { 52 };
        let phdrs = ehdr;
        let dynamic = align_up(phdrs + 2 * l.phdr_size(), 8).unwrap();
        let entries = 10;
        let strtab = dynamic + entries * l.dyn_size();
        let strings = b"\0libc.so.6\0";
        let symtab = align_up(strtab + strings.len() as u64, 8).unwrap();
        let hash = symtab + l.sym_size();
        let relr = align_up(hash + 4 * hash_entry, 8).unwrap();
        let data = relr + w;
        let total = data + w;

        let mut out = vec![0u8; total as usize];
        out[strtab as usize..][..strings.len()].copy_from_slice(strings);
        let mut put = |at: u64, size: u64, value: u64| {
            for i in 0..size {
                let shift = if big { 8 * (size - 1 - i) } else { 8 * i };
                out[(at + i) as usize] = (value >> shift) as u8;
            }
        };
        put(0, 4, 0x7f45_4c46);
        if !big {
            // The magic is bytes, not a number.
            put(0, 4, 0x464c_457f);
        }
        put(4, 1, if wide { 2 } else { 1 });
        put(5, 1, if big { 2 } else { 1 });
        put(6, 1, 1);
        put(16, 2, u64::from(ET_DYN));
        put(18, 2, u64::from(machine));
        put(20, 4, 1);
        if wide {
            put(32, 8, phdrs);
            put(52, 2, ehdr);
            put(54, 2, l.phdr_size());
            put(56, 2, 2);
        } else {
            put(28, 4, phdrs);
            put(40, 2, ehdr);
            put(42, 2, l.phdr_size());
            put(44, 2, 2);
        }
        // (type, flags, offset/vaddr, size, align)
        let segments = [
            (PT_LOAD, 6, 0, total, 0x1000),
            (PT_DYNAMIC, 6, dynamic, entries * l.dyn_size(), w),
        ];
        for (i, (p_type, flags, at, size, align)) in segments.into_iter().enumerate() {
            let base = phdrs + i as u64 * l.phdr_size();
            put(base, 4, u64::from(p_type));
            if wide {
                put(base + 4, 4, flags);
                for (field, value) in [
                    (8, at),
                    (16, at),
                    (24, at),
                    (32, size),
                    (40, size),
                    (48, align),
                ] {
                    put(base + field, 8, value);
                }
            } else {
                for (field, value) in [
                    (4, at),
                    (8, at),
                    (12, at),
                    (16, size),
                    (20, size),
                    (28, align),
                ] {
                    put(base + field, 4, value);
                }
                put(base + 24, 4, flags);
            }
        }
        let tags = [
            (DT_NEEDED, 1),
            (DT_HASH, hash),
            (DT_STRTAB, strtab),
            (DT_STRSZ, strings.len() as u64),
            (DT_SYMTAB, symtab),
            (DT_SYMENT, l.sym_size()),
            (DT_RELR, relr),
            (DT_RELRSZ, w),
            (DT_RELRENT, w),
            (DT_NULL, 0),
        ];
        for (i, (tag, value)) in tags.into_iter().enumerate() {
            let at = dynamic + i as u64 * l.dyn_size();
            put(at, w, tag);
            put(at + w, w, value);
        }
        // nbucket 1, nchain 1, bucket 0 and chain 0 empty.
        put(hash, hash_entry, 1);
        put(hash + hash_entry, hash_entry, 1);
        // DT_RELR: patch the data word.
        put(relr, w, data);
        out
    }

    /// (class 64, big-endian, machine, description).
    const KINDS: [(bool, bool, u16, &str); 4] = [
        (true, false, EM_X86_64, "ELF64 little-endian x86-64"),
        (false, false, EM_386, "ELF32 little-endian i386"),
        (true, true, EM_S390, "ELF64 big-endian s390x"),
        (false, true, 20, "ELF32 big-endian PowerPC"),
    ];

    #[test]
    fn every_class_and_byte_order_is_read() {
        for (wide, big, machine, what) in KINDS {
            let bytes = synthetic(wide, big, machine);
            assert_eq!(check(&bytes), Ok(()), "{what}");
        }
    }

    #[test]
    fn every_class_and_byte_order_refuses_a_dynamic_section_outside_the_loads() {
        for (wide, big, machine, what) in KINDS {
            let mut bytes = synthetic(wide, big, machine);
            let l = Layout { wide, big };
            let phdrs = if wide { 64 } else { 52 };
            // PT_DYNAMIC is the second program header; set its p_vaddr.
            let (at, size) = if wide {
                (phdrs + 56 + 16, 8)
            } else {
                (phdrs + 32 + 8, 4)
            };
            assert_eq!(l.field(&bytes, at, size), l.field(&bytes, at - size, size));
            for i in 0..size {
                bytes[(at + i) as usize] = 0x40;
            }
            let reason = check(&bytes).unwrap_err().reason;
            assert!(reason.contains("(PT_DYNAMIC)"), "{what}: {reason}");
        }
    }

    #[test]
    fn an_empty_load_segment_whose_page_lies_past_the_end_is_refused() {
        // On a machine with 64 KiB pages (PowerPC here), a PT_LOAD with no
        // file bytes whose address is 4 KiB- but not 64 KiB-aligned makes
        // glibc map the file page at p_offset: at the (page-aligned) end of
        // the file, that page is wholly past it.
        let (wide, big, machine, _) = KINDS[3];
        let l = Layout { wide, big };
        let mut bytes = synthetic(wide, big, machine);
        bytes.resize(align_up(bytes.len() as u64, MIN_PAGE).unwrap() as usize, 0);
        let len = bytes.len() as u64;
        assert_ne!(len % largest_page(machine), 0);
        let load = if wide { 64 } else { 52 };
        for (field, value) in [(4, len), (8, len), (12, len), (16, 0), (20, 0x1000)] {
            let raw = if big {
                (value as u32).to_be_bytes()
            } else {
                (value as u32).to_le_bytes()
            };
            bytes[load + field..load + field + 4].copy_from_slice(&raw);
            assert_eq!(l.field(&bytes, (load + field) as u64, 4), Some(value));
        }
        let reason = check(&bytes).unwrap_err().reason;
        assert!(reason.contains("no file bytes"), "{reason}");
        assert!(reason.contains("past the end"), "{reason}");
    }

    #[test]
    fn a_relr_table_that_starts_with_a_bitmap_is_refused() {
        for (wide, big, machine, what) in KINDS {
            let l = Layout { wide, big };
            let mut bytes = synthetic(wide, big, machine);
            let len = bytes.len() as u64;
            // The RELR entry is the second-to-last word: make it a bitmap.
            let at = (len - 2 * l.word()) as usize;
            let last = if big { at + l.word() as usize - 1 } else { at };
            bytes[last] |= 1;
            let reason = check(&bytes).unwrap_err().reason;
            assert!(
                reason.contains("DT_RELR entry 0 is a bitmap"),
                "{what}: {reason}"
            );
        }
    }
}
