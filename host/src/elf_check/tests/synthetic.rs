//! Synthetic libraries of every class and byte order.

use super::*;

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
        assert!(check(&bytes).is_ok(), "{what}");
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
