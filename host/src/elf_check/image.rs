//! The loaded image: the `PT_LOAD` segments as glibc maps them
//! (`elf/dl-map-segments.h`), and reads from that image.

use super::*;

/// The file as the loader will map it.
pub(super) struct Image<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) layout: Layout,
    pub(super) machine: u16,
    /// The `PT_LOAD` headers, in file (and so address) order.
    pub(super) loads: Vec<Phdr>,
    pub(super) file_len: u64,
    /// Whether a non-empty `PT_TLS` gives the library thread-local storage.
    pub(super) has_tls: bool,
}

impl<'a> Image<'a> {
    /// How many leading bytes of the file the loader reads or maps (see
    /// [`check`](super::check)). Every `PT_LOAD` lies inside the file and
    /// maps from a page-aligned offset (checked in [`Image::new`]); the
    /// last page of each is counted whole, up to the end of the file.
    pub(super) fn loader_extent(&self, header: &Header) -> u64 {
        let page = largest_page(self.machine);
        let ehdr = if self.layout.wide { 64 } else { 52 };
        let phdrs = header.phoff + header.table_size();
        self.loads
            .iter()
            .map(|load| align_up(load.offset + load.filesz, page).unwrap_or(u64::MAX))
            .chain([ehdr, phdrs])
            .max()
            .unwrap_or(self.file_len)
            .min(self.file_len)
    }

    pub(super) fn new(bytes: &'a [u8], header: &Header, phdrs: &[Phdr]) -> Check<Self> {
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
    pub(super) fn file_backed_load(&self, addr: u64, len: u64) -> Option<&Phdr> {
        let end = addr.checked_add(len)?;
        self.loads
            .iter()
            .find(|l| l.vaddr <= addr && end <= l.vaddr + l.filesz)
    }

    /// The file offset the loader maps at `addr`, if `addr .. addr + len`
    /// is file-backed.
    pub(super) fn file_offset(&self, addr: u64, len: u64) -> Option<u64> {
        self.file_backed_load(addr, len)
            .map(|l| l.offset + (addr - l.vaddr))
    }

    /// The bytes the loader maps at `addr .. addr + len`, if file-backed.
    pub(super) fn read(&self, addr: u64, len: u64) -> Option<&'a [u8]> {
        let offset = usize::try_from(self.file_offset(addr, len)?).ok()?;
        self.bytes
            .get(offset..offset.checked_add(usize::try_from(len).ok()?)?)
    }

    /// The `PT_LOAD` whose memory (`p_vaddr .. p_vaddr + p_memsz`) holds
    /// `addr .. addr + len`.
    pub(super) fn mapped_load(&self, addr: u64, len: u64) -> Option<&Phdr> {
        let end = addr.checked_add(len)?;
        self.loads
            .iter()
            .find(|l| l.vaddr <= addr && end <= l.vaddr + l.memsz)
    }

    /// The bytes at `addr .. addr + len`, or a refusal naming `what`.
    pub(super) fn require(&self, what: &str, addr: u64, len: u64) -> Check<&'a [u8]> {
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
    pub(super) fn require_code(&self, what: &str, addr: u64) -> Check<()> {
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
    pub(super) fn word_at(&self, addr: u64) -> Option<u64> {
        let w = self.layout.word();
        match self.read(addr, w) {
            Some(raw) => self.layout.addr(raw, 0),
            None => self.mapped_load(addr, w).map(|_| 0),
        }
    }
}
