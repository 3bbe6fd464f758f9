//! An isolated plugin's log records and panic messages reach the host's
//! logger: this test binary's, which keeps every record.

use std::sync::{Mutex, OnceLock};

use fixture_crash_interface::Crashy;
use plugboard_demo::Greeter;
use plugboard_host::Plugin;
use plugboard_interface::PluginErrorKind;

use super::{folder, isolated, load};

/// Log records (target, message) seen by this test binary's logger.
static RECORDS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        RECORDS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((record.target().to_owned(), record.args().to_string()));
    }
    fn flush(&self) {}
}

pub(super) fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Debug);
    });
}

fn logged(target: &str, text: &str) -> bool {
    RECORDS
        .lock()
        .unwrap()
        .iter()
        .any(|(t, m)| t == target && m.contains(text))
}

#[test]
fn an_isolated_plugins_logs_and_panics_reach_the_host_logger() {
    let (dir, _) = folder();
    let host = isolated().build();
    load(&host, &dir);
    let greeter: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
    greeter.greet("Logan").unwrap();
    // Logged during the call, forwarded before the call returned.
    assert!(logged("plugin::greeter::greeter", "Logan"));
    let crashy: Plugin<dyn Crashy> = host.dispense("crashy").unwrap();
    let error = crashy.panic("a panic with a message").unwrap_err();
    assert_eq!(error.kind(), PluginErrorKind::Panicked);
    assert!(
        logged("plugin::fixture-crashy::panic", "a panic with a message"),
        "{:#?}",
        RECORDS.lock().unwrap_or_else(|p| p.into_inner()).clone()
    );
    // The runner keeps serving after a panic.
    assert_eq!(crashy.echo("still here"), "still here");
}
