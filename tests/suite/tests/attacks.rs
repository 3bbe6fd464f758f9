//! Issue 18's attacks on a loading host, built the way they were found:
//! byte-patched copies of real plugins beside the good ones, and a real
//! duplicate whose constructor would leave a marker. Each runs in a process
//! of its own: a file the vet wrongly let through would kill that process
//! inside `dlopen`, and its open descriptors are counted without other
//! tests' threads opening files beside it.
// On Windows the byte-patched copies (of ELF files) are not built, and the
// helpers of that test are unused.
#![cfg_attr(windows, allow(unused_imports, dead_code))]

use std::fs;

use plugboard_demo::{Greeter, KeyValue};
use plugboard_host::{LoadErrorKind, Plugin};
#[cfg(unix)]
use plugboard_tests::open_descriptors;
use plugboard_tests::{
    attack, demo_builder, demo_dir, demo_host, library, rerun_in_child, Marker, PluginDir,
};

/// Attack 1: headers the loader reads differently. Each file is the
/// greeter with a few bytes changed; both passed the old vet and then
/// killed the host in `dlopen` (SIGBUS, SIGSEGV) with the good plugins in
/// the folder. They sort before the good plugins, so they are loaded first.
/// (Not on Windows: the patches are to an ELF file, and Windows plugins are
/// PE files.)
#[cfg(not(windows))]
#[test]
fn patched_program_headers_are_refused_and_the_good_plugins_still_load() {
    if rerun_in_child(
        "patched_program_headers_are_refused_and_the_good_plugins_still_load",
        &[],
    )
    .is_some()
    {
        return;
    }
    let dir = demo_dir();
    let greeter = fs::read(library("greeter")).unwrap();
    let pn_xnum = dir.write(
        "attack-a-pn-xnum",
        &attack::pn_xnum_with_a_load_past_the_end(&greeter),
    );
    let dynamic = dir.write(
        "attack-b-dynamic",
        &attack::dynamic_outside_every_load(&greeter),
    );
    let changed = |bytes: &[u8]| bytes.iter().zip(&greeter).filter(|(a, b)| a != b).count();
    assert!(changed(&fs::read(&dynamic).unwrap()) <= 16);
    assert!(changed(&fs::read(&pn_xnum).unwrap()) <= 16);

    let host = demo_host();
    let report = host.load_dir(dir.path());
    for file in [&pn_xnum, &dynamic] {
        let err = report
            .outcome(file)
            .and_then(|o| o.result.as_ref().err())
            .unwrap_or_else(|| panic!("{} was not refused: {report}", file.display()));
        assert!(
            matches!(err.kind(), LoadErrorKind::NotALibrary { .. }),
            "{err}"
        );
        // Nor does inspecting it (what `inspect` and `vet` do) call it loadable.
        let inspected = host.inspect_file(file).map(|_| ()).unwrap_err();
        assert!(
            matches!(inspected.kind(), LoadErrorKind::NotALibrary { .. }),
            "{inspected}"
        );
    }
    assert_eq!(report.loaded().count(), 5, "{report}");
    let greeter: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
    assert_eq!(greeter.greet("survivor").unwrap(), "Hello, survivor!");
    let kv: Plugin<dyn KeyValue> = host.dispense("kv").unwrap();
    kv.put("still", "here").unwrap();
    assert_eq!(kv.get("still").unwrap().as_deref(), Some("here"));
}

/// Attack 2: duplicates ran code. A library whose plugin name is taken must
/// be refused from the metadata read at vet time — its constructor never
/// runs, nothing of it is mapped — and must cost no descriptor; a library
/// that loads keeps none open either, so a folder of duplicates cannot
/// exhaust the host's descriptors for the good plugins after them.
#[test]
fn a_duplicate_never_runs_its_constructor_and_no_library_keeps_a_descriptor() {
    let Some(marker) = Marker::in_child(
        "a_duplicate_never_runs_its_constructor_and_no_library_keeps_a_descriptor",
    ) else {
        return;
    };
    let dir = PluginDir::new();
    let first = dir.add_as("fixture-marker", "a-marker");
    let duplicates: Vec<_> = (0..40)
        .map(|i| dir.add_as("fixture-marker", &format!("b-duplicate-{i:02}")))
        .collect();
    let after_them = dir.add_as("kv", "c-kv");

    let host = demo_host();
    // Whatever loading opens once per process (the loader's own caches)
    // is opened here, before counting.
    let warm_up = PluginDir::new();
    host.load_file(warm_up.add("greeter")).unwrap();
    // Descriptors are counted on Unix (Windows has handles, and no /proc).
    #[cfg(unix)]
    let before = open_descriptors();
    let report = host.load_dir(dir.path());
    #[cfg(unix)]
    let after = open_descriptors();

    assert!(report.outcome(&first).unwrap().result.is_ok(), "{report}");
    assert!(
        report.outcome(&after_them).unwrap().result.is_ok(),
        "{report}"
    );
    for file in &duplicates {
        let err = report.outcome(file).unwrap().result.as_ref().unwrap_err();
        assert!(
            matches!(err.kind(), LoadErrorKind::DuplicatePlugin { .. }),
            "{err}"
        );
    }
    assert_eq!(
        marker.runs(),
        1,
        "only the first copy's constructor may run, not a duplicate's"
    );
    #[cfg(unix)]
    assert_eq!(
        after, before,
        "descriptors kept open by 2 loaded libraries and 40 refused duplicates"
    );
}

/// Finding 7: metadata is not proof. A library not built with plugboard,
/// carrying a copy of the greeter's metadata and a symbol by the root
/// module's name, passes every check that reads bytes, and without
/// signatures the loader runs its constructor before the host can tell (the
/// limit the README states). With a trusted key — the README's
/// recommendation for any folder others can write to — it is refused as
/// unsigned before any of its code runs.
#[test]
fn metadata_is_not_proof_and_a_trusted_key_refuses_a_forged_library_before_it_runs() {
    let Some(marker) = Marker::in_child(
        "metadata_is_not_proof_and_a_trusted_key_refuses_a_forged_library_before_it_runs",
    ) else {
        return;
    };
    let dir = PluginDir::new();
    let forged = dir.add("fixture-forged");
    let (inspection, verdict) = demo_host().inspect_file(&forged).unwrap();
    assert_eq!(inspection.metadata.library, "greeter");
    assert_eq!(verdict.unwrap(), 1, "its handshake is the greeter's");

    let (_, public) = plugboard_host::signing::generate_keypair().unwrap();
    let signed_only = demo_builder().trust_key(&public).unwrap().build();
    let err = signed_only.load_file(&forged).unwrap_err();
    assert!(
        matches!(err.kind(), LoadErrorKind::Unsigned { .. }),
        "{err}"
    );
    assert!(
        !marker.ran(),
        "a trusted key refuses it before its code runs"
    );

    let err = demo_host().load_file(&forged).unwrap_err();
    assert!(
        matches!(err.kind(), LoadErrorKind::AbiStableMismatch { .. }),
        "{err}"
    );
    assert!(marker.ran(), "without a signature, its constructor runs");
}
