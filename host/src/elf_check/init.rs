//! The init, fini and preinit arrays and the other code addresses the
//! loader calls or writes (`elf/dl-init.c`).

use super::*;

impl<'i, 'a> DynamicCheck<'i, 'a> {
    /// The init, fini and preinit arrays: inside the file, whole words.
    pub(super) fn arrays(&mut self) -> Check<()> {
        let w = self.image.layout.word();
        for (tag, size_tag) in [
            (DT_INIT_ARRAY, DT_INIT_ARRAYSZ),
            (DT_FINI_ARRAY, DT_FINI_ARRAYSZ),
            (DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ),
        ] {
            let Some(addr) = self.dynamic.get(tag) else {
                continue;
            };
            let size = self.dynamic.require(size_tag, tag)?;
            if !size.is_multiple_of(w) {
                return refuse(format!(
                    "{} is {size}, not a multiple of the {w}-byte address size",
                    tag_name(size_tag)
                ));
            }
            self.image.require(
                &format!(
                    "the array at {} ({} {size})",
                    tag_name(tag),
                    tag_name(size_tag)
                ),
                addr,
                size,
            )?;
            self.arrays.push((tag, addr, size));
        }
        Ok(())
    }

    /// DT_INIT, DT_FINI and every slot of the init, fini and preinit
    /// arrays: glibc calls each of them.
    pub(super) fn init_and_fini(&self) -> Check<()> {
        for tag in [DT_INIT, DT_FINI] {
            if let Some(addr) = self.dynamic.get(tag) {
                self.image.require_code(&tag_name(tag), addr)?;
            }
        }
        if self.machine.classify.is_none() {
            // Without the relocation types, slot values cannot be followed.
            return Ok(());
        }
        let w = self.image.layout.word();
        for &(tag, start, size) in &self.arrays {
            for slot in 0..size / w {
                let addr = start + slot * w;
                let what = format!("slot {slot} of {} (address {addr:#x})", tag_name(tag));
                match self.slots.get(&addr).map(Vec::as_slice) {
                    None | Some([]) => {
                        return refuse(format!(
                            "{what} is never relocated, so the loader would call the unrelocated value {:#x}",
                            self.image.word_at(addr).unwrap_or(0)
                        ))
                    }
                    Some([SlotValue::Local(target)]) => {
                        self.image.require_code(&what, *target)?;
                    }
                    Some([SlotValue::External { weak: false }]) => {}
                    Some([SlotValue::External { weak: true }]) => {
                        return refuse(format!(
                            "{what} is a weak undefined symbol, which may resolve to 0 and would then be called"
                        ))
                    }
                    Some([SlotValue::Unknown]) => {
                        return refuse(format!(
                            "{what} is patched by a relocation that does not produce a function address"
                        ))
                    }
                    Some(several) => {
                        return refuse(format!(
                            "{what} is patched by {} relocations",
                            several.len()
                        ))
                    }
                }
            }
        }
        Ok(())
    }

    /// Addresses the loader writes to or jumps through that no table above
    /// covers.
    pub(super) fn other_addresses(&self) -> Check<()> {
        let w = self.image.layout.word();
        if let Some(got) = self.dynamic.get(DT_PLTGOT) {
            if !self.writable(got, w) {
                return refuse(format!(
                    "DT_PLTGOT is address {got:#x}, outside the memory of every writable PT_LOAD segment"
                ));
            }
        }
        if let Some(got) = self.dynamic.get(DT_TLSDESC_GOT) {
            if !self.writable(got, w) {
                return refuse(format!(
                    "DT_TLSDESC_GOT is address {got:#x}, outside the memory of every writable PT_LOAD segment"
                ));
            }
        }
        if let Some(plt) = self.dynamic.get(DT_TLSDESC_PLT) {
            self.image.require_code("DT_TLSDESC_PLT", plt)?;
        }
        Ok(())
    }
}
