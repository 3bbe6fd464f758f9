//! The relocation tables as `ELF_DYNAMIC_RELOCATE` (`elf/do-rel.h`,
//! `elf/dynamic-link.h`) applies them.

use super::*;

impl<'i, 'a> DynamicCheck<'i, 'a> {
    /// Whether the loader may write `len` bytes at `addr`: inside a
    /// writable segment's memory, or any segment's with text relocations.
    pub(super) fn writable(&self, addr: u64, len: u64) -> bool {
        self.image
            .mapped_load(addr, len)
            .is_some_and(|l| self.textrel || l.flags & PF_W != 0)
    }

    /// Notes what a relocation leaves at `addr` if that is in an init,
    /// fini or preinit array.
    pub(super) fn record_slot(&mut self, addr: u64, value: SlotValue) {
        if self
            .arrays
            .iter()
            .any(|&(_, start, size)| start <= addr && addr - start < size)
        {
            self.slots.entry(addr).or_default().push(value);
        }
    }

    /// The relocation tables (`ELF_DYNAMIC_RELOCATE`): DT_RELR, DT_REL or
    /// DT_RELA, and DT_JMPREL.
    pub(super) fn relocations(&mut self) -> Check<()> {
        let l = self.image.layout;
        let d = self.dynamic;
        let tables = self.machine.tables;

        // (address, size, entry size, with addends) of DT_RELA/DT_REL.
        let mut main: Option<(u64, u64, u64, bool)> = None;
        for (tag, size_tag, ent_tag, entsize, rela) in [
            (DT_RELA, DT_RELASZ, DT_RELAENT, l.rela_size(), true),
            (DT_REL, DT_RELSZ, DT_RELENT, l.rel_size(), false),
        ] {
            let Some(addr) = d.get(tag) else { continue };
            let applies = match tables {
                Tables::RelaOnly => rela,
                Tables::RelOnly => !rela,
                Tables::Either => true,
            };
            if !applies {
                return refuse(format!(
                    "the dynamic section has {}, which glibc's {} loader ignores",
                    tag_name(tag),
                    self.machine.name
                ));
            }
            // glibc reads the entry size whenever the tag is there.
            let ent = d.require(ent_tag, tag)?;
            if ent != entsize {
                return refuse(format!(
                    "{} is {ent}, but a relocation of this kind is {entsize} bytes",
                    tag_name(ent_tag)
                ));
            }
            // A zero address means "none" (with DT_RELR).
            if addr == 0 {
                continue;
            }
            if main.is_some() {
                return refuse("the dynamic section has both DT_RELA and DT_REL");
            }
            let size = d.require(size_tag, tag)?;
            main = Some((addr, size, entsize, rela));
        }

        let plt = match d.get(DT_PLTREL) {
            Some(kind) => {
                let rela = match (kind, tables) {
                    (DT_RELA, Tables::RelaOnly | Tables::Either) => true,
                    (DT_REL, Tables::RelOnly | Tables::Either) => false,
                    _ => {
                        return refuse(format!(
                            "DT_PLTREL is {kind}, not a relocation kind glibc's {} loader accepts (it asserts)",
                            self.machine.name
                        ))
                    }
                };
                let addr = d.require(DT_JMPREL, DT_PLTREL)?;
                let size = d.require(DT_PLTRELSZ, DT_PLTREL)?;
                let entsize = if rela { l.rela_size() } else { l.rel_size() };
                Some((addr, size, entsize, rela))
            }
            None if d.get(DT_JMPREL).is_some() => {
                return refuse("the dynamic section has DT_JMPREL without DT_PLTREL")
            }
            None => None,
        };
        if plt.is_some() {
            // Lazy binding writes the second and third words of the PLT GOT.
            let got = d.require(DT_PLTGOT, DT_JMPREL)?;
            if !self.writable(got, 3 * l.word()) {
                return refuse(format!(
                    "DT_PLTGOT is address {got:#x}, but the loader writes three words there and they are not inside writable memory"
                ));
            }
        }

        let mut main_count = 0;
        if let Some((addr, size, entsize, rela)) = main {
            let name = if rela { "DT_RELA" } else { "DT_REL" };
            main_count = self.table(name, addr, size, entsize, rela)?;
        }
        if let Some((addr, size, entsize, rela)) = plt {
            let count = self.table("DT_JMPREL", addr, size, entsize, rela)?;
            if let Some((main_addr, main_size, main_ent, _)) = main {
                let (main_end, plt_end) = (main_addr + main_size, addr + size);
                // glibc handles a PLT table that is the tail of the main one
                // or that lies apart from it; nothing in between.
                if plt_end == main_end && addr >= main_addr && main_ent == entsize {
                    main_count -= count;
                } else if addr < main_end && main_addr < plt_end {
                    return refuse(
                        "the DT_JMPREL table overlaps the main relocation table other than as its tail",
                    );
                }
            }
        }

        // glibc treats the first DT_RELACOUNT/DT_RELCOUNT entries as relative
        // relocations without looking at their type.
        if let Some((addr, _, entsize, rela)) = main {
            let count_tag = if rela { DT_RELACOUNT } else { DT_RELCOUNT };
            if let Some(relative) = d.get(count_tag) {
                if relative > main_count {
                    return refuse(format!(
                        "{} is {relative}, but the table holds only {main_count} relocations",
                        tag_name(count_tag)
                    ));
                }
                if let Some(classify) = self.machine.classify {
                    for i in 0..relative {
                        let info = self.entry(addr + i * entsize, rela).1;
                        let r_type = self.r_type(info);
                        if classify(r_type).map(|t| t.effect) != Some(Effect::Relative) {
                            return refuse(format!(
                                "{} says the first {relative} relocations are relative, but relocation {i} has type {r_type}",
                                tag_name(count_tag)
                            ));
                        }
                    }
                }
            }
        }

        self.relr()
    }

