//! Segments other than `PT_LOAD` and `PT_DYNAMIC`: `PT_PHDR`, `PT_TLS`,
//! notes, `PT_GNU_EH_FRAME`, `PT_GNU_RELRO`.

use super::*;

pub(super) fn check_other_segments(
    image: &Image<'_>,
    header: &Header,
    phdrs: &[Phdr],
) -> Check<()> {
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
pub(super) fn same_bytes<'a>(
    image: &Image<'a>,
    ph: &Phdr,
    len: u64,
    what: &str,
) -> Check<&'a [u8]> {
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
pub(super) fn check_notes(layout: Layout, ph: &Phdr, data: &[u8]) -> Check<()> {
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
