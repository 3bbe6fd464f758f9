//! Reading fields, the ELF header and the program headers as the loader
//! reads them (`_dl_map_object_from_fd` in glibc's `elf/dl-load.c`).

use super::*;

pub(super) fn align_up(value: u64, align: u64) -> Option<u64> {
    debug_assert!(align.is_power_of_two());
    Some(value.checked_add(align - 1)? & !(align - 1))
}

pub(super) fn align_down(value: u64, align: u64) -> u64 {
    debug_assert!(align.is_power_of_two());
    value & !(align - 1)
}

// ---------------------------------------------------------------------------
// Reading fields.

/// Byte order and class: how to read a field.
#[derive(Clone, Copy)]
pub(super) struct Layout {
    /// ELFCLASS64.
    pub(super) wide: bool,
    /// ELFDATA2MSB.
    pub(super) big: bool,
}

impl Layout {
    /// Bytes in an address (`ElfW(Addr)`).
    pub(super) fn word(self) -> u64 {
        if self.wide {
            8
        } else {
            4
        }
    }
    pub(super) fn phdr_size(self) -> u64 {
        if self.wide {
            56
        } else {
            32
        }
    }
    pub(super) fn dyn_size(self) -> u64 {
        2 * self.word()
    }
    pub(super) fn sym_size(self) -> u64 {
        if self.wide {
            24
        } else {
            16
        }
    }
    pub(super) fn rela_size(self) -> u64 {
        3 * self.word()
    }
    pub(super) fn rel_size(self) -> u64 {
        2 * self.word()
    }
    /// The highest address of the class, plus one.
    pub(super) fn address_space(self) -> u128 {
        if self.wide {
            1 << 64
        } else {
            1 << 32
        }
    }

    /// An unsigned field of `size` bytes (1, 2, 4 or 8) at `at` in `data`.
    pub(super) fn field(self, data: &[u8], at: u64, size: u64) -> Option<u64> {
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
    pub(super) fn u16(self, data: &[u8], at: u64) -> Option<u16> {
        self.field(data, at, 2).map(|v| v as u16)
    }
    pub(super) fn u32(self, data: &[u8], at: u64) -> Option<u32> {
        self.field(data, at, 4).map(|v| v as u32)
    }
    /// An address-sized field (`ElfW(Addr)`, `ElfW(Off)`, `ElfW(Xword)`).
    pub(super) fn addr(self, data: &[u8], at: u64) -> Option<u64> {
        self.field(data, at, self.word())
    }
}

// ---------------------------------------------------------------------------
// The ELF header and the program headers.

pub(super) struct Header {
    pub(super) layout: Layout,
    pub(super) machine: u16,
    pub(super) phoff: u64,
    pub(super) phnum: u16,
    /// `e_shoff`, `e_shentsize`, `e_shnum` (0 when there is no table).
    pub(super) shoff: u64,
    pub(super) shentsize: u16,
    pub(super) shnum: u16,
    pub(super) file_len: u64,
}

impl Header {
    pub(super) fn read(bytes: &[u8]) -> Check<Self> {
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

    pub(super) fn table_size(&self) -> u64 {
        u64::from(self.phnum) * self.layout.phdr_size()
    }
}

/// One program header, fields as in the file.
#[derive(Clone, Debug)]
pub(super) struct Phdr {
    pub(super) index: usize,
    pub(super) p_type: u32,
    pub(super) flags: u32,
    pub(super) offset: u64,
    pub(super) vaddr: u64,
    pub(super) filesz: u64,
    pub(super) memsz: u64,
    pub(super) align: u64,
}

impl Phdr {
    /// "program header 3 (PT_LOAD)".
    pub(super) fn name(&self) -> String {
        format!(
            "program header {} ({})",
            self.index,
            segment_name(self.p_type)
        )
    }

    /// Refuses a file range that does not lie inside the file.
    pub(super) fn require_in_file(&self, file_len: u64) -> Check<()> {
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

pub(super) fn read_program_headers(bytes: &[u8], header: &Header) -> Check<Vec<Phdr>> {
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
pub(super) fn largest_page(machine: u16) -> u64 {
    match machine {
        EM_386 | EM_X86_64 | EM_S390 | EM_RISCV => 4096,
        _ => 65_536,
    }
}

/// The only header of type `p_type`, if any; two are ambiguous.
pub(super) fn unique(phdrs: &[Phdr], p_type: u32) -> Check<Option<&Phdr>> {
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
