//! What a process holds or has done, read from `/proc` (Linux): open
//! descriptors and bytes read. Measure in a process of its own
//! ([`rerun_in_child`](crate::rerun_in_child)): other tests' threads open
//! and read files too.

use std::fs;

/// How many file descriptors this process has open (Linux: the entries of
/// `/proc/self/fd`, less the one listing them). Count in a process of its
/// own ([`rerun_in_child`](crate::rerun_in_child)): other tests' threads open files too.
pub fn open_descriptors() -> usize {
    fs::read_dir("/proc/self/fd")
        .expect("listing /proc/self/fd")
        .count()
        - 1
}

/// How many bytes this process has read so far with `read` and its kin
/// (`rchar` in `/proc/self/io`, Linux), counting this function's own read
/// of that file. Measure in a process of its own ([`rerun_in_child`](crate::rerun_in_child)):
/// other tests' threads read files too.
pub fn bytes_read() -> u64 {
    fs::read_to_string("/proc/self/io")
        .expect("reading /proc/self/io")
        .lines()
        .find_map(|line| line.strip_prefix("rchar:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("an rchar line")
}

/// How many file descriptors process `pid` has open (Linux).
pub fn open_descriptors_of(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("listing the child's descriptors")
        .count()
}