    pub(super) fn r_type(&self, info: u64) -> u32 {
        if self.image.layout.wide {
            info as u32
        } else {
            (info & 0xff) as u32
        }
    }

    pub(super) fn r_sym(&self, info: u64) -> u64 {
        if self.image.layout.wide {
            info >> 32
        } else {
            info >> 8
        }
    }

    /// (r_offset, r_info, r_addend) of the relocation at `addr` (already
    /// checked to be file-backed).
    pub(super) fn entry(&self, addr: u64, rela: bool) -> (u64, u64, Option<u64>) {
        let l = self.image.layout;
        let w = l.word();
        let raw = self
            .image
            .read(addr, if rela { 3 * w } else { 2 * w })
            .unwrap_or(&[]);
        let f = |i: u64| l.addr(raw, i * w).unwrap_or(0);
        let addend = rela.then(|| {
            let a = f(2);
            // Sign-extend a 32-bit addend.
            if l.wide {
                a
            } else {
                a as u32 as i32 as i64 as u64
            }
        });
        (f(0), f(1), addend)
    }

    /// Checks one relocation table and returns its number of entries.
    pub(super) fn table(
        &mut self,
        name: &str,
        addr: u64,
        size: u64,
        entsize: u64,
        rela: bool,
    ) -> Check<u64> {
        if !size.is_multiple_of(entsize) {
            return refuse(format!(
                "the {name} table's size {size} is not a multiple of its {entsize}-byte entry"
            ));
        }
        self.image.require(
            &format!("the {name} relocation table ({size} bytes)"),
            addr,
            size,
        )?;
        let count = size / entsize;
        let nsyms = self.symbols.len() as u64;
        let w = self.image.layout.word();
        let has_tls = self.image.has_tls;
        for i in 0..count {
            let (offset, info, addend) = self.entry(addr + i * entsize, rela);
            // Named only in a refusal: formatting it per entry would cost more
            // than the checks.
            let what = || format!("relocation {i} of the {name} table");
            let sym = self.r_sym(info);
            if sym >= nsyms {
                return refuse(format!(
                    "{} names symbol {sym}, but the symbol table has {nsyms} entries",
                    what()
                ));
            }
            let r_type = self.r_type(info);
            let kind = match self.machine.classify {
                Some(classify) => classify(r_type).ok_or_else(|| ElfProblem {
                    reason: format!(
                        "{} has type {r_type}, which glibc's {} loader does not apply to a shared library",
                        what(),
                        self.machine.name
                    ),
                })?,
                None => RelocType {
                    effect: Effect::Nothing,
                    width: w,
                },
            };
            if kind.width != 0 && !self.writable(offset, kind.width) {
                return refuse(format!(
                    "{} writes {} bytes at address {offset:#x}, outside the memory of every writable PT_LOAD segment",
                    what(),
                    kind.width
                ));
            }
            // REL relocations take their addend from the word they patch.
            let addend = addend.unwrap_or_else(|| self.image.word_at(offset).unwrap_or(0));
            let symbol = self.symbols[sym as usize];
            let defined_here = sym == 0 || symbol.shndx != SHN_UNDEF;
            match kind.effect {
                Effect::IRelative => {
                    self.image
                        .require_code(&format!("the resolver of {}", what()), addend)?;
                }
                Effect::Tls if defined_here && !has_tls => {
                    return refuse(format!(
                        "{} refers to this library's thread-local storage, but it has no PT_TLS segment",
                        what()
                    ));
                }
                _ => {}
            }
            if self.machine.classify.is_none() {
                continue;
            }
            let slot = match kind.effect {
                Effect::Relative => SlotValue::Local(addend),
                Effect::Symbol if sym != 0 && symbol.shndx != SHN_UNDEF => {
                    SlotValue::Local(symbol.value.wrapping_add(addend))
                }
                Effect::Symbol if sym != 0 => SlotValue::External {
                    weak: symbol.bind == STB_WEAK,
                },
                _ => SlotValue::Unknown,
            };
            self.record_slot(offset, slot);
        }
        Ok(count)
    }

