//! The tables the dynamic section points to, walked as the loader walks
//! them: strings, hash tables and symbols. [`DynamicCheck`] runs every
//! check on the dynamic section; its versions, relocations and init/fini
//! checks live in the sibling modules.

use std::collections::BTreeMap;

use super::*;

/// One dynamic symbol, as far as the loader looks at it.
#[derive(Clone, Copy)]
pub(super) struct Symbol {
    pub(super) value: u64,
    pub(super) bind: u8,
    pub(super) shndx: u16,
}

/// What a relocation leaves in an init or fini array slot.
#[derive(Clone, Copy)]
pub(super) enum SlotValue {
    /// An address in this library.
    Local(u64),
    /// The address of a symbol another library defines.
    External { weak: bool },
    /// Something the checker cannot follow.
    Unknown,
}

/// The checks that need the dynamic section, in the order the loader
/// needs the tables.
pub(super) struct DynamicCheck<'i, 'a> {
    pub(super) image: &'i Image<'a>,
    pub(super) dynamic: &'i Dynamic,
    pub(super) machine: Machine,
    pub(super) strtab: &'a [u8],
    pub(super) symbols: Vec<Symbol>,
    /// Relocations that write inside an init, fini or preinit array.
    pub(super) slots: BTreeMap<u64, Vec<SlotValue>>,
    /// The init, fini and preinit arrays: (tag, address, size).
    pub(super) arrays: Vec<(u64, u64, u64)>,
    /// Whether the library has text relocations (`DT_TEXTREL`, or
    /// `DF_TEXTREL` in `DT_FLAGS`): the loader may then write to any
    /// segment.
    pub(super) textrel: bool,
}

impl<'i, 'a> DynamicCheck<'i, 'a> {
    /// Runs every check; returns the number of symbols.
    /// `DT_FLAGS` and `DT_FLAGS_1` hold only the bits a plain shared library
    /// has: any other bit changes how the loader treats the library (one
    /// found by the differential test made `dlopen` crash).
    fn flags(&self) -> Check<()> {
        for (tag, known) in [(DT_FLAGS, DF_KNOWN), (DT_FLAGS_1, DF_1_KNOWN)] {
            if let Some(flags) = self.dynamic.get(tag).filter(|f| f & !known != 0) {
                return refuse(format!(
                    "its {} entry has flags {:#x}, which a plain shared library does not use",
                    tag_name(tag),
                    flags & !known
                ));
            }
        }
        Ok(())
    }

    pub(super) fn run(image: &'i Image<'a>, dynamic: &'i Dynamic) -> Check<u64> {
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
            textrel: dynamic.get(DT_TEXTREL).is_some()
                || dynamic.get(DT_FLAGS).is_some_and(|f| f & DF_TEXTREL != 0),
        };
        check.flags()?;
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
    pub(super) fn string(&self, what: &str, offset: u64) -> Check<&'a [u8]> {
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
    pub(super) fn names(&self) -> Check<()> {
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
    pub(super) fn hash_tables(&self) -> Check<u64> {
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
    pub(super) fn sysv_hash(&self, addr: u64, walk: bool) -> Check<u64> {
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
    pub(super) fn gnu_hash(&self, addr: u64) -> Check<u64> {
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
    pub(super) fn symbols(&mut self, nsyms: u64) -> Check<()> {
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
}
