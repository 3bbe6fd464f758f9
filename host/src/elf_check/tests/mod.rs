//! Unit tests on the real greeter plugin (x86-64: ELF64, little-endian)
//! and on small synthetic libraries of every class and byte order.
//!
//! On Windows the greeter is a PE file: only the synthetic libraries are
//! ELF there, and the tests on the greeter are not built.
#![cfg_attr(windows, allow(dead_code, unused_imports))]

use super::*;
use std::path::Path;
use std::sync::OnceLock;

#[cfg(not(windows))]
mod dynamic;
#[cfg(not(windows))]
mod program_headers;
mod synthetic;

/// The bytes of the real greeter plugin (built on first use).
pub(crate) fn greeter() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("host/ is inside the workspace");
        let built =
            crate::testing::build_cdylibs(root, &["greeter"]).expect("building the greeter plugin");
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
        check(&self.0).map(|_| ())
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