    /// The compact relative relocations (`ELF_DYNAMIC_DO_RELR`).
    pub(super) fn relr(&mut self) -> Check<()> {
        let d = self.dynamic;
        let l = self.image.layout;
        let w = l.word();
        let Some(addr) = d.get(DT_RELR) else {
            return Ok(());
        };
        let size = d.require(DT_RELRSZ, DT_RELR)?;
        let ent = d.require(DT_RELRENT, DT_RELR)?;
        if ent != w {
            return refuse(format!(
                "DT_RELRENT is {ent}, but a DT_RELR entry is {w} bytes"
            ));
        }
        if !size.is_multiple_of(w) {
            return refuse(format!(
                "DT_RELRSZ is {size}, not a multiple of the {w}-byte entry"
            ));
        }
        let table = self
            .image
            .require(&format!("the DT_RELR table ({size} bytes)"), addr, size)?;
        let mut next: Option<u64> = None;
        for i in 0..size / w {
            let entry = l.addr(table, i * w).unwrap_or(0);
            let mut targets = Vec::new();
            if entry & 1 == 0 {
                targets.push(entry);
                next = entry.checked_add(w);
            } else {
                let Some(base) = next else {
                    return refuse(format!(
                        "DT_RELR entry {i} is a bitmap with no address before it: the loader would patch memory near address 0"
                    ));
                };
                for bit in 1..8 * w {
                    if entry >> bit & 1 == 1 {
                        targets.push(base.saturating_add((bit - 1) * w));
                    }
                }
                next = base.checked_add((8 * w - 1) * w);
            }
            for target in targets {
                if !self.writable(target, w) {
                    return refuse(format!(
                        "DT_RELR entry {i} patches address {target:#x}, outside the memory of every writable PT_LOAD segment"
                    ));
                }
                let value = self.image.word_at(target).unwrap_or(0);
                self.record_slot(target, SlotValue::Local(value));
            }
        }
        Ok(())
    }
}
