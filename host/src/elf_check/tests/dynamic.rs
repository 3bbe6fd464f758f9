//! The dynamic section and the tables it points to, on byte-patched copies
//! of the real greeter.

use super::*;

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

/// Found by the differential test: random bits in DT_FLAGS and DT_FLAGS_1
/// (both present in every Rust cdylib) made `dlopen` crash. Only the bits
/// of a plain shared library pass.
#[test]
fn flags_a_plain_shared_library_does_not_use_are_refused() {
    let plain = Patched::greeter();
    assert_eq!(plain.dyn_get(DT_FLAGS) & !DF_KNOWN, 0);
    assert_eq!(plain.dyn_get(DT_FLAGS_1) & !DF_1_KNOWN, 0);
    let mut p = Patched::greeter();
    p.dyn_set(DT_FLAGS, 0x4712_4668_a82c_e630);
    p.refused(&["DT_FLAGS", "0x4712"]);
    // DF_1_PIE, DF_1_INITFIRST, DF_1_INTERPOSE: each alone.
    for bit in [0x0800_0000, 0x20, 0x400] {
        let mut p = Patched::greeter();
        p.dyn_set(DT_FLAGS_1, p.dyn_get(DT_FLAGS_1) | bit);
        p.refused(&["DT_FLAGS_1", &format!("{bit:#x}")]);
    }
}
