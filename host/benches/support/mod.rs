//! Shared set-up for the benchmarks: release builds of the plugins, and
//! same-run ratio measurement.

#![allow(dead_code)] // each bench binary uses part of it

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use plugboard_host::testing::build_cdylibs_with_profile;

/// The workspace root.
pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The release build of a plugin package.
pub(crate) fn release_library(package: &str) -> PathBuf {
    let built = build_cdylibs_with_profile(workspace(), &[package], "release")
        .unwrap_or_else(|e| panic!("building {package}: {e}"));
    built[package].clone()
}

/// A host like the demo application's (the tests' own set-up).
pub(crate) use plugboard_tests::demo_builder;

/// A release build of a binary target, `cargo build --release <args>`
/// (e.g. `["-p", "demo-app"]` or `["-p", "plugboard-host", "--example",
/// "dlopen_all"]`), and the path of the executable named `name`.
pub(crate) fn release_binary(args: &[&str], name: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .current_dir(workspace())
        .args(["build", "--release", "--message-format=json"])
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("running cargo: {e}"));
    assert!(output.status.success(), "cargo build {args:?} failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo build {args:?} made no executable `{name}`"))
}

/// The median, minimum and maximum of `samples`.
pub(crate) fn spread(samples: &mut [f64]) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    (
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
    )
}

/// A private (0700 on Unix) folder for benchmark copies.
pub(crate) use plugboard_tests::private_dir;

/// The median nanoseconds per call of `f` over `rounds` rounds of `calls` calls.
pub(crate) fn per_call(rounds: usize, calls: u64, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            start.elapsed().as_nanos() as f64 / calls as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Prints `name: subject vs baseline, ratio`.
pub(crate) fn ratio_line(name: &str, subject_ns: f64, baseline_ns: f64, baseline_name: &str) {
    println!(
        "{name:<34} {} vs {baseline_name} {}  ratio {:.2}x",
        show(subject_ns),
        show(baseline_ns),
        subject_ns / baseline_ns
    );
}

/// Nanoseconds, in a readable unit.
pub(crate) fn show(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:>9.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:>9.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:>9.2} ns")
    }
}

/// Wall time of `f`, in nanoseconds.
pub(crate) fn time_ns(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_nanos() as f64
}
