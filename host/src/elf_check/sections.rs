//! Section headers: the loader ignores them, `object` (and so the rest of
//! the vet) reads them, so both must describe the same bytes.

use super::*;

pub(super) const SHF_ALLOC: u64 = 2;
pub(super) const SHT_NOBITS: u32 = 8;

/// The loader ignores section headers, but `object` — and so the rest of
/// the vet (exports, metadata) — reads them. Each allocated section must
/// therefore be mapped at its address from its own file offset: otherwise
/// the code and data the loader maps are not the ones the vet looked at
/// (a `PT_LOAD` whose `p_offset` moved by whole pages still passes every
/// loader check, and maps other bytes as code).
pub(super) fn check_sections(image: &Image<'_>, header: &Header) -> Check<Vec<Section>> {
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
pub(super) struct Section {
    pub(super) index: u64,
    pub(super) sh_type: u32,
    pub(super) addr: u64,
    pub(super) size: u64,
    pub(super) link: u64,
}

// Section types of the tables the loader uses.
pub(super) const SHT_HASH: u32 = 5;
pub(super) const SHT_DYNAMIC: u32 = 6;
pub(super) const SHT_RELA: u32 = 4;
pub(super) const SHT_REL: u32 = 9;
pub(super) const SHT_DYNSYM: u32 = 11;
pub(super) const SHT_INIT_ARRAY: u32 = 14;
pub(super) const SHT_FINI_ARRAY: u32 = 15;
pub(super) const SHT_PREINIT_ARRAY: u32 = 16;
pub(super) const SHT_RELR: u32 = 19;
pub(super) const SHT_GNU_HASH: u32 = 0x6fff_fff6;
pub(super) const SHT_GNU_VERDEF: u32 = 0x6fff_fffd;
pub(super) const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
pub(super) const SHT_GNU_VERSYM: u32 = 0x6fff_ffff;

/// Where the file has section headers, the tables the loader finds through
/// the dynamic section must be the ones the section headers describe —
/// which `object`, and so the vet's export and metadata checks, read. A
/// dynamic tag that disagrees (a `DT_PLTRELSZ` of 0 leaves the PLT
/// unrelocated, a `DT_SYMTAB` moved by one entry binds every symbol to its
/// neighbour's name) makes the loader act on other data than the vet saw.
pub(super) fn check_section_agreement(
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
