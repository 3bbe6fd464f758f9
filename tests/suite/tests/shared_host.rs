//! One `PluginHost` shared by threads: eight threads dispense the kv plugin
//! and call it while the main thread replaces its file and reloads the
//! folder, a hundred times. No write is lost, nothing crashes, and every
//! reload is seen.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread,
};

use plugboard_demo::KeyValue;
use plugboard_host::{watch::WatchEvent, Plugin, PluginHost};
use plugboard_tests::{demo_builder, library, PluginDir};

const THREADS: u64 = 8;
const CALLS: u64 = 100_000;
const RELOADS: u32 = 100;
/// Each thread dispenses a new object this often, so that it meets the
/// generations the reloads bring.
const STRETCH: u64 = 1_000;

fn is_send_sync<T: Send + Sync>() {}

#[test]
fn a_host_is_send_and_sync() {
    is_send_sync::<PluginHost>();
    is_send_sync::<Plugin<dyn KeyValue>>();
}

#[test]
fn eight_threads_call_kv_while_its_file_is_replaced_and_reloaded_100_times() {
    let dir = PluginDir::new();
    let file = dir.add("kv");
    let bytes = std::fs::read(library("kv")).unwrap();
    let host = Arc::new(
        demo_builder()
            .interface::<dyn KeyValue>()
            .plugins_dir(dir.path())
            .max_generations(RELOADS as usize + 1)
            .build(),
    );
    let report = host.load();
    assert!(report.all_loaded(), "{report}");

    let calls = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (host, calls) = (Arc::clone(&host), Arc::clone(&calls));
            thread::spawn(move || {
                let mut written: Vec<(String, String)> = Vec::new();
                let mut kv: Plugin<dyn KeyValue> = host.dispense("kv").unwrap();
                for i in 0..CALLS {
                    if i % STRETCH == 0 {
                        // Everything written to this object is still there.
                        for (key, value) in written.drain(..) {
                            assert_eq!(kv.get(&key).unwrap(), Some(value), "thread {t}");
                        }
                        kv = host.dispense("kv").unwrap();
                    }
                    let (key, value) = (format!("t{t}-{i}"), format!("{}", i * 7 + t));
                    kv.put(&key, &value).unwrap();
                    assert_eq!(kv.get(&key).unwrap().as_deref(), Some(value.as_str()));
                    written.push((key, value));
                    calls.fetch_add(2, Ordering::Relaxed);
                }
                for (key, value) in written {
                    assert_eq!(kv.get(&key).unwrap(), Some(value), "thread {t}");
                }
            })
        })
        .collect();

    for round in 1..=RELOADS {
        dir.install(&bytes, &file);
        let events = host.reload().unwrap();
        assert!(
            matches!(events.as_slice(), [WatchEvent::Updated { .. }]),
            "round {round}: {events:?}"
        );
        assert_eq!(host.libraries()[0].generation, round + 1);
    }
    for worker in workers {
        worker.join().expect("a worker thread failed");
    }
    assert_eq!(calls.load(Ordering::Relaxed), THREADS * CALLS * 2);
    assert_eq!(host.retired_generations(), RELOADS as usize);
}
