//! No runner outlives its host: closed, or killed with SIGKILL.

#[cfg(target_os = "linux")]
use plugboard_tests::LineReader;

#[cfg(target_os = "linux")]
use super::RUNNER;
use super::{folder, isolated, load};

/// Whether process `pid` is gone (or a zombie no one has reaped yet is all
/// that is left of it).
fn gone(pid: u32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
    !alive || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

#[test]
fn closing_a_host_ends_its_runners() {
    let (dir, _) = folder();
    let host = isolated().build();
    load(&host, &dir);
    let pid = host.process_id("crashy").unwrap();
    assert!(!gone(pid));
    drop(host);
    assert!(gone(pid));
}

#[cfg(target_os = "linux")]
#[test]
fn no_runner_outlives_its_host_even_one_killed_with_sigkill() {
    let (dir, _) = folder();
    let mut command = std::process::Command::new(RUNNER);
    command.arg("host").arg(dir.path());
    let mut host = LineReader::spawn(command);
    let line = host.next_line("runner ");
    let pid: i32 = line["runner ".len()..].parse().unwrap();
    // A descriptor for the runner, to wait for its end without polling.
    // SAFETY: pidfd_open takes a pid and flags; it returns a new descriptor.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    assert!(pidfd >= 0, "the runner is already gone");
    // The host is inside a call that never returns; kill it outright.
    drop(host);
    let mut poll = libc::pollfd {
        fd: pidfd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd; the timeout only bounds a failing test.
    let ready = unsafe { libc::poll(&mut poll, 1, 60_000) };
    // SAFETY: closes the descriptor opened above.
    unsafe { libc::close(pidfd) };
    assert_eq!(ready, 1, "the runner outlived its host");
}
