//! Differential test of the vet's ELF load-safety check against glibc's
//! loader itself.
//!
//! Header fields of the real greeter plugin are mutated (`e_phnum`,
//! `e_phoff`, `e_phentsize`, the type, offset, address and sizes of random
//! program headers, the values — and now and then the tags — of random
//! dynamic entries). Every mutant the check accepts is `dlopen`ed in a child
//! process — as a host loads it, only the leading bytes the check says the
//! loader reads or maps — which must not die of a signal: the check exists so that the
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
//! `PLUGBOARD_FUZZ_SECONDS=N` runs rounds of 64 cases, each from a new
//! seed, for N seconds instead (what `.ci/run` does). The mutations are in
//! `elf_differential/mutation.rs`.
//!
//! Unix only: it measures the ELF check against `dlopen`, and tells a crash
//! by the child's signal. Windows plugins are PE files, loaded by
//! `LoadLibrary`; there the vet refuses an ELF file as another platform's.
#![cfg(unix)]

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

#[path = "elf_differential/mutation.rs"]
mod mutation;

use mutation::{le, mutation, put, Layout, Mutation};

/// Set in the child: the file to load.
const CHILD_ENV: &str = "PLUGBOARD_ELF_DIFFERENTIAL_LOAD";
/// This test's name, for the child's `--exact`.
const TEST_NAME: &str = "mutants_the_check_accepts_do_not_crash_dlopen";

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
    assert!(plugboard_host::__elf_check(&original).is_ok());
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

    let budget = std::env::var("PLUGBOARD_FUZZ_SECONDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .map(Duration::from_secs);
    let cases = match budget {
        // Rounds of this many cases, each from a new seed, until the time
        // is spent.
        Some(_) => 64,
        None => std::env::var("PLUGBOARD_ELF_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
    };
    let (refused, loaded, failed) = (Cell::new(0u32), Cell::new(0u32), Cell::new(0u32));
    let strategy = prop::collection::vec(mutation(&layout), 1..=3);
    let one_case = |mutations: Vec<Mutation>| -> Result<(), TestCaseError> {
        let mut bytes = original.clone();
        for m in &mutations {
            m.apply(&mut bytes, &layout);
        }
        let Ok(extent) = plugboard_host::__elf_check(&bytes) else {
            refused.set(refused.get() + 1);
            return Ok(());
        };
        // What a host loads: the bytes up to where the loader stops reading.
        std::fs::write(&file, &bytes[..extent as usize]).expect("writing the mutant");
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
    };
    let mut rounds = 0;
    let result = loop {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&strategy, one_case);
        rounds += 1;
        let spent = budget.is_none_or(|budget| started.elapsed() >= budget);
        if result.is_err() || spent {
            break result;
        }
    };
    println!(
        "{} cases in {:.1?}: {} refused by the check; of those accepted, {} loaded and {} were refused by dlopen",
        rounds * cases,
        started.elapsed(),
        refused.get(),
        loaded.get(),
        failed.get()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
