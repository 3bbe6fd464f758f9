//! A host shared by threads: dispense throughput with 1 and 8 threads, and
//! the longest single dispense while the main thread replaces the plugin's
//! file and reloads the folder 100 times (release build of `kv`).
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
                let mut longest = Duration::ZERO;
                let mut count = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let start = Instant::now();
                    black_box(host.dispense::<dyn KeyValue>("kv").unwrap());
                    longest = longest.max(start.elapsed());
                    count += 1;
                }
                (longest, count)
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
    let (mut longest, mut total) = (Duration::ZERO, 0);
    for worker in workers {
        let (l, c) = worker.join().unwrap();
        longest = longest.max(l);
        total += c;
    }
    reload_times.sort();
    println!("\n== {threads} thread(s) dispensing while the main thread reloads 100 times ==");
    println!(
        "longest dispense: {:>9.1} µs over {total} dispenses (goal: <= 1 ms)",
        longest.as_secs_f64() * 1e6
    );
    println!(
        "one reload (vet, copy, dlopen, checks, init, swap): median {:.2} ms, longest {:.2} ms",
        reload_times[50].as_secs_f64() * 1e3,
        reload_times[99].as_secs_f64() * 1e3
    );
}
