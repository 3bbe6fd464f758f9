//! The ELF header, `PT_LOAD`, `PT_DYNAMIC` and the section headers, on
//! byte-patched copies of the real greeter.

use super::*;

#[test]
fn the_real_plugin_passes_and_the_loader_reads_up_to_its_last_load() {
    let bytes = greeter();
    let extent = check(bytes).unwrap();
    let file = object::read::elf::ElfFile64::<object::LittleEndian>::parse(bytes).unwrap();
    let last_byte = object::Object::segments(&file)
        .map(|s| {
            let (offset, size) = object::ObjectSegment::file_range(&s);
            offset + size
        })
        .max()
        .unwrap();
    // Every loaded byte, to the end of its page, and not the symbol tables
    // and debug information that follow.
    assert_eq!(extent, last_byte.next_multiple_of(4096));
    assert!(
        extent < bytes.len() as u64 / 2,
        "{extent} of {}",
        bytes.len()
    );
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
