//! The vet step alone (repeatable: it loads nothing), and the cost of log
//! statements in plugin code: disabled (filtered inside the plugin, no call
//! across the boundary) and enabled (formatted, forwarded to the host's
//! logger). Ends with a ratio summary.
//!
//! `cargo bench -p plugboard-host --bench vet_and_logs`

mod support;

use std::{
    hint::black_box,
    sync::atomic::{AtomicU64, Ordering},
};

use criterion::Criterion;
use plugboard_demo::Calc;
use plugboard_host::{testing::inspect_bytes, Plugin};

/// A logger that keeps nothing: measures forwarding, not I/O.
struct Counting(AtomicU64);

impl log::Log for Counting {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        black_box(record.args());
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn flush(&self) {}
}

static LOGGER: Counting = Counting(AtomicU64::new(0));

fn main() {
    log::set_logger(&LOGGER).expect("the bench's only logger");
    log::set_max_level(log::LevelFilter::Info);

    let dir = support::private_dir();
    let plain_lib = dir.path().join("libcalc.so");
    let logging_lib = dir.path().join("libcalc_logging.so");
    std::fs::copy(support::release_library("fixture-calc"), &plain_lib).unwrap();
    std::fs::copy(
        support::release_library("fixture-calc-logging"),
        &logging_lib,
    )
    .unwrap();
    let bytes = std::fs::read(&plain_lib).unwrap();

    let host = support::demo_builder().interface::<dyn Calc>().build();
    host.load_file(&plain_lib).unwrap();
    host.load_file(&logging_lib).unwrap();
    let plain: Plugin<dyn Calc> = host.dispense("calc").unwrap();
    let logging: Plugin<dyn Calc> = host.dispense("calc-logging").unwrap();

    let mut c = Criterion::default().configure_from_args();
    let mut vet = c.benchmark_group("vet (656 KiB release plugin)");
    vet.bench_function("inspect_bytes (object checks + metadata)", |b| {
        b.iter(|| black_box(inspect_bytes(black_box(&bytes)).unwrap()))
    });
    vet.bench_function("inspect_file (read + checks + SHA-256 + handshake)", |b| {
        b.iter(|| black_box(host.inspect_file(&plain_lib).unwrap()))
    });
    vet.finish();

    let mut logs = c.benchmark_group("log statement in a plugin call");
    host.set_max_log_level(log::LevelFilter::Info);
    logs.bench_function("add, no log statement", |b| {
        b.iter(|| plain.add(black_box(1), black_box(2)))
    });
    logs.bench_function("add + debug!, disabled (host at info)", |b| {
        b.iter(|| logging.add(black_box(1), black_box(2)))
    });
    host.set_max_log_level(log::LevelFilter::Debug);
    logs.bench_function("add + debug!, enabled and forwarded", |b| {
        b.iter(|| logging.add(black_box(1), black_box(2)))
    });
    host.set_max_log_level(log::LevelFilter::Info);
    logs.finish();
    c.final_summary();

    println!("\n== same-run figures (median of 7 rounds) ==");
    const CALLS: u64 = 2_000_000;
    host.set_max_log_level(log::LevelFilter::Info);
    let base = support::per_call(7, CALLS, || {
        black_box(plain.add(black_box(1), black_box(2)));
    });
    let before = host.log_records_forwarded();
    let disabled = support::per_call(7, CALLS, || {
        black_box(logging.add(black_box(1), black_box(2)));
    });
    let crossed = host.log_records_forwarded() - before;
    host.set_max_log_level(log::LevelFilter::Debug);
    let enabled = support::per_call(7, CALLS / 20, || {
        black_box(logging.add(black_box(1), black_box(2)));
    });
    host.set_max_log_level(log::LevelFilter::Info);
    println!(
        "disabled debug! in a plugin call: +{:.2} ns over the same call without it ({} records crossed the boundary)",
        disabled - base,
        crossed
    );
    println!(
        "enabled, forwarded debug!: +{} per record",
        support::show(enabled - base).trim()
    );
    support::ratio_line("add + disabled debug!", disabled, base, "add");
    support::ratio_line("add + forwarded debug!", enabled, base, "add");
}
