//! The vet's fuzz target on stable Rust, without cargo-fuzz: the whole
//! pre-load inspection (`plugboard_host::testing::inspect_bytes`: object
//! checks, the ELF loader check, root symbol, metadata) on mutants of real
//! plugin files and of issue 18's attacks. Whatever the bytes, it must
//! return a value or a typed refusal, never panic (the same property as
//! `host/fuzz/fuzz_targets/inspect_bytes.rs`, which needs nightly).
//!
//! The mutator knows where an ELF file keeps what the vet reads — the ELF
//! header, the program and section header tables, and the sections
//! themselves (dynamic section, symbol and string tables, hash tables,
//! relocations, versions, the metadata) — and changes bytes there: single
//! bytes and bits, fields set to boundary values, chunks copied from
//! elsewhere in the file, and truncations.
//!
//! By default it runs a fixed number of cases from a fixed seed, so a test
//! run is repeatable. `PLUGBOARD_FUZZ_SECONDS=N` runs for N seconds instead
//! (what `.ci/run` does), from `PLUGBOARD_FUZZ_SEED` or a seed taken from
//! the clock, printed. A failing input is written to
//! `target/fuzz-failures/` and named in the panic message.

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    path::PathBuf,
    time::{Duration, Instant},
};

use plugboard_host::testing::inspect_bytes;
use plugboard_tests::{attack, library};

/// Cases run when no time budget is given.
const DEFAULT_CASES: u32 = 300;

/// SplitMix64: small, fast, and good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number below `n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Byte ranges of an ELF64 little-endian file worth mutating: the ELF
/// header, the program and section header tables, and every section with
/// file contents (the small ones as likely as the large ones).
fn regions(bytes: &[u8]) -> Vec<(usize, usize)> {
    let field = |at: usize, size: usize| {
        bytes.get(at..at + size).map_or(0, |b| {
            b.iter().rev().fold(0u64, |v, &x| v << 8 | u64::from(x)) as usize
        })
    };
    let mut regions = vec![(0, 64)];
    let (phoff, phnum) = (field(32, 8), field(56, 2));
    regions.push((phoff, phoff + 56 * phnum));
    let (shoff, shnum) = (field(40, 8), field(60, 2));
    regions.push((shoff, shoff + 64 * shnum));
    for i in 0..shnum {
        let header = shoff + 64 * i;
        let (kind, offset, size) = (
            field(header + 4, 4),
            field(header + 24, 8),
            field(header + 32, 8),
        );
        // SHT_NOBITS has no file contents; skip empty and huge sections
        // (code: the vet does not read it).
        if kind != 8 && size > 0 && size < 1 << 20 {
            regions.push((offset, offset + size));
        }
    }
    regions.retain(|&(start, end)| start < end && end <= bytes.len());
    regions
}

/// Applies one random mutation inside one of `regions` (those still inside
/// the bytes, after a truncation).
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, regions: &[(usize, usize)]) {
    let regions: Vec<_> = regions
        .iter()
        .copied()
        .filter(|&(_, end)| end <= bytes.len())
        .collect();
    if regions.is_empty() {
        return;
    }
    let regions = &regions[..];
    let &(start, end) = rng.pick(regions);
    let at = start + rng.below((end - start) as u64) as usize;
    let len = bytes.len();
    const BOUNDARIES: [u64; 10] = [
        0,
        1,
        2,
        8,
        0x7f,
        0xff,
        0xffff,
        0x7fff_ffff,
        u32::MAX as u64,
        u64::MAX,
    ];
    match rng.below(8) {
        0 => bytes[at] = rng.next() as u8,
        1 => bytes[at] ^= 1 << rng.below(8),
        2 | 3 => {
            let size = *rng.pick(&[2usize, 4, 8]);
            let value = match rng.below(4) {
                0 => *rng.pick(&BOUNDARIES),
                1 => (len as u64)
                    .wrapping_add(rng.below(8192))
                    .wrapping_sub(4096),
                2 => rng.below(len as u64),
                _ => rng.next(),
            };
            if let Some(field) = bytes.get_mut(at..at + size) {
                field.copy_from_slice(&value.to_le_bytes()[..size]);
            }
        }
        4 | 5 => {
            // A chunk copied from another region (a table entry moved).
            let &(from_start, from_end) = rng.pick(regions);
            let from = from_start + rng.below((from_end - from_start) as u64) as usize;
            let size = (1 + rng.below(64) as usize).min(len - from).min(len - at);
            bytes.copy_within(from..from + size, at);
        }
        6 => bytes.truncate(at.max(1)),
        _ => {
            let value = *rng.pick(&BOUNDARIES);
            let size = *rng.pick(&[2usize, 4, 8]);
            let field = at & !(size - 1);
            if let Some(slot) = bytes.get_mut(field..field + size) {
                slot.copy_from_slice(&value.to_le_bytes()[..size]);
            }
        }
    }
}

/// Saves an input that made the target panic, for a reproduction.
fn save(bytes: &[u8], case: u64) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    std::fs::create_dir_all(&dir).expect("a folder for the failing input");
    let path = dir.join(format!("inspect_bytes-{case}.bin"));
    std::fs::write(&path, bytes).expect("writing the failing input");
    path
}

#[test]
fn inspecting_mutants_of_real_plugins_never_panics() {
    let greeter = std::fs::read(library("greeter")).unwrap();
    // The attacks patch an ELF file: Windows plugins are PE files.
    let attacks = if cfg!(windows) {
        Vec::new()
    } else {
        vec![
            attack::pn_xnum_with_a_load_past_the_end(&greeter),
            attack::dynamic_outside_every_load(&greeter),
        ]
    };
    let mut seeds: Vec<Vec<u8>> = attacks.clone();
    seeds.extend([
        std::fs::read(library("fixture-forged")).unwrap(),
        std::fs::read(library("fixture-not-a-plugin")).unwrap(),
        std::fs::read(library("kv")).unwrap(),
        greeter,
    ]);
    let seed_regions: Vec<_> = seeds.iter().map(|s| regions(s)).collect();
    // The seeds as they are: the attacks and the non-plugin are refused,
    // the rest (the forged library included) pass.
    let passes: Vec<bool> = seeds.iter().map(|s| inspect_bytes(s).is_ok()).collect();
    let mut expected = vec![false; attacks.len()];
    expected.extend([true, false, true, true]);
    assert_eq!(passes, expected);

    let budget = std::env::var("PLUGBOARD_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs);
    let rng_seed = std::env::var("PLUGBOARD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| match budget {
            Some(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64),
            None => 18,
        });
    let mut rng = Rng(rng_seed);
    let started = Instant::now();
    let (mut cases, mut accepted) = (0u64, 0u64);
    loop {
        let done = match budget {
            Some(budget) => started.elapsed() >= budget,
            None => cases >= u64::from(DEFAULT_CASES),
        };
        if done {
            break;
        }
        let which = rng.below(seeds.len() as u64) as usize;
        let mut bytes = seeds[which].clone();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut bytes, &seed_regions[which]);
        }
        match catch_unwind(AssertUnwindSafe(|| inspect_bytes(&bytes))) {
            Ok(result) => accepted += u64::from(result.is_ok()),
            Err(_) => panic!(
                "inspect_bytes panicked on case {cases} (seed {rng_seed}); the input is {}",
                save(&bytes, cases).display()
            ),
        }
        cases += 1;
    }
    println!(
        "{cases} mutants in {:.1?} (seed {rng_seed}): {accepted} accepted, none panicked",
        started.elapsed()
    );
}
