//! Turns for ordered writers: several workers prepare files at once (read, parse,
//! validate), but their writes happen in file order, each after the previous file's
//! outcome is visible, so that a file may depend on an earlier one (a conditional
//! reference to a resource it created, a later version of the same resource) exactly as
//! when they are loaded one by one.

use std::sync::{Condvar, Mutex};

/// Whose turn it is to write: the index of the next file.
#[derive(Debug, Default)]
pub struct Turns {
    next: Mutex<usize>,
    changed: Condvar,
}

impl Turns {
    /// The turn of file `index`, to wait for before its write and to pass when its outcome
    /// is visible.
    pub fn of(&self, index: usize) -> Turn<'_> {
        Turn {
            turns: self,
            index,
            passed: false,
        }
    }

    fn wait_for(&self, index: usize) {
        // A poisoned lock (a worker panicked) still holds a usable counter.
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        while *next < index {
            next = self
                .changed
                .wait(next)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    fn advance_past(&self, index: usize) {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        *next = (*next).max(index + 1);
        self.changed.notify_all();
    }
}

/// One file's turn. Dropping it without passing it waits for it and passes it (a file that
/// could not be prepared, a panic), so the files after it are never stuck.
#[derive(Debug)]
pub struct Turn<'a> {
    turns: &'a Turns,
    index: usize,
    passed: bool,
}

impl Turn<'_> {
    /// Blocks until every earlier file has passed its turn.
    pub fn wait(&self) {
        self.turns.wait_for(self.index);
    }

    /// Lets the next file write.
    pub fn pass(&mut self) {
        if !self.passed {
            self.passed = true;
            self.turns.wait_for(self.index);
            self.turns.advance_past(self.index);
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.pass();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn writes_happen_in_index_order_whatever_order_the_workers_get_there() {
        let turns = Arc::new(Turns::default());
        let log = Arc::new(Mutex::new(Vec::new()));
        let workers: Vec<_> = [3usize, 1, 4, 0, 2]
            .into_iter()
            .map(|index| {
                let turns = turns.clone();
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut turn = turns.of(index);
                    turn.wait();
                    log.lock().unwrap().push(index);
                    // File 2 fails before its write: dropping its turn passes it.
                    if index != 2 {
                        turn.pass();
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_turn_dropped_unused_does_not_block_the_next() {
        let turns = Turns::default();
        drop(turns.of(0));
        let mut second = turns.of(1);
        second.wait();
        second.pass();
        assert_eq!(*turns.next.lock().unwrap(), 2);
    }
}
