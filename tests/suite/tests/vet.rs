//! Vet before load: every check refuses its bad case before any code of the
//! file runs (the `fixture-marker` library's constructor would leave a
//! marker file), the host loads from a private copy, and the bad-file corpus
//! never crashes the host.

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::{
    fs,
    path::{Path, PathBuf},
};

use plugboard_demo::{Greeter, KeyValue};
use plugboard_host::display;
use plugboard_host::{LoadError, LoadErrorKind, Plugin, PluginHost, PluginHostBuilder};
#[cfg(not(windows))]
use plugboard_tests::attack;
#[cfg(unix)]
use plugboard_tests::set_mode;
use plugboard_tests::{demo_builder, demo_host, library, Marker, PluginDir};

fn refusal(host: &PluginHost, file: &Path) -> LoadError {
    match host.load_file(file) {
        Err(e) => e,
        Ok(lib) => panic!("{} loaded but should be refused: {lib}", file.display()),
    }
}

/// A refusal of the kind `kind` names that names the file and ran none of
/// its code.
fn assert_refused_before_running(
    builder: PluginHostBuilder,
    file: &Path,
    kind: fn(&LoadErrorKind) -> bool,
    marker: &Marker,
) {
    let host = builder.build();
    let err = refusal(&host, file);
    assert!(kind(err.kind()), "{err}");
    assert_eq!(err.path(), file);
    assert!(
        err.to_string().starts_with(&file.display().to_string()),
        "{err}"
    );
    assert!(
        !marker.ran(),
        "the library's code ran before the refusal: {err}"
    );
}

#[test]
fn inspect_reads_the_metadata_without_running_the_library() {
    let Some(marker) = Marker::in_child("inspect_reads_the_metadata_without_running_the_library")
    else {
        return;
    };
    let dir = PluginDir::new();
    let file = dir.add("fixture-marker");
    let host = demo_host();
    let (inspection, verdict) = host.inspect_file(&file).unwrap();
    assert_eq!(inspection.metadata.library, "fixture-marker");
    assert_eq!(inspection.metadata.cookie_key, "PLUGBOARD_DEMO_PLUGIN");
    assert_eq!(inspection.metadata.protocols, [1]);
    assert_eq!(inspection.metadata.plugins[0].name, "marked");
    assert_eq!(inspection.metadata.plugins[0].interface, "Greeter");
    assert_eq!(
        inspection.metadata.target,
        plugboard_interface::metadata::Target::current()
    );
    assert_eq!(inspection.sha256.as_deref().map(str::len), Some(64));
    assert_eq!(verdict.unwrap(), 1);
    assert!(!marker.ran(), "inspect ran the library's constructor");

    // The marker works: loading does run the constructor.
    let host = demo_host();
    host.load_file(&file).unwrap();
    assert!(marker.ran());
}

