//! The loading benchmark's other figures: refusing large files that are not
//! libraries, the floor set by the private copy, the process-level figure
//! and the memory each plugin adds.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use crate::support;

/// `name` as the platform names a library (`libname.so`, `name.dll`).
fn library_name(name: &str) -> String {
    use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
    format!("{DLL_PREFIX}{name}{DLL_SUFFIX}")
}

/// A `/proc/self/...` field, in the unit it is given in (0 where there is
/// no such file: off Linux).
fn proc_field(file: &str, name: &str) -> i64 {
    std::fs::read_to_string(format!("/proc/self/{file}"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Refusing a 255 MiB file of zeros, and one of random bytes, both named
/// like a library, by every way a host vets a file: the time, the bytes
/// this process read meanwhile, and how much its resident memory and its
/// peak grew.
pub(crate) fn refusals() {
    const SIZE: u64 = 255 * 1024 * 1024;
    println!("\n== refusing a 255 MiB file that is not a library ==");
    let zeros_dir = support::private_dir();
    let zeros = zeros_dir.path().join(library_name("zeros"));
    std::fs::File::create(&zeros)
        .unwrap()
        .set_len(SIZE)
        .unwrap();
    let random_dir = support::private_dir();
    let random = random_dir.path().join(library_name("random"));
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&random).unwrap());
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut chunk = vec![0u8; 1 << 20];
        for _ in 0..SIZE >> 20 {
            for word in chunk.chunks_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                word.copy_from_slice(&state.to_le_bytes());
            }
            file.write_all(&chunk).unwrap();
        }
    }
    let host = crate::demo_app_host();
    type Refuse<'a> = &'a dyn Fn(&Path) -> String;
    let ways: [(&str, Refuse); 3] = [
        ("load_file", &|f| {
            format!("{:?}", host.load_file(f).unwrap_err().kind())
        }),
        ("load_dir", &|f| {
            let report = host.load_dir(f.parent().unwrap());
            format!("{:?}", report.refused().next().unwrap().kind())
        }),
        ("inspect_file", &|f| {
            format!("{:?}", host.inspect_file(f).unwrap_err().kind())
        }),
    ];
    // What reading /proc/self/io and status costs in `rchar`, to subtract.
    let own_reads = {
        let read = proc_field("io", "rchar:");
        let _ = (
            proc_field("status", "VmRSS:"),
            proc_field("status", "VmHWM:"),
        );
        proc_field("io", "rchar:") - read
    };
    for (what, file) in [("zeros", &zeros), ("random bytes", &random)] {
        for (way, refuse) in ways {
            let (read, rss, peak) = (
                proc_field("io", "rchar:"),
                proc_field("status", "VmRSS:"),
                proc_field("status", "VmHWM:"),
            );
            let started = Instant::now();
            let kind = refuse(file);
            let took = started.elapsed();
            println!(
                "{what:<13} {way:<13} {:>9}  read {:>7} bytes  RSS {:+} KiB, peak {:+} KiB  ({})",
                support::show(took.as_nanos() as f64),
                proc_field("io", "rchar:") - read - own_reads,
                proc_field("status", "VmRSS:") - rss,
                proc_field("status", "VmHWM:") - peak,
                kind.split_whitespace().next().unwrap_or_default()
            );
        }
    }
}

