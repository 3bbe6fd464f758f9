//! Differential test of the vet's ELF load-safety check against glibc's
//! loader itself.
//!
//! Header fields of the real greeter plugin are mutated (`e_phnum`,
//! `e_phoff`, `e_phentsize`, the type, offset, address and sizes of random
//! program headers, the values — and now and then the tags — of random
//! dynamic entries). Every mutant the check accepts is `dlopen`ed in a child
//! process, which must not die of a signal: the check exists so that the
//! host never crashes inside `dlopen`. `dlopen` failing cleanly is fine, and
//! a mutant the check refuses is not loaded at all (refusing too much is
//! safe; accepting a crash is the bug this looks for).
//!
//! The child is this test binary run again (`--exact <this test>`), told by
//! an environment variable to load one file and exit 0 (loaded) or 1
//! (refused by `dlopen`). The check is `pub(crate)`; the test reaches it
//! through the test-only `plugboard_host::__elf_check`.
//!
//! Mutations of `DT_INIT` and `DT_FINI` only ever move them far away: moved
//! a few bytes, such a pointer still names code of the plugin, which then
//! runs from the wrong entry point — the plugin's code misbehaving, which no
//! header check can tell from a good plugin. (The init and fini arrays are
//! mutated freely: the check follows their relocations, and cross-checks
//! them against the section headers.)
//!
//! `PLUGBOARD_ELF_CASES` sets the number of cases (default 256, about a
//! second: most mutants are refused, and only accepted ones start a child).

use std::{
    cell::Cell,
    os::unix::process::ExitStatusExt,
    path::Path,
    process::{Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};

/// Set in the child: the file to load.
const CHILD_ENV: &str = "PLUGBOARD_ELF_DIFFERENTIAL_LOAD";
/// This test's name, for the child's `--exact`.
const TEST_NAME: &str = "mutants_the_check_accepts_do_not_crash_dlopen";

// Dynamic tags whose values are the entry points of init and fini code
// (see the module comment).
const DT_INIT: u64 = 12;
const DT_FINI: u64 = 13;

/// Where the fields of the original file are (ELF64, little-endian).
struct Layout {
    len: u64,
    phoff: u64,
    phnum: usize,
    /// File offset and tag of each dynamic entry up to DT_NULL.
    dynamic: Vec<(u64, u64)>,
}

fn le(bytes: &[u8], at: u64, size: usize) -> u64 {
    let at = at as usize;
    bytes[at..at + size]
        .iter()
        .rev()
        .fold(0, |v, &b| v << 8 | u64::from(b))
}

fn put(bytes: &mut [u8], at: u64, size: usize, value: u64) {
    if let Some(field) = usize::try_from(at)
        .ok()
        .and_then(|at| bytes.get_mut(at..at + size))
    {
        field.copy_from_slice(&value.to_le_bytes()[..size]);
    }
}

impl Layout {
    fn of(bytes: &[u8]) -> Self {
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
enum Value {
    /// Exactly this.
    Is(u64),
    /// The old value plus this (wrapping).
    Plus(i64),
}

impl Value {
    fn apply(&self, old: u64) -> u64 {
        match *self {
            Self::Is(v) => v,
            Self::Plus(d) => old.wrapping_add_signed(d),
        }
    }
    /// Whether the new value may land near the old one.
    fn is_near(&self) -> bool {
        matches!(self, Self::Plus(_))
    }
}

/// One change to the file.
#[derive(Clone, Debug)]
enum Mutation {
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
    fn apply(&self, bytes: &mut [u8], layout: &Layout) {
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
fn value(len: u64) -> impl Strategy<Value = Value> {
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

fn mutation(layout: &Layout) -> impl Strategy<Value = Mutation> {
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

/// Loads `path` in a child process (this test binary run again).
fn load_in_child(path: &Path) -> ExitStatus {
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the child");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "loading {} hung for 30 s (the mutant is kept there)",
                path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// In the child: load the file and report.
fn child(path: &std::ffi::OsStr) -> ! {
    // SAFETY: this process exists to run whatever the library's constructors
    // do; the parent watches how it ends.
    match unsafe { libloading::Library::new(path) } {
        Ok(library) => {
            std::mem::forget(library);
            std::process::exit(0)
        }
        Err(_) => std::process::exit(1),
    }
}

#[test]
fn mutants_the_check_accepts_do_not_crash_dlopen() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        child(&path);
    }
    let started = Instant::now();
    let original = std::fs::read(plugboard_tests::library("greeter")).expect("the greeter plugin");
    let layout = Layout::of(&original);
    assert_eq!(plugboard_host::__elf_check(&original), Ok(()));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("mutant.so");

    // The harness sees a crash: attack (b) of the vet's unit tests (the
    // PT_DYNAMIC address moved outside every PT_LOAD), loaded without the
    // check, kills the child.
    let mut attack = original.clone();
    let dynamic_ph = (0..layout.phnum)
        .map(|i| layout.phoff + 56 * i as u64)
        .find(|&at| le(&attack, at, 4) == 2)
        .unwrap();
    put(&mut attack, dynamic_ph + 16, 8, 0x4000_0000);
    put(&mut attack, dynamic_ph + 24, 8, 0x4000_0000);
    assert!(plugboard_host::__elf_check(&attack).is_err());
    std::fs::write(&file, &attack).unwrap();
    let status = load_in_child(&file);
    assert!(
        status.signal().is_some(),
        "the harness should see dlopen crash on the unvetted attack, got {status}"
    );

    let cases = std::env::var("PLUGBOARD_ELF_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let (refused, loaded, failed) = (Cell::new(0u32), Cell::new(0u32), Cell::new(0u32));
    let strategy = prop::collection::vec(mutation(&layout), 1..=3);
    let result = runner.run(&strategy, |mutations| {
        let mut bytes = original.clone();
        for m in &mutations {
            m.apply(&mut bytes, &layout);
        }
        if plugboard_host::__elf_check(&bytes).is_err() {
            refused.set(refused.get() + 1);
            return Ok(());
        }
        std::fs::write(&file, &bytes).expect("writing the mutant");
        let status = load_in_child(&file);
        match (status.code(), status.signal()) {
            (Some(0), _) => loaded.set(loaded.get() + 1),
            (Some(_), _) => failed.set(failed.get() + 1),
            (None, signal) => {
                return Err(TestCaseError::fail(format!(
                    "the check accepted a mutant that killed dlopen with signal {signal:?}: {mutations:?}"
                )))
            }
        }
        Ok(())
    });
    println!(
        "{cases} cases in {:.1?}: {} refused by the check; of those accepted, {} loaded and {} were refused by dlopen",
        started.elapsed(),
        refused.get(),
        loaded.get(),
        failed.get()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
