//! No runner outlives its host: closed, or killed outright (SIGKILL on
//! Linux, `TerminateProcess` on Windows).

#[cfg(any(target_os = "linux", windows))]
use std::time::Duration;

use plugboard_tests::process_gone;
#[cfg(any(target_os = "linux", windows))]
use plugboard_tests::{LineReader, ProcessWatch};

#[cfg(any(target_os = "linux", windows))]
use super::RUNNER;
use super::{folder, isolated, load};

#[test]
fn closing_a_host_ends_its_runners() {
    let (dir, _) = folder();
    let host = isolated().build();
    load(&host, &dir);
    let pid = host.process_id("crashy").unwrap();
    assert!(!process_gone(pid));
    drop(host);
    assert!(process_gone(pid));
}

/// The host is killed while inside a call that never returns: no chance
/// to clean up. (macOS has no parent-death signal; its runners end at the
/// lifeline pipe's end, which this test does not wait for there.)
#[cfg(any(target_os = "linux", windows))]
#[test]
fn no_runner_outlives_its_host_even_one_killed_outright() {
    let (dir, _) = folder();
    let mut command = std::process::Command::new(RUNNER);
    command.arg("host").arg(dir.path());
    let mut host = LineReader::spawn(command);
    let line = host.next_line("runner ");
    let pid: u32 = line["runner ".len()..].parse().unwrap();
    let runner = ProcessWatch::new(pid).expect("the runner is already gone");
    // Kills the host (SIGKILL; TerminateProcess on Windows).
    drop(host);
    assert!(
        runner.ended_within(Duration::from_secs(60)),
        "the runner outlived its host"
    );
}
