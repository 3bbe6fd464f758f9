//! Loading fast with every check on (issue 16): a large file that is not a
//! library is refused after its first bytes, by every way a host vets a
//! file, and the header check never runs ahead of the signature check.

use plugboard_host::LoadErrorKind;
use plugboard_tests::PluginDir;

/// The 64-byte ELF header of an AArch64 shared library.
fn aarch64_header() -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    (h[4], h[5], h[6]) = (2, 1, 1);
    h[16..18].copy_from_slice(&3u16.to_le_bytes());
    h[18..20].copy_from_slice(&183u16.to_le_bytes());
    h[32..40].copy_from_slice(&64u64.to_le_bytes());
    h[54..56].copy_from_slice(&56u16.to_le_bytes());
    h[56..58].copy_from_slice(&8u16.to_le_bytes());
    h
}

/// Linux only: the bytes read are counted in `/proc/self/io`, and the
/// header check that refuses an ELF file for another machine from its first
/// 64 bytes is the ELF platforms' own (on Windows and macOS an ELF file is
/// another platform's format, read whole and then refused as
/// `WrongPlatform`; docs/platforms.md).
#[cfg(target_os = "linux")]
mod after_the_first_bytes {
    use std::{fs, path::Path};

    use plugboard_host::PluginHost;
    use plugboard_tests::{bytes_read, demo_host, rerun_in_child, PluginDir};

    use super::aarch64_header;

    /// 255 MiB, just under the default size limit.
    const HUGE: u64 = 255 << 20;

    /// A sparse file of `HUGE` bytes that starts with `head`.
    fn huge_file(dir: &PluginDir, name: &str, head: &[u8]) -> std::path::PathBuf {
        let file = dir.write(name, head);
        fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_len(HUGE))
            .expect("growing the file");
        file
    }

    /// Refuses `file` with `load_file`, `inspect_file` and `load_dir` (of its
    /// folder, which holds only it); returns the kinds and how many bytes the
    /// three read together.
    fn refuse_three_ways(host: &PluginHost, file: &Path) -> ([&'static str; 3], u64) {
        let before = bytes_read();
        let loaded = host.load_file(file).expect_err("refused").kind().name();
        let inspected = host.inspect_file(file).expect_err("refused").kind().name();
        let report = host.load_dir(file.parent().unwrap());
        let listed = report.refused().next().expect("refused").kind().name();
        let read = bytes_read() - before;
        ([loaded, inspected, listed], read)
    }

    #[test]
    fn a_huge_file_that_is_not_a_library_is_refused_after_its_first_bytes() {
        let test = "after_the_first_bytes::a_huge_file_that_is_not_a_library_is_refused_after_its_first_bytes";
        if rerun_in_child(test, &[]).is_some() {
            return;
        }
        let host = demo_host();
        let cases: [(&str, Vec<u8>, &str); 4] = [
            ("zeros", Vec::new(), "NotALibrary"),
            ("script", b"#!/bin/sh\nexit 0\n".to_vec(), "NotALibrary"),
            ("bad-class", b"\x7fELF\x09\x01\x01".to_vec(), "NotALibrary"),
            ("aarch64", aarch64_header(), "WrongPlatform"),
        ];
        for (name, head, kind) in cases {
            let dir = PluginDir::new();
            let file = huge_file(&dir, name, &head);
            // What reading /proc/self/io twice costs, to compare with.
            let own = {
                let before = bytes_read();
                bytes_read() - before
            };
            let (kinds, read) = refuse_three_ways(&host, &file);
            assert_eq!(kinds, [kind; 3], "{name}");
            // Three refusals, each having read at most a page of the file.
            assert!(
                read <= own + 3 * 4096,
                "{name}: {read} bytes read to refuse it three times"
            );
        }
    }
}

#[test]
fn the_header_check_waits_for_the_signature_when_keys_are_trusted() {
    // With a trusted key, nothing looks at a file's structure before its
    // signature: a library for another machine is reported as unsigned.
    let dir = PluginDir::new();
    let mut bytes = aarch64_header();
    bytes.resize(4096, 0);
    let file = dir.write("aarch64", &bytes);
    let (_, public) = plugboard_host::signing::generate_keypair().unwrap();
    let host = plugboard_tests::demo_builder()
        .trust_key(&public)
        .unwrap()
        .build();
    let err = host.load_file(&file).unwrap_err();
    assert!(
        matches!(err.kind(), LoadErrorKind::Unsigned { .. }),
        "{err}"
    );
}
