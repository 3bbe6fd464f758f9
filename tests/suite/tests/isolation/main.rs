//! Isolated plugins: the same plugin file, run in a process of its own,
//! dispensed as the same `Plugin<dyn Trait>`. Each way a plugin can end its
//! process (a null write, `abort`, `exit(3)`, a stack overflow, a spin, an
//! unbounded allocation), in a method and in init, leaves the host running
//! with an error of the right kind; in-process, the same plugin ends (or
//! hangs) the host, shown in a child test process. No runner outlives its
//! host, even one killed outright.
//!
//! One module per concern: `crashes` (each way to end a process, isolated,
//! and restarts), `in_process` (the same crashes in process; Unix), `like_in_process` (services, state,
//! refusals and versions as in process), `logs`, `runners` (no runner
//! outlives its host) and `types` (every kind of type, both ways).
//!
//! On Linux and on Windows (run under Wine by `.ci/windows`), with the
//! exceptions each test names.

use std::time::Duration;

use plugboard_host::{PluginHost, PluginHostBuilder};
use plugboard_tests::{isolation_builder, PluginDir};

mod crashes;
#[cfg(unix)]
mod in_process;
mod like_in_process;
mod logs;
mod runners;
mod types;

/// The program this test binary's hosts run isolated plugins in.
const RUNNER: &str = env!("CARGO_BIN_EXE_plugboard-test-runner");

/// A host that isolates every plugin, with the tests' runner.
fn isolated() -> PluginHostBuilder {
    logs::capture_logs();
    isolation_builder()
        .isolate("all")
        .isolation_runner(RUNNER)
        .call_timeout(Duration::from_secs(60))
}

/// A folder with the crashing plugin and the greeter; the crashing
/// plugin's path.
fn folder() -> (PluginDir, std::path::PathBuf) {
    let dir = PluginDir::new();
    let crashy = dir.add("fixture-crashy");
    dir.add("greeter");
    (dir, crashy)
}

fn load(host: &PluginHost, dir: &PluginDir) {
    let report = host.load_dir(dir.path());
    assert!(report.all_loaded(), "{report}");
}
