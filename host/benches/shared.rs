//! A host shared by threads: dispense throughput with 1 and 8 threads, and
//! the longest single dispense while the main thread replaces the plugin's
//! file and reloads the folder 100 times (release build of `kv`).
//!
//! With more threads than cores, the longest dispense is how long a thread
//! waited for a core. So each dispense is also classed by the context
//! switches of its thread while it ran (Linux, `getrusage(RUSAGE_THREAD)`):
//! preempted (involuntary only: the scheduler gave the core away) or
//! blocked (a voluntary switch: the thread waited, for a lock or the
//! kernel). The longest dispense that ran without a switch is what the code
//! itself costs.
//!
//! `cargo bench -p plugboard-host --bench shared`

mod support;

use std::{
    hint::black_box,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Barrier,
    },
    time::{Duration, Instant},
};

use plugboard_demo::KeyValue;
use plugboard_host::PluginHost;

const DISPENSES: u64 = 200_000;

/// Dispenses per second with `threads` threads dispensing at once.
fn throughput(host: &Arc<PluginHost>, threads: u64) -> f64 {
    let barrier = Arc::new(Barrier::new(threads as usize + 1));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (host, barrier) = (Arc::clone(host), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..DISPENSES {
                    black_box(host.dispense::<dyn KeyValue>("kv").unwrap());
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for worker in workers {
        worker.join().unwrap();
    }
    (threads * DISPENSES) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let lib = support::release_library("kv");
    let dir = support::private_dir();
    let file = dir.path().join("libkv.so");
    std::fs::copy(&lib, &file).unwrap();
    let bytes = std::fs::read(&lib).unwrap();
    let host = Arc::new(
        support::demo_builder()
            .interface::<dyn KeyValue>()
            .plugins_dir(dir.path())
            .max_generations(256)
            .build(),
    );
    assert!(host.load().all_loaded());

    println!("== dispense throughput (release kv, {DISPENSES} dispenses per thread) ==");
    let one = throughput(&host, 1);
    let eight = throughput(&host, 8);
    println!("1 thread : {:>12.0} dispenses/s", one);
    println!(
        "8 threads: {:>12.0} dispenses/s  ({:.2}x one thread, on {} cores)",
        eight,
        eight / one,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    for threads in [1, 8] {
        longest_during_reloads(&host, &dir, &file, &bytes, threads);
    }
}

/// The longest single dispense of `threads` threads dispensing while the
/// main thread replaces the file and reloads 100 times. With more threads
/// than cores, it is mostly how long a thread waited for a core.
fn longest_during_reloads(
    host: &Arc<PluginHost>,
    dir: &tempfile::TempDir,
    file: &std::path::Path,
    bytes: &[u8],
    threads: usize,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (host, stop) = (Arc::clone(host), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut seen = Longest::default();
                while !stop.load(Ordering::Relaxed) {
                    let before = switches();
                    let start = Instant::now();
                    black_box(host.dispense::<dyn KeyValue>("kv").unwrap());
                    let took = start.elapsed();
                    seen.add(took, before, switches());
                }
                seen
            })
        })
        .collect();
    let mut reload_times = Vec::new();
    for _ in 0..100 {
        let tmp = dir.path().join(".incoming");
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, file).unwrap();
        let start = Instant::now();
        let events = host.reload().unwrap();
        reload_times.push(start.elapsed());
        assert_eq!(events.len(), 1, "{events:?}");
    }
    stop.store(true, Ordering::Relaxed);
    let mut seen = Longest::default();
    for worker in workers {
        seen.merge(worker.join().unwrap());
    }
    reload_times.sort();
    println!("\n== {threads} thread(s) dispensing while the main thread reloads 100 times ==");
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "longest dispense: {:>9.1} µs over {} dispenses (goal: <= 1 ms)",
        us(seen.any),
        seen.count
    );
    println!(
        "  without a context switch: {:.1} µs; {} preempted (longest {:.1} µs), {} blocked (longest {:.1} µs)",
        us(seen.unswitched),
        seen.preempted.0,
        us(seen.preempted.1),
        seen.blocked.0,
        us(seen.blocked.1)
    );
    println!(
        "one reload (vet, copy, dlopen, checks, init, swap): median {:.2} ms, longest {:.2} ms",
        reload_times[50].as_secs_f64() * 1e3,
        reload_times[99].as_secs_f64() * 1e3
    );
}

/// The longest dispenses seen, by what happened to the thread meanwhile.
#[derive(Default)]
struct Longest {
    count: u64,
    any: Duration,
    unswitched: Duration,
    /// How many were preempted, and the longest of them.
    preempted: (u64, Duration),
    /// How many blocked, and the longest of them.
    blocked: (u64, Duration),
}

impl Longest {
    fn add(&mut self, took: Duration, before: (i64, i64), after: (i64, i64)) {
        self.count += 1;
        self.any = self.any.max(took);
        let (voluntary, involuntary) = (after.0 - before.0, after.1 - before.1);
        let class = if voluntary > 0 {
            &mut self.blocked
        } else if involuntary > 0 {
            &mut self.preempted
        } else {
            self.unswitched = self.unswitched.max(took);
            return;
        };
        class.0 += 1;
        class.1 = class.1.max(took);
    }

    fn merge(&mut self, other: Longest) {
        self.count += other.count;
        self.any = self.any.max(other.any);
        self.unswitched = self.unswitched.max(other.unswitched);
        for (mine, theirs) in [
            (&mut self.preempted, other.preempted),
            (&mut self.blocked, other.blocked),
        ] {
            mine.0 += theirs.0;
            mine.1 = mine.1.max(theirs.1);
        }
    }
}

/// This thread's voluntary and involuntary context switches so far.
#[cfg(target_os = "linux")]
fn switches() -> (i64, i64) {
    // SAFETY: `getrusage` only writes the `rusage` it is given, which is
    // plain data for which all zeroes is a valid value.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage
    };
    (usage.ru_nvcsw, usage.ru_nivcsw)
}

/// Elsewhere the switches are not counted (every dispense is "unswitched").
#[cfg(not(target_os = "linux"))]
fn switches() -> (i64, i64) {
    (0, 0)
}
