//! Loading cost: the full plugboard pipeline (vet, private copy, dlopen,
//! checks, init) against a bare `dlopen` + `dlsym` of the same files, for 1,
//! 10 and 100 distinct files; the per-stage split; the vet step alone; and
//! the resident memory each loaded plugin adds.
//!
//! Libraries are never unloaded and `dlopen` caches by path, so every
//! measurement loads fresh copies and each is measured a fixed, small number
//! of times (not criterion's open-ended sampling, which would map thousands
//! of libraries). Compare only figures from one run.
//!
//! `cargo bench -p plugboard-host --bench loading`

mod support;

use std::{hint::black_box, path::PathBuf};

use plugboard_demo::Calc;
use plugboard_host::{LoadTimings, PluginHost};

/// `n` distinct copies of `lib` in a fresh private folder.
fn copies(lib: &std::path::Path, n: usize, tag: &str) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = support::private_dir();
    let files = (0..n)
        .map(|i| {
            let file = dir.path().join(format!("lib{tag}{i}.so"));
            std::fs::copy(lib, &file).unwrap();
            file
        })
        .collect();
    (dir, files)
}

fn bare_dlopen(files: &[PathBuf]) -> f64 {
    support::time_ns(|| {
        for file in files {
            // SAFETY: our benchmark fixture; never unloaded.
            let lib = Box::leak(Box::new(unsafe { libloading::Library::new(file) }.unwrap()));
            // SAFETY: `calc_add` has this signature in the fixture.
            black_box(
                *unsafe { lib.get::<extern "C" fn(u64, u64) -> u64>(b"calc_add\0") }.unwrap(),
            );
        }
    })
}

/// Loads each file into its own host (the copies share a plugin name).
fn plugboard_load(files: &[PathBuf], hosts: &mut Vec<PluginHost>) -> (f64, LoadTimings) {
    let mut sum = LoadTimings::default();
    let ns = support::time_ns(|| {
        for file in files {
            let host = support::demo_builder().interface::<dyn Calc>().build();
            let info = host.load_file(file).unwrap();
            sum += info.timings;
            hosts.push(host);
        }
    });
    (ns, sum)
}

/// (anonymous, file-backed, shared-memory) resident KiB of this process.
fn rss_kib() -> (i64, i64, i64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("RssAnon:"), field("RssFile:"), field("RssShmem:"))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and friends: nothing to list.
    }
    let lib = support::release_library("fixture-calc");
    let size = std::fs::metadata(&lib).unwrap().len();
    println!(
        "plugin file: {} ({} KiB, release build)",
        lib.display(),
        size / 1024
    );
    let mut hosts = Vec::new();

    println!(
        "\n== loading: full pipeline vs bare dlopen+dlsym of the same files (median of rounds) =="
    );
    for (n, rounds) in [(1usize, 11usize), (10, 5), (100, 1)] {
        let mut bare = Vec::new();
        let mut full = Vec::new();
        let mut stages = LoadTimings::default();
        for round in 0..rounds {
            let (_a, bare_files) = copies(&lib, n, &format!("bare{n}r{round}-"));
            let (_b, plug_files) = copies(&lib, n, &format!("plug{n}r{round}-"));
            bare.push(bare_dlopen(&bare_files));
            let (ns, timings) = plugboard_load(&plug_files, &mut hosts);
            full.push(ns);
            stages = timings;
        }
        bare.sort_by(f64::total_cmp);
        full.sort_by(f64::total_cmp);
        let (bare, full) = (bare[bare.len() / 2], full[full.len() / 2]);
        support::ratio_line(&format!("{n} plugin(s), total"), full, bare, "bare");
        support::ratio_line(
            &format!("{n} plugin(s), per plugin"),
            full / n as f64,
            bare / n as f64,
            "bare",
        );
        let per = |d: std::time::Duration| support::show(d.as_nanos() as f64 / n as f64);
        println!(
            "  per-stage, per plugin: vet {}  handshake {}  copy {}  dlopen {}  layout {}  interfaces {}  init {}",
            per(stages.vet),
            per(stages.handshake),
            per(stages.copy),
            per(stages.dlopen),
            per(stages.layout),
            per(stages.interfaces),
            per(stages.init)
        );
    }

    println!(
        "\n== vet cost (read + object parse + metadata + SHA-256) vs bare dlopen, per plugin =="
    );
    let (_c, vet_files) = copies(&lib, 20, "vet-");
    let (_d, bare_files) = copies(&lib, 20, "vetbare-");
    let host = support::demo_builder().build();
    let vet = support::time_ns(|| {
        for f in &vet_files {
            black_box(host.inspect_file(f).unwrap().1.unwrap());
        }
    }) / 20.0;
    let bare = bare_dlopen(&bare_files) / 20.0;
    support::ratio_line("vet (inspect_file)", vet, bare, "bare dlopen");

    println!("\n== resident memory added per loaded plugin (100 fresh copies each) ==");
    let (_e, plug_files) = copies(&lib, 100, "mem-plug-");
    let (_f, bare_files) = copies(&lib, 100, "mem-bare-");
    let before = rss_kib();
    plugboard_load(&plug_files, &mut hosts);
    let after = rss_kib();
    bare_dlopen(&bare_files);
    let after_bare = rss_kib();
    let per = |a: i64, b: i64| (a - b) as f64 / 100.0;
    println!(
        "plugboard: anon {:.1} KiB, file-backed {:.1} KiB, memfd copy (shmem) {:.1} KiB per plugin",
        per(after.0, before.0),
        per(after.1, before.1),
        per(after.2, before.2)
    );
    println!(
        "bare dlopen: anon {:.1} KiB, file-backed {:.1} KiB, shmem {:.1} KiB per plugin",
        per(after_bare.0, after.0),
        per(after_bare.1, after.1),
        per(after_bare.2, after.2)
    );
    println!("(the mapped file shows as shmem for plugboard's sealed memfd copies, as file-backed for bare dlopen)");
    drop(hosts);
}