#[test]
fn every_vet_refusal_happens_before_any_code_runs() {
    let Some(marker) = Marker::in_child("every_vet_refusal_happens_before_any_code_runs") else {
        return;
    };
    let dir = PluginDir::new();
    let file = dir.add("fixture-marker");
    let name = file.file_name().unwrap().to_str().unwrap().to_owned();

    let other_cookie = PluginHost::builder().handshake(plugboard_interface::HandshakeConfig {
        cookie_key: "SOME_OTHER_APP",
        cookie_value: "x",
    });
    use plugboard_host::DispenseError;
    use LoadErrorKind as K;
    assert_refused_before_running(
        other_cookie,
        &file,
        |k| matches!(k, K::CookieMismatch { .. }),
        &marker,
    );
    assert_refused_before_running(
        demo_builder().protocol_versions([5]),
        &file,
        |k| matches!(k, K::NoCommonProtocol { .. }),
        &marker,
    );
    assert_refused_before_running(
        demo_builder().interface::<dyn compat_greeter_v2_0::Greeter>(),
        &file,
        |k| {
            matches!(
                k,
                K::IncompatibleInterface(DispenseError::IncompatibleVersion { .. })
            )
        },
        &marker,
    );
    assert_refused_before_running(
        demo_builder()
            .checksums(&format!("{}  libother.so\n", "0".repeat(64)))
            .unwrap(),
        &file,
        |k| matches!(k, K::NotAllowed { .. }),
        &marker,
    );
    assert_refused_before_running(
        demo_builder()
            .checksums(&format!("{}  {name}\n", "0".repeat(64)))
            .unwrap(),
        &file,
        |k| matches!(k, K::ChecksumMismatch { .. }),
        &marker,
    );
    let (_, public) = plugboard_host::signing::generate_keypair().unwrap();
    assert_refused_before_running(
        demo_builder().trust_key(&public).unwrap(),
        &file,
        |k| matches!(k, K::Unsigned { .. }),
        &marker,
    );
    assert_refused_before_running(
        demo_builder().max_file_size(4096),
        &file,
        |k| matches!(k, K::TooLarge { .. }),
        &marker,
    );

    // Modes exist (and are checked) on Unix only: Windows' ACLs are
    // another check (see docs/platforms.md).
    #[cfg(unix)]
    {
        let insecure = |k: &K| matches!(k, K::InsecurePermissions { .. });
        fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
        assert_refused_before_running(demo_builder(), &file, insecure, &marker);
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        assert_refused_before_running(demo_builder(), &file, insecure, &marker);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
    }
    // Windows: the same rule, read from access control lists (on fresh
    // copies: an entry is not taken back as simply as a mode).
    #[cfg(windows)]
    {
        use plugboard_tests::grant_everyone;
        use windows_sys::Win32::Storage::FileSystem::FILE_WRITE_DATA;
        let insecure = |k: &K| matches!(k, K::InsecureAcl { .. });
        let writable = dir.add_as("fixture-marker", "everyone-may-write");
        grant_everyone(&writable, FILE_WRITE_DATA);
        assert_refused_before_running(demo_builder(), &writable, insecure, &marker);
        let open_dir = PluginDir::new();
        let in_open_dir = open_dir.add("fixture-marker");
        grant_everyone(open_dir.path(), FILE_WRITE_DATA);
        assert_refused_before_running(demo_builder(), &in_open_dir, insecure, &marker);
    }

    let bytes = fs::read(&file).unwrap();
    let truncated = dir.write("truncated-marker", &bytes[..bytes.len() / 2]);
    let err = refusal(&demo_host(), &truncated);
    assert!(
        matches!(
            err.kind(),
            K::Truncated { .. } | K::NotALibrary { .. } | K::BadMetadata { .. }
        ),
        "{err}"
    );
    assert!(!marker.ran());

    // With the right checksum, and permissions fixed, it loads (and runs).
    let sha = demo_host().inspect_file(&file).unwrap().0.sha256.unwrap();
    let host = demo_builder()
        .checksums(&format!("{sha}  {name}\n"))
        .unwrap()
        .build();
    host.load_file(&file).unwrap();
    assert!(marker.ran());
}

/// Windows' strict permissions: a file or folder that every user of the
/// machine may write is refused, and says who may write it (the unit tests
/// of the host's `acl` module cover each group and the order of entries).
/// Modes, the Unix form of the check, are tested above.
#[cfg(windows)]
#[test]
fn access_control_lists_decide_strict_permissions_on_windows() {
    use plugboard_tests::grant_everyone;
    use windows_sys::Win32::Storage::FileSystem::{FILE_ADD_FILE, FILE_APPEND_DATA};
    use LoadErrorKind as K;

    let dir = PluginDir::new();
    // As created: only you, administrators and the system may write.
    demo_host().load_file(&dir.add("greeter")).unwrap();

    let appendable = dir.add_as("greeter", "appendable");
    grant_everyone(&appendable, FILE_APPEND_DATA);
    let err = refusal(&demo_host(), &appendable);
    match err.kind() {
        K::InsecureAcl { what, group, sid } => {
            assert_eq!(what, &format!("file {}", appendable.display()));
            assert_eq!(group, "Everyone");
            assert_eq!(sid, "S-1-1-0");
        }
        other => panic!("expected InsecureAcl, got {other:?}"),
    }
    assert!(err.hint().contains("icacls"), "{err}");
    // Strict permissions off: the same file loads.
    demo_builder()
        .strict_permissions(false)
        .build()
        .load_file(&appendable)
        .unwrap();

    // A folder where everyone may add files (and so plant one).
    let shared = PluginDir::new();
    let file = shared.add("greeter");
    grant_everyone(shared.path(), FILE_ADD_FILE);
    let err = refusal(&demo_host(), &file);
    match err.kind() {
        K::InsecureAcl { what, group, .. } => {
            assert_eq!(what, &format!("folder {}", shared.path().display()));
            assert_eq!(group, "Everyone");
        }
        other => panic!("expected InsecureAcl, got {other:?}"),
    }
}

