//! The crashes of `crashes`, in process: each ends (or hangs) its host,
//! shown in a child test process.
//!
//! Unix only: the child's memory is capped with the shell's `ulimit`
//! (Windows has neither; what Windows users get is the isolated runs).

use std::{
    io::{BufRead, BufReader},
    process::Stdio,
    sync::mpsc,
    time::Duration,
};

use fixture_crash_interface::{Crashy, CRASHES};
use plugboard_host::Plugin;
use plugboard_tests::{child_command, is_child, isolation_builder};

use super::{folder, load};

/// The body of the in-process runs: loads the crashing plugin into this
/// (child) process and makes it crash as `PLUGBOARD_TEST_CRASH` says.
fn crash_in_process() {
    let how = std::env::var("PLUGBOARD_TEST_CRASH").expect("the crash to make");
    let host = isolation_builder().build();
    let (dir, _) = folder();
    load(&host, &dir);
    let crashy: Plugin<dyn Crashy> = host.dispense("crashy").unwrap();
    println!("calling");
    let outcome = crashy.crash(&how);
    println!("returned {outcome:?}");
}

#[test]
fn the_same_crashes_end_or_hang_a_host_in_process() {
    if is_child() {
        crash_in_process();
        return;
    }
    for how in CRASHES {
        // A shell caps the child's memory, so that the allocation ends in
        // the child and not in the machine's out-of-memory killer.
        let test = "in_process::the_same_crashes_end_or_hang_a_host_in_process";
        let command = child_command(test);
        let mut shell = std::process::Command::new("sh");
        shell
            .arg("-c")
            .arg("ulimit -v 2097152; exec \"$@\"")
            .arg("sh")
            .arg(command.get_program())
            .args(command.get_args())
            .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .env("PLUGBOARD_TEST_CRASH", how)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = shell.spawn().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (lines, seen) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        // Wait until the child makes the call...
        loop {
            let line = seen
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("{how}: the child never made the call"));
            // (libtest prints the test's name before its first line)
            if line.ends_with("calling") {
                break;
            }
        }
        // ...then for it to end: a crash ends it; a spin never does (it is
        // given a few seconds to show it, the others all the time they need).
        let wait = if *how == "spin" { 5 } else { 600 };
        let mut returned = false;
        let ended = loop {
            match seen.recv_timeout(Duration::from_secs(wait)) {
                Ok(line) => returned |= line.contains("returned"),
                Err(mpsc::RecvTimeoutError::Disconnected) => break true,
                Err(mpsc::RecvTimeoutError::Timeout) => break false,
            }
        };
        if !ended {
            let _ = child.kill();
        }
        let status = child.wait().unwrap();
        assert!(!returned, "{how}: the call returned in-process");
        if *how == "spin" {
            assert!(!ended, "the spinning call ended its host");
        } else {
            assert!(
                ended && !status.success(),
                "{how}: the host survived ({status})"
            );
        }
    }
}
