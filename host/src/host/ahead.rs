//! Working ahead when a folder loads: the first steps of the load flow
//! (vet, the handshake's checks against the host's configuration, the
//! private copy) need only the file and the configuration, so worker
//! threads run them for the next files while this thread loads and
//! registers the current one, in order.
//!
//! The workers stay at most a few files ahead of the loading thread, so a
//! folder of a thousand files never holds a thousand private copies at
//! once. Nothing here runs any of a file's code: that happens in order, on
//! the calling thread, exactly as when files load one by one.

use std::{
    any::Any,
    num::NonZeroUsize,
    panic::{self, AssertUnwindSafe},
    sync::{Condvar, Mutex, MutexGuard},
};

/// A worker's result, or the payload of its panic.
type Outcome<W> = Result<W, Box<dyn Any + Send>>;

/// How many files a worker may run ahead of the loading thread, per worker.
const AHEAD_PER_WORKER: usize = 2;

/// Calls `work` on every item, on up to as many worker threads as the
/// machine has cores, and `consume` on each item with its result, in the
/// items' order, on this thread; returns what `consume` returned.
///
/// With one item or one core, everything runs on this thread.
pub(super) fn in_order<T, W, R>(
    items: &[T],
    work: impl Fn(&T) -> W + Sync,
    mut consume: impl FnMut(&T, W) -> R,
) -> Vec<R>
where
    T: Sync,
    W: Send,
{
    let workers = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(items.len());
    if workers <= 1 {
        return items.iter().map(|item| consume(item, work(item))).collect();
    }
    let queue = Queue::<W>::new(items.len(), workers * AHEAD_PER_WORKER);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(i) = queue.take() {
                    // A panic is handed to the loading thread, which would
                    // otherwise wait for this result for ever.
                    let result = panic::catch_unwind(AssertUnwindSafe(|| work(&items[i])));
                    queue.done(i, result);
                }
            });
        }
        // Stops the workers when this thread leaves, also by a panic (the
        // scope waits for them).
        let _stop = Stop(&queue);
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match queue.wait(i) {
                Ok(result) => consume(item, result),
                Err(payload) => panic::resume_unwind(payload),
            })
            .collect()
    })
}

/// The work shared by the workers and the loading thread.
struct Queue<W> {
    state: Mutex<State<W>>,
    changed: Condvar,
    window: usize,
}

struct State<W> {
    /// The next item a worker takes.
    next: usize,
    /// How many results the loading thread has taken; `None` once it has
    /// stopped.
    taken: Option<usize>,
    /// Results not taken yet, by item.
    results: Vec<Option<Outcome<W>>>,
}

impl<W> Queue<W> {
    fn new(len: usize, window: usize) -> Self {
        Self {
            state: Mutex::new(State {
                next: 0,
                taken: Some(0),
                results: (0..len).map(|_| None).collect(),
            }),
            changed: Condvar::new(),
            window,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<W>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next item for a worker, once it is within the window; `None`
    /// when there is nothing left to do.
    fn take(&self) -> Option<usize> {
        let mut state = self.lock();
        loop {
            let taken = state.taken?;
            if state.next >= state.results.len() {
                return None;
            }
            if state.next < taken + self.window {
                state.next += 1;
                return Some(state.next - 1);
            }
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn done(&self, i: usize, result: Outcome<W>) {
        self.lock().results[i] = Some(result);
        self.changed.notify_all();
    }

    /// Waits for item `i`'s result (items are waited for in order).
    fn wait(&self, i: usize) -> Outcome<W> {
        let mut state = self.lock();
        loop {
            if let Some(result) = state.results[i].take() {
                state.taken = Some(i + 1);
                self.changed.notify_all();
                return result;
            }
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Tells the workers to stop when dropped.
struct Stop<'a, W>(&'a Queue<W>);

impl<W> Drop for Stop<'_, W> {
    fn drop(&mut self) {
        self.0.lock().taken = None;
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn results_come_in_order_and_every_item_is_worked_once() {
        let items: Vec<usize> = (0..200).collect();
        let calls = AtomicUsize::new(0);
        let mut seen = Vec::new();
        let out = in_order(
            &items,
            |&i| {
                calls.fetch_add(1, Ordering::Relaxed);
                // Later items finish first now and then.
                if i % 7 == 0 {
                    std::thread::yield_now();
                }
                i * 2
            },
            |&i, doubled| {
                seen.push(i);
                (i, doubled)
            },
        );
        assert_eq!(calls.load(Ordering::Relaxed), 200);
        assert_eq!(seen, items);
        assert!(out.iter().all(|&(i, d)| d == i * 2));
    }

    #[test]
    fn workers_stay_within_the_window() {
        let items: Vec<usize> = (0..100).collect();
        let consumed = AtomicUsize::new(0);
        let window =
            std::thread::available_parallelism().map_or(1, NonZeroUsize::get) * AHEAD_PER_WORKER;
        in_order(
            &items,
            |&i| {
                // A worker takes item `i` only once fewer than `window`
                // items lie between it and the last one consumed.
                // (The count lags by the one being consumed.)
                assert!(i <= consumed.load(Ordering::SeqCst) + window);
            },
            |_, ()| {
                consumed.fetch_add(1, Ordering::SeqCst);
            },
        );
    }

    #[test]
    fn a_panic_in_a_worker_reaches_the_loading_thread() {
        let items: Vec<usize> = (0..50).collect();
        let result = std::panic::catch_unwind(|| {
            in_order(&items, |&i| assert!(i != 20, "worker"), |_, ()| ())
        });
        assert!(result.is_err());
    }

    #[test]
    fn a_panic_while_consuming_stops_the_workers() {
        let items: Vec<usize> = (0..100).collect();
        let result = std::panic::catch_unwind(|| {
            in_order(&items, |&i| i, |&i, _| assert!(i < 3, "stop here"))
        });
        assert!(result.is_err());
    }
}
