//! Loading cost, against a bare `dlopen` + `dlsym` of the same files, in
//! the same run:
//!
//! - 1, 10 and 100 distinct plugins (copies of a release build of
//!   `fixture-numbered` whose plugin names are rewritten) loaded by a host
//!   configured like the demo application: one file with `load_file`, a
//!   folder with `load_dir`; the wall time and the per-stage split;
//! - the process-level figure: the demo application's `list` over a folder
//!   of 100 plugins against a program that only `dlopen`s them;
//! - what the private copy alone costs (the floor of a vetted load);
//! - refusing a 255 MiB file that is not a library: time, bytes read, memory;
//! - the vet step alone, and the resident memory each loaded plugin adds.
//!
//! Libraries are never unloaded and `dlopen` caches by path, so every
//! measurement loads fresh copies, a fixed small number of times (not
//! criterion's open-ended sampling, which would map thousands of
//! libraries). Compare only figures from one run; the spread of the rounds
//! (min–max) is printed beside each median.
//!
//! `cargo bench -p plugboard-host --bench loading`
//!
//! Written for Linux: the bytes read and the memory figures come from
//! `/proc/self` (elsewhere they read 0), and the private copy's floor is a
//! sealed memfd (Linux only, not measured elsewhere).

mod support;

#[path = "loading/extra.rs"]
mod extra;

