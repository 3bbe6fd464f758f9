//! The dynamic section, read as `elf_get_dynamic_info`
//! (`elf/get-dynamic-info.h`) reads it.

use std::collections::BTreeMap;

use super::*;

pub(super) struct Dynamic {
    /// Tag → (entry index, value), for the tags that appear once.
    pub(super) tags: BTreeMap<u64, (usize, u64)>,
    /// String-valued tags that may repeat: (tag, entry index, offset).
    pub(super) names: Vec<(u64, usize, u64)>,
}

impl Dynamic {
    pub(super) fn read(image: &Image<'_>, phdrs: &[Phdr]) -> Check<Self> {
        let l = image.layout;
        let Some(dynamic) = unique(phdrs, PT_DYNAMIC)? else {
            return refuse("the file has no PT_DYNAMIC program header: a shared library needs one");
        };
        let name = dynamic.name();
        if dynamic.filesz == 0 {
            return refuse(format!(
                "{name} is empty (p_filesz 0): glibc refuses it as a separate debug file"
            ));
        }
        dynamic.require_in_file(image.file_len)?;
        if !dynamic.filesz.is_multiple_of(l.dyn_size()) {
            return refuse(format!(
                "{name}'s size {} is not a multiple of the {}-byte dynamic entry",
                dynamic.filesz,
                l.dyn_size()
            ));
        }
        let data = same_bytes(image, dynamic, dynamic.filesz, "the dynamic section")?;
        // glibc adds the load address to the entries in place unless
        // PT_DYNAMIC is read-only.
        if dynamic.flags & PF_W != 0 {
            let load = image.file_backed_load(dynamic.vaddr, dynamic.filesz);
            if let Some(load) = load.filter(|l| l.flags & PF_W == 0) {
                return refuse(format!(
                    "{name} is marked writable, so the loader writes to it, but it lies in {}, which is read-only",
                    load.name()
                ));
            }
        }

        let mut tags: BTreeMap<u64, (usize, u64)> = BTreeMap::new();
        let mut names = Vec::new();
        let count = dynamic.filesz / l.dyn_size();
        for index in 0..count {
            let at = index * l.dyn_size();
            let tag = l.addr(data, at).unwrap_or(0);
            let value = l.addr(data, at + l.word()).unwrap_or(0);
            let index = index as usize;
            if tag == DT_NULL {
                return Ok(Self { tags, names });
            }
            if matches!(tag, DT_NEEDED | DT_AUXILIARY | DT_FILTER) {
                names.push((tag, index, value));
            } else if must_be_unique(tag) {
                if let Some((first, _)) = tags.insert(tag, (index, value)) {
                    return refuse(format!(
                        "dynamic entries {first} and {index} are both {}: glibc's loader uses the last one, other readers the first",
                        tag_name(tag)
                    ));
                }
            }
        }
        refuse(format!(
            "{name} has no DT_NULL entry among its {count} entries: the loader would read on past its end"
        ))
    }

    pub(super) fn get(&self, tag: u64) -> Option<u64> {
        self.tags.get(&tag).map(|&(_, v)| v)
    }

    /// The value of `tag`, which the loader dereferences when `because` is
    /// present.
    pub(super) fn require(&self, tag: u64, because: u64) -> Check<u64> {
        self.get(tag).ok_or_else(|| ElfProblem {
            reason: format!(
                "the dynamic section has {} but no {}, which the loader reads with it",
                tag_name(because),
                tag_name(tag)
            ),
        })
    }
}