#[test]
fn signatures_are_required_and_checked_once_a_key_is_trusted() {
    let keys = tempfile::tempdir().unwrap();
    let (secret_path, public_path) = plugboard_host::signing::write_keypair(keys.path()).unwrap();
    let secret = fs::read_to_string(&secret_path).unwrap();
    let public = fs::read_to_string(&public_path).unwrap();
    #[cfg(unix)]
    assert_eq!(
        fs::metadata(&secret_path).unwrap().permissions().mode() & 0o777,
        0o600,
        "the secret key is private"
    );

    let dir = PluginDir::new();
    let file = dir.add("greeter");
    plugboard_host::signing::sign_file(&secret, &file).unwrap();
    let host = demo_builder().trust_key(&public).unwrap().build();
    let lib = host.load_file(&file).unwrap();
    assert_eq!(lib.name, "greeter");

    // Another key does not verify it.
    let (_, stranger) = plugboard_host::signing::generate_keypair().unwrap();
    let host = demo_builder().trust_key(&stranger).unwrap().build();
    assert!(matches!(
        refusal(&host, &file).kind(),
        LoadErrorKind::BadSignature { .. }
    ));

    // One changed byte after signing is refused.
    let mut bytes = fs::read(&file).unwrap();
    bytes[4096] ^= 0x01;
    let tampered = dir.write("tampered", &bytes);
    fs::copy(plugboard_host_sig(&file), plugboard_host_sig(&tampered)).unwrap();
    let host = demo_builder().trust_key(&public).unwrap().build();
    let err = refusal(&host, &tampered);
    assert!(
        matches!(err.kind(), LoadErrorKind::BadSignature { .. }),
        "{err}"
    );
}

fn plugboard_host_sig(file: &Path) -> PathBuf {
    PathBuf::from(format!("{}.sig", file.display()))
}

#[test]
fn overwriting_a_loaded_plugin_in_place_does_not_crash_the_host() {
    let dir = PluginDir::new();
    let file = dir.add("greeter");
    let host = demo_host();
    host.load_file(&file).unwrap();
    let greeter: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
    assert_eq!(greeter.greet("before").unwrap(), "Hello, before!");

    // What `cp new.so plugins/` does: same inode, new contents.
    fs::write(&file, b"not a library any more").unwrap();
    for i in 0..1000 {
        let name = format!("after {i}");
        assert_eq!(greeter.greet(&name).unwrap(), format!("Hello, {name}!"));
    }
    // And truncated to nothing, then filled with another library.
    fs::File::create(&file).unwrap();
    assert_eq!(greeter.greet("empty").unwrap(), "Hello, empty!");
    fs::copy(library("kv"), &file).unwrap();
    assert_eq!(greeter.greet("kv").unwrap(), "Hello, kv!");
    let again: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
    assert_eq!(again.greet("new object").unwrap(), "Hello, new object!");
}

