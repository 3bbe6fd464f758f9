//! Call and dispense costs: a dispensed plugboard object against its
//! same-run baselines, a native `Box<dyn Trait>` call and a raw
//! `extern "C" fn` found with `dlsym`; the same plugin isolated in a
//! process of its own (this benchmark program is its runner), and the time
//! from a new isolated host to the first call. Ends with a ratio summary.
//!
//! `cargo bench -p plugboard-host --bench calls`

mod support;

use std::{hint::black_box, sync::Arc, time::Instant};

use criterion::Criterion;
use plugboard_demo::Calc;
use plugboard_host::Plugin;

/// The native baseline: the same two methods behind `Box<dyn Trait>`.
trait NativeCalc: Send + Sync {
    fn add(&self, a: u64, b: u64) -> u64;
    fn greet(&self, name: &str) -> String;
}

/// Not zero-sized, so that `Box::new` allocates, as a plugin factory does.
struct Native(#[allow(dead_code)] u64);

impl NativeCalc for Native {
    #[inline(never)]
    fn add(&self, a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }
    #[inline(never)]
    fn greet(&self, name: &str) -> String {
        format!("Hello, {name}!")
    }
}

struct Subjects {
    _host: plugboard_host::PluginHost,
    plugin: Arc<Plugin<dyn Calc>>,
    _isolated_host: plugboard_host::PluginHost,
    isolated: Plugin<dyn Calc>,
    /// A copy of the plugin for fresh isolated hosts.
    plugin_file: std::path::PathBuf,
    native: Arc<Box<dyn NativeCalc>>,
    raw: extern "C" fn(u64, u64) -> u64,
}

/// The host configuration of every host here, and of this program as the
/// runner of the isolated ones.
fn config() -> plugboard_host::PluginHostBuilder {
    support::demo_builder().interface::<dyn Calc>()
}

/// A new host that isolates the plugin at `file`, loads it and dispenses it.
fn isolated(file: &std::path::Path) -> (plugboard_host::PluginHost, Plugin<dyn Calc>) {
    let host = config().isolate("all").build();
    host.load_file(file).unwrap();
    let plugin = host.dispense("calc").unwrap();
    (host, plugin)
}

fn subjects(dir: &tempfile::TempDir) -> Subjects {
    let lib = support::release_library("fixture-calc");
    let plugin_file = dir.path().join("libcalc.so");
    std::fs::copy(&lib, &plugin_file).unwrap();
    let host = config().build();
    host.load_file(&plugin_file).unwrap();
    let plugin: Plugin<dyn Calc> = host.dispense("calc").unwrap();
    let (isolated_host, isolated) = isolated(&plugin_file);

    let raw_file = dir.path().join("libcalc-raw.so");
    std::fs::copy(&lib, &raw_file).unwrap();
    // SAFETY: a benchmark fixture we built; its constructors are abi_stable's.
    let raw_lib = Box::leak(Box::new(
        unsafe { libloading::Library::new(&raw_file) }.unwrap(),
    ));
    // SAFETY: `calc_add` is `extern "C" fn(u64, u64) -> u64` in the fixture.
    let raw = *unsafe { raw_lib.get::<extern "C" fn(u64, u64) -> u64>(b"calc_add\0") }.unwrap();

    let native: Box<dyn NativeCalc> = Box::new(Native(7));
    Subjects {
        _host: host,
        plugin: Arc::new(plugin),
        _isolated_host: isolated_host,
        isolated,
        plugin_file,
        native: Arc::new(black_box(native)),
        raw,
    }
}

fn bench_calls(c: &mut Criterion, s: &Subjects) {
    let mut add = c.benchmark_group("call/add");
    add.bench_function("native Box<dyn>", |b| {
        b.iter(|| s.native.add(black_box(1), black_box(2)))
    });
    add.bench_function("plugboard", |b| {
        b.iter(|| s.plugin.add(black_box(1), black_box(2)))
    });
    add.bench_function("raw extern C", |b| {
        b.iter(|| (s.raw)(black_box(1), black_box(2)))
    });
    add.bench_function("plugboard isolated", |b| {
        b.iter(|| s.isolated.add(black_box(1), black_box(2)))
    });
    add.finish();

    let mut greet = c.benchmark_group("call/greet");
    greet.bench_function("native Box<dyn>", |b| {
        b.iter(|| s.native.greet(black_box("World")))
    });
    greet.bench_function("plugboard", |b| {
        b.iter(|| s.plugin.greet(black_box("World")))
    });
    greet.bench_function("plugboard isolated", |b| {
        b.iter(|| s.isolated.greet(black_box("World")))
    });
    greet.finish();

    let mut spawn = c.benchmark_group("isolated: new host to first call");
    spawn.sample_size(20);
    spawn.bench_function("load + dispense + add", |b| {
        b.iter(|| {
            let (host, plugin) = isolated(&s.plugin_file);
            black_box(plugin.add(1, 2));
            host
        })
    });
    spawn.finish();

    let mut threads = c.benchmark_group("call/add, 2 threads at once");
    threads.bench_function("native Box<dyn>", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, {
                let n = Arc::clone(&s.native);
                move || n.add(black_box(1), black_box(2))
            })
        })
    });
    threads.bench_function("plugboard", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, {
                let p = Arc::clone(&s.plugin);
                move || p.add(black_box(1), black_box(2))
            })
        })
    });
    threads.finish();
}