use std::{
    hint::black_box,
    path::{Path, PathBuf},
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use plugboard_demo::{Counter, Greeter, KeyValue};
use plugboard_host::{LoadTimings, PluginHost, PluginHostBuilder};

/// The plugin name of `fixture-numbered`, rewritten in each copy.
const PLACEHOLDER: &[u8] = b"numbered-000000";

/// A host configured like the demo application's (its three interfaces
/// registered, so their checks run at load time).
fn demo_app_host() -> PluginHost {
    demo_app_builder().build()
}

fn demo_app_builder() -> PluginHostBuilder {
    support::demo_builder()
        .interface::<dyn Greeter>()
        .interface::<dyn KeyValue>()
        .interface::<dyn Counter>()
}

/// Writes `n` copies of the library `bytes` into `dir`, each with a plugin
/// name no other copy of this process has.
fn numbered(bytes: &[u8], dir: &Path, n: usize) -> Vec<PathBuf> {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let at: Vec<usize> = bytes
        .windows(PLACEHOLDER.len())
        .enumerate()
        .filter(|(_, w)| *w == PLACEHOLDER)
        .map(|(i, _)| i)
        .collect();
    assert!(
        at.len() >= 2,
        "the name is in the metadata and the plugin table"
    );
    (0..n)
        .map(|i| {
            let number = NEXT.fetch_add(1, Ordering::Relaxed);
            let name = format!("numbered-{number:06}");
            let mut copy = bytes.to_vec();
            for &offset in &at {
                copy[offset..offset + PLACEHOLDER.len()].copy_from_slice(name.as_bytes());
            }
            let file = dir.join(format!(
                "{}plugin{i:04}{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ));
            std::fs::write(&file, copy).unwrap();
            file
        })
        .collect()
}

/// `dlopen` + `dlsym` of the root symbol of each file, in nanoseconds.
fn bare_dlopen(files: &[PathBuf]) -> f64 {
    let symbol = plugboard_interface::__private::ROOT_SYMBOL.as_bytes();
    support::time_ns(|| {
        for file in files {
            // SAFETY: our benchmark fixture; never unloaded.
            let lib = Box::leak(Box::new(unsafe { libloading::Library::new(file) }.unwrap()));
            // SAFETY: only the address is looked up.
            black_box(*unsafe { lib.get::<*const u8>(symbol) }.unwrap());
        }
    })
}

/// One file with `load_file`, more with `load_dir`: the wall time, the sum
/// of each stage over the files, and how long listing the folder took.
fn plugboard_load(
    dir: &Path,
    files: &[PathBuf],
    hosts: &mut Vec<PluginHost>,
) -> (f64, LoadTimings, Duration) {
    let host = demo_app_host();
    let mut stages = LoadTimings::default();
    let mut discover = Duration::ZERO;
    let ns = support::time_ns(|| {
        if let [file] = files {
            stages = host.load_file(file).unwrap().timings;
        } else {
            let report = host.load_dir(dir);
            assert!(report.all_loaded(), "{report}");
            discover = report.discover;
            for library in report.loaded() {
                stages += library.timings;
            }
        }
    });
    hosts.push(host);
    (ns, stages, discover)
}

/// The table of full loads against bare `dlopen`; returns the median bare
/// `dlopen` of one plugin.
fn loading_table(bytes: &[u8], hosts: &mut Vec<PluginHost>) -> f64 {
    println!("\n== loading: a host like demo-app's vs bare dlopen+dlsym of the same files ==");
    println!("(wall: median of the rounds; ratio: median (min–max) of the rounds' ratios;");
    println!(" stages: per plugin, summed over threads, so they may add up to more than the wall)");
    println!(
        "{:<11} {:>9} {:>9} {:>20} | {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "",
        "plugboard",
        "bare",
        "ratio",
        "discover",
        "vet",
        "handshk",
        "copy",
        "dlopen",
        "layout",
        "ifaces",
        "init"
    );
    let mut bare_one = 0.0;
    for (n, rounds) in [(1usize, 11usize), (10, 5), (100, 3)] {
        let (mut bare, mut full, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let mut stages = LoadTimings::default();
        let mut discover = Duration::ZERO;
        for round in 0..rounds {
            let (bare_dir, plug_dir) = (support::private_dir(), support::private_dir());
            let bare_files = numbered(bytes, bare_dir.path(), n);
            let plug_files = numbered(bytes, plug_dir.path(), n);
            // Alternate which goes first, so neither always finds the
            // other's effects (page cache, allocator) first.
            let (b, (f, s, d)) = if round % 2 == 0 {
                let b = bare_dlopen(&bare_files);
                (b, plugboard_load(plug_dir.path(), &plug_files, hosts))
            } else {
                let f = plugboard_load(plug_dir.path(), &plug_files, hosts);
                (bare_dlopen(&bare_files), f)
            };
            bare.push(b);
            full.push(f);
            ratios.push(f / b);
            stages += s;
            discover += d;
        }
        let (b, _, _) = support::spread(&mut bare);
        let (f, _, _) = support::spread(&mut full);
        let (r, r_min, r_max) = support::spread(&mut ratios);
        if n == 1 {
            bare_one = b;
        }
        let per = |d: Duration| short(d.as_nanos() as f64 / (n * rounds) as f64);
        println!(
            "{:<11} {:>9} {:>9} {:>20} | {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            format!("{n} plugin{}", if n == 1 { "" } else { "s" }),
            short(f),
            short(b),
            format!("{r:.2}x ({r_min:.2}–{r_max:.2})"),
            per(discover),
            per(stages.vet),
            per(stages.handshake),
            per(stages.copy),
            per(stages.dlopen),
            per(stages.layout),
            per(stages.interfaces),
            per(stages.init),
        );
    }
    bare_one
}

/// Nanoseconds in a short unit.
fn short(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.1}ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.0}µs", ns / 1_000.0)
    } else {
        format!("{ns:.0}ns")
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and friends: nothing to list.
    }
    let lib = support::release_library("fixture-numbered");
    let bytes = std::fs::read(&lib).unwrap();
    println!(
        "plugin file: {} ({} KiB, release build)",
        lib.display(),
        bytes.len() / 1024
    );
    // First, while this process is small: its peak memory shows what
    // refusing a large file costs.
    extra::refusals();

    let mut hosts = Vec::new();
    let bare_one = loading_table(&bytes, &mut hosts);
    #[cfg(target_os = "linux")]
    extra::copy_floor(&bytes, bare_one);
    #[cfg(not(target_os = "linux"))]
    let _ = bare_one; // the floor is a memfd's (Linux)
    extra::process_level(|dir, n| {
        numbered(&bytes, dir, n);
    });

    println!("\n== the vet step alone (inspect_file: read, object checks, metadata, SHA-256) ==");
    let (vet_dir, bare_dir) = (support::private_dir(), support::private_dir());
    let vet_files = numbered(&bytes, vet_dir.path(), 20);
    let bare_files = numbered(&bytes, bare_dir.path(), 20);
    let host = demo_app_host();
    let vet = support::time_ns(|| {
        for f in &vet_files {
            black_box(host.inspect_file(f).unwrap().1.unwrap());
        }
    }) / 20.0;
    let bare = bare_dlopen(&bare_files) / 20.0;
    support::ratio_line("vet (inspect_file), per file", vet, bare, "bare dlopen");

    extra::memory_per_plugin(
        |dir, n| numbered(&bytes, dir, n),
        bare_dlopen,
        |dir| {
            let host = demo_app_host();
            assert!(host.load_dir(dir).all_loaded());
            hosts.push(host);
        },
    );
}