/// Windows keeps a loaded DLL until its process ends, so private copies can
/// outlive their host in %TEMP%: a host's first copy removes those of hosts
/// that have exited, and never one that is still being made (held open).
#[cfg(windows)]
#[test]
fn private_copies_of_exited_hosts_are_removed_on_windows() {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::FILE_SHARE_READ;

    const NAME: &str = "private_copies_of_exited_hosts_are_removed_on_windows";
    if plugboard_tests::is_child() {
        // The clean-up runs once per process, before its first copy.
        demo_host()
            .load_file(&PluginDir::new().add("greeter"))
            .unwrap();
        return;
    }
    let temp = std::env::temp_dir();
    let stale = temp.join(format!("plugboard-copy-exited{}", std::process::id()));
    fs::create_dir_all(&stale).unwrap();
    // Read-only, as the host leaves its copies.
    let copy = stale.join("greeter.dll");
    fs::copy(library("greeter"), &copy).unwrap();
    let mut permissions = fs::metadata(&copy).unwrap().permissions();
    permissions.set_readonly(true);
    fs::set_permissions(&copy, permissions).unwrap();
    let making = temp.join(format!("plugboard-copy-making{}", std::process::id()));
    fs::create_dir_all(&making).unwrap();
    let held = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .share_mode(FILE_SHARE_READ)
        .open(making.join("greeter.dll"))
        .unwrap();

    plugboard_tests::rerun_in_child(NAME, &[]);
    assert!(!stale.exists(), "the exited host's copy is still there");
    // (A deletion that went through would complete when the last handle
    // closes.)
    drop(held);
    assert!(
        making.join("greeter.dll").exists(),
        "a copy being made was removed"
    );
    fs::remove_dir_all(&making).unwrap();
}

/// Deterministic pseudo-random bytes.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u8
        })
        .collect()
}