/// Both threads make `iters` calls; returns the wall time.
fn two_threads(
    iters: u64,
    call: impl Fn() -> u64 + Send + Sync + Clone + 'static,
) -> std::time::Duration {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            let call = call.clone();
            scope.spawn(move || {
                for _ in 0..iters {
                    black_box(call());
                }
            });
        }
    });
    start.elapsed()
}

fn bench_dispense(c: &mut Criterion, s: &Subjects) {
    let mut group = c.benchmark_group("dispense");
    group.bench_function("repeated (factory only)", |b| {
        b.iter(|| black_box(s._host.dispense::<dyn Calc>("calc").unwrap()))
    });
    group.bench_function("native Box::new baseline", |b| {
        b.iter(|| black_box(Box::new(Native(7)) as Box<dyn NativeCalc>))
    });
    group.finish();
}

fn summary(s: &Subjects) {
    const CALLS: u64 = 2_000_000;
    println!("\n== same-run ratios (median of 7 rounds) ==");
    let native = support::per_call(7, CALLS, || {
        black_box(s.native.add(black_box(1), black_box(2)));
    });
    let plugin = support::per_call(7, CALLS, || {
        black_box(s.plugin.add(black_box(1), black_box(2)));
    });
    let raw = support::per_call(7, CALLS, || {
        black_box((s.raw)(black_box(1), black_box(2)));
    });
    support::ratio_line("add: plugboard", plugin, native, "native");
    support::ratio_line("add: raw extern C", raw, native, "native");
    let native_greet = support::per_call(7, CALLS / 10, || {
        black_box(s.native.greet(black_box("World")));
    });
    let plugin = support::per_call(7, CALLS / 10, || {
        black_box(s.plugin.greet(black_box("World")));
    });
    support::ratio_line("greet: plugboard", plugin, native_greet, "native");
    let boxed = support::per_call(7, CALLS / 10, || {
        black_box(Box::new(Native(7)) as Box<dyn NativeCalc>);
    });
    let dispensed = support::per_call(7, CALLS / 10, || {
        black_box(s._host.dispense::<dyn Calc>("calc").unwrap());
    });
    support::ratio_line(
        "dispense (repeated): plugboard",
        dispensed,
        boxed,
        "Box::new",
    );
    println!("\n== isolated (a process of its own), same run ==");
    let isolated_add = support::per_call(7, 20_000, || {
        black_box(s.isolated.add(black_box(1), black_box(2)));
    });
    let isolated_greet = support::per_call(7, 20_000, || {
        black_box(s.isolated.greet(black_box("World")));
    });
    support::ratio_line("add: isolated", isolated_add, native, "native");
    support::ratio_line("greet: isolated", isolated_greet, native_greet, "native");
    let mut spawns: Vec<f64> = (0..15)
        .map(|_| {
            support::time_ns(|| {
                let (_host, plugin) = isolated(&s.plugin_file);
                black_box(plugin.add(1, 2));
            })
        })
        .collect();
    spawns.sort_by(f64::total_cmp);
    println!(
        "{:<34} {} (median of 15; includes closing the host)",
        "isolated: new host to first call",
        support::show(spawns[spawns.len() / 2])
    );
}

fn main() {
    if plugboard_host::isolation::is_runner() {
        // Started by an isolated host below: serve its plugin, then exit.
        drop(config().build());
        return;
    }
    let dir = support::private_dir();
    let s = subjects(&dir);
    let mut c = Criterion::default().configure_from_args();
    bench_calls(&mut c, &s);
    bench_dispense(&mut c, &s);
    c.final_summary();
    summary(&s);
}
