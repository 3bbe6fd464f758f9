//! What a runner writes besides its answers: its plugin's log records
//! (forwarded to the host's logger, counted so that a call's records are
//! logged before the call returns) and its raw standard error (forwarded
//! line by line, the last lines kept for the report of a crash).

use std::{
    collections::VecDeque,
    fs::File,
    io::{BufRead, BufReader},
    sync::{Arc, Condvar, Mutex},
    time::{Duration, Instant},
};

use super::{exchange::GRACE, wire};
use crate::services::Shared;

/// The forwarder of a runner's log records: how many it has passed on.
pub(super) struct Forwarded {
    count: Mutex<(u64, bool)>,
    changed: Condvar,
}

impl Forwarded {
    pub(super) fn start(pipe: File, library: &str, shared: &Arc<Shared>) -> Arc<Self> {
        let this = Arc::new(Self {
            count: Mutex::new((0, false)),
            changed: Condvar::new(),
        });
        let me = Arc::clone(&this);
        let library = library.to_owned();
        let shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name(format!("plugboard-logs-{library}"))
            .spawn(move || {
                let mut reader = BufReader::new(pipe);
                let mut buf = Vec::new();
                while let Ok(Some(line)) = wire::receive::<wire::LogLine>(&mut reader, &mut buf) {
                    shared.emit(
                        &library,
                        line.level,
                        &line.target,
                        &line.message,
                        line.module_path.as_deref(),
                        line.file.as_deref(),
                        line.line,
                    );
                    me.advance(false);
                }
                me.advance(true);
            });
        if spawned.is_err() {
            this.advance(true);
        }
        this
    }

    fn advance(&self, ended: bool) {
        let mut count = self.count.lock().unwrap_or_else(|p| p.into_inner());
        if ended {
            count.1 = true;
        } else {
            count.0 += 1;
        }
        self.changed.notify_all();
    }

    /// Waits until `n` records were forwarded (or the pipe ended).
    pub(super) fn wait_for(&self, n: u64) {
        let deadline = Instant::now() + GRACE;
        let mut count = self.count.lock().unwrap_or_else(|p| p.into_inner());
        while count.0 < n && !count.1 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return;
            };
            count = match self.changed.wait_timeout(count, left) {
                Ok((count, _)) => count,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

/// A runner's standard error: forwarded line by line to the host's logger,
/// the last lines kept for the report of a crash.
pub(super) struct Tail {
    state: Mutex<(VecDeque<String>, bool)>,
    changed: Condvar,
}

impl Tail {
    const KEEP: usize = 4;

    pub(super) fn start(pipe: File, library: &str) -> Arc<Self> {
        let this = Arc::new(Self {
            state: Mutex::new((VecDeque::new(), false)),
            changed: Condvar::new(),
        });
        let me = Arc::clone(&this);
        let target = format!("plugin::{library}::stderr");
        let spawned = std::thread::Builder::new()
            .name(format!("plugboard-stderr-{library}"))
            .spawn(move || {
                let mut reader = BufReader::new(pipe);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                    if text.is_empty() {
                        continue;
                    }
                    log::warn!(target: &target, "{text}");
                    let mut state = me.state.lock().unwrap_or_else(|p| p.into_inner());
                    if state.0.len() == Self::KEEP {
                        state.0.pop_front();
                    }
                    state.0.push_back(text);
                }
                me.state.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
                me.changed.notify_all();
            });
        if spawned.is_err() {
            this.state.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
        }
        this
    }

    /// Waits (at most `limit`) for the end of the runner's standard error.
    pub(super) fn wait_done(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while !state.1 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return;
            };
            state = match self.changed.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(p) => p.into_inner().0,
            };
        }
    }

    pub(super) fn last_lines(&self) -> Vec<String> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0.iter().cloned().collect()
    }
}