/// What the private copy alone costs: a sealed memfd filled with the file's
/// bytes, against the same run's bare `dlopen` of one plugin. A full load
/// does this and a `dlopen` of the copy. Linux only (memfd).
#[cfg(target_os = "linux")]
pub(crate) fn copy_floor(bytes: &[u8], bare_one: f64) {
    use std::os::fd::{AsRawFd, FromRawFd};
    println!("\n== the floor: filling a sealed memfd with the file's bytes ==");
    let mut keep = Vec::new();
    let mut samples: Vec<f64> = (0..21)
        .map(|_| {
            let started = Instant::now();
            // SAFETY: a NUL-terminated name; no other precondition.
            let fd = unsafe { libc::memfd_create(c"floor".as_ptr(), libc::MFD_ALLOW_SEALING) };
            assert!(fd >= 0);
            // SAFETY: a fresh descriptor nothing else owns.
            let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
            file.write_all(bytes).unwrap();
            let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
            // SAFETY: a memfd made with MFD_ALLOW_SEALING; an int argument.
            let sealed = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) };
            assert_eq!(sealed, 0);
            let took = started.elapsed().as_nanos() as f64;
            keep.push(file); // as a loaded library keeps its pages
            took
        })
        .collect();
    let (median, min, max) = support::spread(&mut samples);
    println!(
        "memfd of {} KiB: {} ({}–{}) = {:.2}x the bare dlopen of one plugin ({})",
        bytes.len() / 1024,
        support::show(median),
        support::show(min).trim(),
        support::show(max).trim(),
        median / bare_one,
        support::show(bare_one).trim()
    );
}

/// The demo application's `list` over a folder of 100 plugins, against a
/// program that only `dlopen`s the same files: whole processes, from start
/// to exit (release builds).
pub(crate) fn process_level(make: impl Fn(&Path, usize)) {
    println!("\n== process level: `demo-app list` over 100 plugins vs a program that only dlopens them ==");
    let demo_app = support::release_binary(&["-p", "demo-app"], "demo-app");
    let dlopen_all = support::release_binary(
        &["-p", "plugboard-host", "--example", "dlopen_all"],
        "dlopen_all",
    );
    let dir = support::private_dir();
    make(dir.path(), 100);
    let run = |program: &PathBuf, args: &[&std::ffi::OsStr]| {
        let started = Instant::now();
        let status = Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        let took = started.elapsed().as_nanos() as f64;
        assert!(status.success(), "{} failed", program.display());
        took
    };
    let list = [
        "list".as_ref(),
        "--plugins".as_ref(),
        dir.path().as_os_str(),
    ];
    let only = [dir.path().as_os_str()];
    // Once each first, so both find the files in the page cache.
    run(&demo_app, &list);
    run(&dlopen_all, &only);
    let (mut full, mut bare, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..7 {
        let f = run(&demo_app, &list);
        let b = run(&dlopen_all, &only);
        full.push(f);
        bare.push(b);
        ratios.push(f / b);
    }
    let (f, f_min, f_max) = support::spread(&mut full);
    let (b, b_min, b_max) = support::spread(&mut bare);
    let (r, r_min, r_max) = support::spread(&mut ratios);
    println!(
        "demo-app list: {} ({}–{})   dlopen only: {} ({}–{})   ratio {r:.2}x ({r_min:.2}x–{r_max:.2}x)",
        support::show(f).trim(),
        support::show(f_min).trim(),
        support::show(f_max).trim(),
        support::show(b).trim(),
        support::show(b_min).trim(),
        support::show(b_max).trim(),
    );
}

/// The resident memory 100 plugins add, loaded by a host and by bare
/// `dlopen`.
pub(crate) fn memory_per_plugin(
    make: impl Fn(&Path, usize) -> Vec<PathBuf>,
    bare_dlopen: fn(&[PathBuf]) -> f64,
    mut load_dir: impl FnMut(&Path),
) {
    println!("\n== resident memory added per loaded plugin (100 fresh copies each) ==");
    let (plug_dir, bare_dir) = (support::private_dir(), support::private_dir());
    make(plug_dir.path(), 100);
    let bare_files = make(bare_dir.path(), 100);
    let rss = || {
        (
            proc_field("status", "RssAnon:"),
            proc_field("status", "RssFile:"),
            proc_field("status", "RssShmem:"),
        )
    };
    let before = rss();
    load_dir(plug_dir.path());
    let after = rss();
    bare_dlopen(&bare_files);
    let after_bare = rss();
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
}
