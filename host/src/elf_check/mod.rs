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
//!
//! # Where each check lives
//!
//! In the order [`check`] runs them: `header` (fields, the ELF header, the
//! program headers), `image` (the `PT_LOAD`s and the mapped image),
//! `sections` (section headers against the image), `segments` (the other
//! program headers), `dynamic` (the dynamic section), then `tables`
//! ([`DynamicCheck`]: strings, hash tables, symbols), `versions`,
//! `relocations` (with `machine`, the relocation types per machine) and
//! `init` (init and fini arrays, other code addresses). `consts` holds the
//! `<elf.h>` numbers.

use std::fmt;

mod consts;
mod dynamic;
mod header;
mod image;
mod init;
mod machine;
mod relocations;
mod sections;
mod segments;
mod tables;
mod versions;

#[cfg(test)]
mod tests;

use consts::*;
use dynamic::*;
use header::*;
use image::*;
use machine::*;
use sections::*;
use segments::*;
use tables::*;

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
///
/// Returns how many leading bytes of the file the loader reads or maps: the ELF header, the
/// program headers, and every page that holds a byte of a `PT_LOAD`'s file range. What lies
/// beyond (section headers, symbol tables, debug information) the loader never looks at.
pub(crate) fn check(bytes: &[u8]) -> Result<u64, ElfProblem> {
    let header = Header::read(bytes)?;
    let phdrs = read_program_headers(bytes, &header)?;
    let image = Image::new(bytes, &header, &phdrs)?;
    let sections = check_sections(&image, &header)?;
    check_other_segments(&image, &header, &phdrs)?;
    let dynamic = Dynamic::read(&image, &phdrs)?;
    let nsyms = DynamicCheck::run(&image, &dynamic)?;
    check_section_agreement(&sections, &dynamic, &phdrs, nsyms, header.layout)?;
    Ok(image.loader_extent(&header))
}
