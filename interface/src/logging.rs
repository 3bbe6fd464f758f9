//! The plugin side of the log bridge: a `log::Log` that forwards records to
//! the host. Each `cdylib` links its own copy of `log`, whose global logger
//! is unset unless the plugin sets one; the export macro's init installs
//! this one and sets the plugin's maximum level to the host's, so a disabled
//! statement is filtered by `log`'s macros without any call.

use std::{cell::RefCell, fmt::Write as _};

use abi_stable::std_types::{ROption, RStr};

use crate::services::{host, LogRecord};

struct Bridge;

static BRIDGE: Bridge = Bridge;

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let Some(host) = host() else { return };
        thread_local! {
            static BUF: RefCell<String> = const { RefCell::new(String::new()) };
        }
        BUF.with(|buf| {
            // A record logged while formatting another one (re-entrancy)
            // gets its own buffer.
            let mut own = String::new();
            let mut borrowed = buf.try_borrow_mut();
            let text = match borrowed.as_deref_mut() {
                Ok(b) => b,
                Err(_) => &mut own,
            };
            text.clear();
            let _ = write!(text, "{}", record.args());
            host.log(&LogRecord {
                level: record.level() as u8,
                target: RStr::from_str(record.target()),
                message: RStr::from_str(text),
                module_path: record.module_path().map(RStr::from_str).into(),
                file: record.file().map(RStr::from_str).into(),
                line: record.line().map_or(ROption::RNone, ROption::RSome),
            });
        });
    }

    fn flush(&self) {}
}

/// Installs the bridge (once per library) and applies the host's level.
pub(crate) fn install(max_level: u8) {
    // Fails only if this library already set a logger: ours, from an
    // earlier init, or the plugin author's own, which we then leave alone.
    let _ = log::set_logger(&BRIDGE);
    set_max_level(max_level);
}

/// Sets this library's maximum log level (a `log::LevelFilter` number).
pub(crate) fn set_max_level(level: u8) {
    log::set_max_level(level_filter(level));
}

fn level_filter(level: u8) -> log::LevelFilter {
    match level {
        0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 => log::LevelFilter::Info,
        4 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}