#[test]
fn the_bad_file_corpus_is_refused_and_the_good_plugins_still_answer() {
    let dir = PluginDir::new();
    let good = dir.add("greeter");
    dir.add("kv");
    let plugin_bytes = fs::read(library("greeter-formal")).unwrap();

    let mut expect: Vec<(PathBuf, &[&str])> = Vec::new();
    expect.push((dir.write("empty", b""), &["NotALibrary"]));
    expect.push((dir.write("random", &noise(64 * 1024, 7)), &["NotALibrary"]));
    expect.push((
        dir.write("text", b"#!/bin/sh\necho I am a script\n"),
        &["NotALibrary"],
    ));
    // The right magic bytes, then garbage.
    let mut fake_elf = b"\x7fELF".to_vec();
    fake_elf.extend(noise(4096, 11));
    expect.push((dir.write("fake-elf", &fake_elf), &["NotALibrary"]));
    // Truncations at several sizes: dlopen of these dies with SIGBUS; the
    // vet step refuses them first.
    // (A PE file ends with its COFF symbols, which the loader never maps:
    // losing their last byte leaves a loadable library.)
    let one_short = (!cfg!(windows)).then(|| plugin_bytes.len() - 1);
    for size in [1024, 100 * 1024, 400 * 1024, plugin_bytes.len() / 2]
        .into_iter()
        .chain(one_short)
    {
        let file = dir.write(&format!("truncated-{size}"), &plugin_bytes[..size]);
        expect.push((file, &["Truncated", "NotALibrary", "BadMetadata"]));
    }
    // A valid shared library for another architecture (aarch64): the ELF
    // header's e_machine, or the PE file header's Machine.
    let mut other_arch = plugin_bytes.clone();
    if cfg!(windows) {
        let pe = u32::from_le_bytes(other_arch[0x3c..0x40].try_into().unwrap()) as usize;
        other_arch[pe + 4..pe + 6].copy_from_slice(&0xaa64u16.to_le_bytes());
    } else {
        other_arch[18..20].copy_from_slice(&183u16.to_le_bytes());
    }
    expect.push((dir.write("aarch64", &other_arch), &["WrongPlatform"]));
    // A valid cdylib that is not a plugin.
    expect.push((dir.add("fixture-not-a-plugin"), &["NotAPlugin"]));
    // A directory, a FIFO and a socket named like libraries.
    let folder = dir.file("folder");
    fs::create_dir(&folder).unwrap();
    expect.push((folder, &["NotAFile"]));
    // FIFOs, sockets and symlinks (without privileges) are Unix's.
    #[cfg(unix)]
    let _listener = {
        let fifo = dir.file("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        expect.push((fifo, &["NotAFile"]));
        let socket = dir.file("socket");
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        expect.push((socket, &["NotAFile"]));
        // A symlink loop, and a file that vanished after discovery (a dangling link).
        let a = dir.file("loop-a");
        let b = dir.file("loop-b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        expect.push((a, &["Unreadable"]));
        expect.push((b, &["Unreadable"]));
        let vanished = dir.file("vanished");
        std::os::unix::fs::symlink(dir.path().join("gone.so"), &vanished).unwrap();
        expect.push((vanished, &["Unreadable"]));
        listener
    };
    // A library that panics in init, and one exporting a name already taken.
    expect.push((dir.add("fixture-panic-in-init"), &["InitFailed"]));
    expect.push((
        dir.add_as("greeter", "zz-second-greeter"),
        &["DuplicatePlugin"],
    ));
    // A plugin for another application.
    expect.push((dir.add("fixture-wrong-cookie"), &["CookieMismatch"]));
    // Issue 18: headers the loader reads differently (copies of a real
    // plugin with a few bytes changed), a duplicate that carries a
    // constructor, a library that only copies a plugin's metadata (its
    // constructor runs: only signatures refuse it first), and hostile names
    // (garbage, and a plugin others may write) that must print escaped.
    // (The patches are to an ELF file: Windows plugins are PE files.)
    #[cfg(not(windows))]
    {
        let greeter = fs::read(library("greeter")).unwrap();
        expect.push((
            dir.write(
                "attack-pn-xnum",
                &attack::pn_xnum_with_a_load_past_the_end(&greeter),
            ),
            &["NotALibrary"],
        ));
        expect.push((
            dir.write(
                "attack-dynamic-outside",
                &attack::dynamic_outside_every_load(&greeter),
            ),
            &["NotALibrary"],
        ));
    }
    dir.add("fixture-marker");
    expect.push((
        dir.add_as("fixture-marker", "zz-second-marker"),
        &["DuplicatePlugin"],
    ));
    expect.push((dir.add("fixture-forged"), &["AbiStableMismatch"]));
    // Names a terminal must not see raw; Windows file names cannot hold
    // control characters or bytes that are not text (nor have modes).
    #[cfg(unix)]
    for name in attack::hostile_names() {
        let garbage = dir.file_named(&name);
        fs::write(&garbage, noise(4096, 13)).unwrap();
        set_mode(&garbage, 0o755);
        expect.push((garbage, &["NotALibrary"]));
        let mut writable = name.clone();
        writable.push("-writable");
        let writable = dir.file_named(&writable);
        fs::copy(library("toolbox"), &writable).unwrap();
        set_mode(&writable, 0o666);
        expect.push((writable, &["InsecurePermissions"]));
    }

    let host = demo_host();
    let report = host.load_dir(dir.path());
    for (file, kinds) in &expect {
        let outcome = report
            .outcome(file)
            .unwrap_or_else(|| panic!("{} was not a candidate", file.display()));
        let err = outcome.result.as_ref().expect_err("refused");
        assert!(
            kinds.contains(&err.kind().name()),
            "{}: expected {kinds:?}, got {err}",
            file.display()
        );
        let text = err.to_string();
        assert!(
            text.starts_with(&display::path(file).to_string()),
            "names the file: {text}"
        );
        assert!(!text.contains('\n'), "one line: {text}");
        assert!(!text.contains('\u{1b}'), "no escape sequence: {text}");
    }
    assert_eq!(report.loaded().count(), 3, "{report}");
    assert!(report.outcome(&good).unwrap().result.is_ok());

    let greeter: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
    assert_eq!(greeter.greet("survivor").unwrap(), "Hello, survivor!");
    let kv: Plugin<dyn KeyValue> = host.dispense("kv").unwrap();
    kv.put("still", "here").unwrap();
    assert_eq!(kv.get("still").unwrap().as_deref(), Some("here"));
}
