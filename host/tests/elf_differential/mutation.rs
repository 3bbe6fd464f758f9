//! The mutations of the differential test: header fields of an ELF64
//! little-endian plugin (`e_phnum`, `e_phoff`, `e_phentsize`, the type,
//! offset, address and sizes of random program headers, the values — and
//! now and then the tags — of random dynamic entries), as proptest
//! strategies.

use proptest::prelude::*;

// Dynamic tags whose values are the entry points of init and fini code
// (see the module comment of `elf_differential.rs`).
pub(crate) const DT_INIT: u64 = 12;
pub(crate) const DT_FINI: u64 = 13;

/// Where the fields of the original file are (ELF64, little-endian).
pub(crate) struct Layout {
    pub(crate) len: u64,
    pub(crate) phoff: u64,
    pub(crate) phnum: usize,
    /// File offset and tag of each dynamic entry up to DT_NULL.
    pub(crate) dynamic: Vec<(u64, u64)>,
}

pub(crate) fn le(bytes: &[u8], at: u64, size: usize) -> u64 {
    let at = at as usize;
    bytes[at..at + size]
        .iter()
        .rev()
        .fold(0, |v, &b| v << 8 | u64::from(b))
}

pub(crate) fn put(bytes: &mut [u8], at: u64, size: usize, value: u64) {
    if let Some(field) = usize::try_from(at)
        .ok()
        .and_then(|at| bytes.get_mut(at..at + size))
    {
        field.copy_from_slice(&value.to_le_bytes()[..size]);
    }
}

impl Layout {
    pub(crate) fn of(bytes: &[u8]) -> Self {
        assert_eq!(
            &bytes[..6],
            b"\x7fELF\x02\x01",
            "an ELF64 little-endian plugin"
        );
        let phoff = le(bytes, 32, 8);
        let phnum = le(bytes, 56, 2) as usize;
        let dynamic_ph = (0..phnum)
            .map(|i| phoff + 56 * i as u64)
            .find(|&at| le(bytes, at, 4) == 2)
            .expect("a PT_DYNAMIC header");
        let (start, size) = (le(bytes, dynamic_ph + 8, 8), le(bytes, dynamic_ph + 32, 8));
        let dynamic = (start..start + size)
            .step_by(16)
            .map(|at| (at, le(bytes, at, 8)))
            .take_while(|&(_, tag)| tag != 0)
            .collect();
        Self {
            len: bytes.len() as u64,
            phoff,
            phnum,
            dynamic,
        }
    }
}

/// A new value for a field.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// Exactly this.
    Is(u64),
    /// The old value plus this (wrapping).
    Plus(i64),
}

impl Value {
    pub(crate) fn apply(&self, old: u64) -> u64 {
        match *self {
            Self::Is(v) => v,
            Self::Plus(d) => old.wrapping_add_signed(d),
        }
    }
    /// Whether the new value may land near the old one.
    pub(crate) fn is_near(&self) -> bool {
        matches!(self, Self::Plus(_))
    }
}

/// One change to the file.
#[derive(Clone, Debug)]
pub(crate) enum Mutation {
    Phnum(u16),
    Phoff(Value),
    Phentsize(u16),
    /// Field at byte `field` (size `size`) of program header `index % phnum`.
    Phdr {
        index: usize,
        field: u64,
        size: usize,
        value: Value,
    },
    /// The value of dynamic entry `index % count`.
    DynValue {
        index: usize,
        value: Value,
    },
    /// The tag of dynamic entry `index % count`.
    DynTag {
        index: usize,
        tag: u64,
    },
}

impl Mutation {
    pub(crate) fn apply(&self, bytes: &mut [u8], layout: &Layout) {
        match self {
            Self::Phnum(n) => put(bytes, 56, 2, u64::from(*n)),
            Self::Phentsize(n) => put(bytes, 54, 2, u64::from(*n)),
            Self::Phoff(value) => put(bytes, 32, 8, value.apply(layout.phoff)),
            Self::Phdr {
                index,
                field,
                size,
                value,
            } => {
                let at = layout.phoff + 56 * (index % layout.phnum) as u64 + field;
                let old = le(bytes, at, *size);
                put(bytes, at, *size, value.apply(old));
            }
            Self::DynValue { index, value } => {
                let (at, tag) = layout.dynamic[index % layout.dynamic.len()];
                let code = matches!(tag, DT_INIT | DT_FINI);
                if code && (value.is_near() || matches!(value, Value::Is(v) if *v < 2 * layout.len))
                {
                    // Where init code is, is the plugin's business (see above).
                    return;
                }
                let old = le(bytes, at + 8, 8);
                put(bytes, at + 8, 8, value.apply(old));
            }
            Self::DynTag { index, tag } => {
                let (at, _) = layout.dynamic[index % layout.dynamic.len()];
                put(bytes, at, 8, *tag);
            }
        }
    }
}

/// New values: far, near (a few entries or pages away), inside the file,
/// and boundary values.
pub(crate) fn value(len: u64) -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::Is),
        (-64i64..=64).prop_map(|d| Value::Plus(d * 8)),
        (-16i64..=16).prop_map(|d| Value::Plus(d * 4096)),
        (-4096i64..=4096).prop_map(Value::Plus),
        (0..2 * len).prop_map(Value::Is),
        prop::sample::select(vec![
            0,
            1,
            8,
            0xffff,
            u64::from(u32::MAX),
            u64::MAX,
            len - 1,
            len,
            len + (64 << 20),
        ])
        .prop_map(Value::Is),
    ]
}

pub(crate) fn mutation(layout: &Layout) -> impl Strategy<Value = Mutation> {
    let len = layout.len;
    let p_type = prop_oneof![
        prop::sample::select(vec![
            0u64,
            1,
            2,
            4,
            6,
            7,
            0x6474_e550,
            0x6474_e551,
            0x6474_e552,
            0x6474_e553
        ])
        .prop_map(Value::Is),
        any::<u32>().prop_map(|t| Value::Is(t.into())),
    ];
    // (byte, size) of p_offset, p_vaddr, p_filesz, p_memsz.
    let phdr_field = prop::sample::select(vec![8u64, 16, 32, 40]);
    let tags = prop::sample::select(vec![
        0u64,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        14,
        15,
        17,
        20,
        21,
        22,
        23,
        24,
        29,
        30,
        35,
        36,
        37,
        0x6fff_fef5,
        0x6fff_fff0,
        0x6fff_fff9,
        0x6fff_fffb,
        0x6fff_fffc,
        0x6fff_fffe,
        0x6fff_ffff,
    ]);
    prop_oneof![
        1 => prop_oneof![
            prop::sample::select(vec![0u16, 1, 2, 0xffff, 0xfffe, 256, 257]),
            any::<u16>(),
        ]
        .prop_map(Mutation::Phnum),
        1 => value(len).prop_map(Mutation::Phoff),
        1 => prop::sample::select(vec![0u16, 32, 55, 57, 64, 0xffff]).prop_map(Mutation::Phentsize),
        3 => (any::<usize>(), p_type).prop_map(|(index, value)| Mutation::Phdr {
            index,
            field: 0,
            size: 4,
            value,
        }),
        8 => (any::<usize>(), phdr_field, value(len)).prop_map(|(index, field, value)| {
            Mutation::Phdr {
                index,
                field,
                size: 8,
                value,
            }
        }),
        10 => (any::<usize>(), value(len))
            .prop_map(|(index, value)| Mutation::DynValue { index, value }),
        2 => (any::<usize>(), tags).prop_map(|(index, tag)| Mutation::DynTag { index, tag }),
    ]
}
