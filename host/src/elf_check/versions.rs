//! Symbol versioning as `_dl_check_map_versions` (`elf/dl-version.c`)
//! follows it.

use std::collections::BTreeSet;

use super::*;

impl<'i, 'a> DynamicCheck<'i, 'a> {
    /// The version need and definition records (`_dl_check_map_versions`)
    /// and the version index of every symbol.
    pub(super) fn versions(&self, nsyms: u64) -> Check<()> {
        let image = self.image;
        let l = image.layout;
        let needed: BTreeSet<&[u8]> = self
            .dynamic
            .names
            .iter()
            .filter(|(tag, _, _)| *tag == DT_NEEDED)
            .filter_map(|&(_, _, offset)| self.string("", offset).ok())
            .collect();
        let mut highest = 0u64;
        let mut records = 0usize;
        let mut count = |what: &str| {
            records += 1;
            if records > MAX_VERSION_RECORDS {
                refuse(format!(
                    "the {what} records go on for more than {MAX_VERSION_RECORDS} entries: their links loop"
                ))
            } else {
                Ok(())
            }
        };

        if let Some(mut at) = self.dynamic.get(DT_VERNEED) {
            loop {
                count("DT_VERNEED")?;
                let rec = image.require("a DT_VERNEED record", at, 16)?;
                let version = l.u16(rec, 0).unwrap_or(0);
                if version != 1 {
                    return refuse(format!(
                        "the DT_VERNEED record at {at:#x} has version {version}, not 1"
                    ));
                }
                let file = self.string(
                    "the file of a DT_VERNEED record",
                    u64::from(l.u32(rec, 4).unwrap_or(0)),
                )?;
                if !needed.contains(file) {
                    return refuse(format!(
                        "a DT_VERNEED record names {}, which is not a DT_NEEDED library (glibc asserts it is)",
                        String::from_utf8_lossy(file)
                    ));
                }
                let mut aux = at.checked_add(u64::from(l.u32(rec, 8).unwrap_or(0)));
                loop {
                    count("DT_VERNEED")?;
                    let addr = aux.unwrap_or(u64::MAX);
                    let rec = image.require("a DT_VERNEED auxiliary record", addr, 16)?;
                    self.string(
                        "a needed version's name",
                        u64::from(l.u32(rec, 8).unwrap_or(0)),
                    )?;
                    highest = highest.max(u64::from(l.u16(rec, 6).unwrap_or(0) & 0x7fff));
                    match l.u32(rec, 12).unwrap_or(0) {
                        0 => break,
                        next => aux = addr.checked_add(u64::from(next)),
                    }
                }
                match l.u32(rec, 12).unwrap_or(0) {
                    0 => break,
                    next => at = at.saturating_add(u64::from(next)),
                }
            }
        }

        if let Some(mut at) = self.dynamic.get(DT_VERDEF) {
            loop {
                count("DT_VERDEF")?;
                let rec = image.require("a DT_VERDEF record", at, 20)?;
                highest = highest.max(u64::from(l.u16(rec, 4).unwrap_or(0) & 0x7fff));
                let aux = at.saturating_add(u64::from(l.u32(rec, 12).unwrap_or(0)));
                let aux = image.require("a DT_VERDEF auxiliary record", aux, 8)?;
                self.string(
                    "a defined version's name",
                    u64::from(l.u32(aux, 0).unwrap_or(0)),
                )?;
                match l.u32(rec, 16).unwrap_or(0) {
                    0 => break,
                    next => at = at.saturating_add(u64::from(next)),
                }
            }
        }

        match self.dynamic.get(DT_VERSYM) {
            Some(versym) => {
                if highest == 0 {
                    return refuse(
                        "the dynamic section has DT_VERSYM but no version records with an index above 0: the loader would index a missing version table",
                    );
                }
                let table = image.require(
                    &format!("the symbol version table (DT_VERSYM, {nsyms} symbols)"),
                    versym,
                    nsyms.saturating_mul(2),
                )?;
                for i in 0..nsyms {
                    let index = u64::from(l.u16(table, 2 * i).unwrap_or(0) & 0x7fff);
                    if index > highest {
                        return refuse(format!(
                            "symbol {i} has version index {index}, above the highest version index {highest}"
                        ));
                    }
                }
            }
            None if highest > 0 => {
                return refuse(
                    "the dynamic section has version records but no DT_VERSYM, which the loader then reads",
                )
            }
            None => {}
        }
        Ok(())
    }
}
