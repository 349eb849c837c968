//! Which search statements connections keep prepared. A search's SQL is built per query,
//! so its text is one of many shapes (parameters, modifiers, numbers of values, the
//! subject's consent filter); preparing a shape once per connection spares PostgreSQL
//! the parse and plan of every later run (a few tenths of a millisecond each, more than
//! most searches take to execute) and SQLite its compile. The driver keeps every statement
//! it prepared for the life of the connection, so the shapes prepared are bounded here:
//! the first `CAPACITY` shapes seen by the process are, any later one runs unprepared.
//! Clients cannot grow the server's memory by inventing shapes.

use std::collections::HashSet;
use std::sync::Mutex;

/// Most search shapes prepared (per connection, since each prepares its own).
const CAPACITY: usize = 512;

/// The SQL texts of the search shapes admitted to be prepared (held by the `Store`).
#[derive(Debug, Default)]
pub struct PreparedShapes {
    admitted: Mutex<HashSet<String>>,
}

impl PreparedShapes {
    /// Whether `sql` may run as a prepared (cached) statement: already admitted, or
    /// admitted now while there is room.
    pub fn admit(&self, sql: &str) -> bool {
        let Ok(mut admitted) = self.admitted.lock() else {
            return false;
        };
        if admitted.contains(sql) {
            return true;
        }
        if admitted.len() >= CAPACITY {
            return false;
        }
        admitted.insert(sql.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_admitted_up_to_the_capacity_and_known_ones_stay_admitted() {
        let shapes = PreparedShapes::default();
        for n in 0..CAPACITY {
            assert!(shapes.admit(&format!("SELECT {n}")));
        }
        assert!(!shapes.admit("SELECT 'one too many'"));
        assert!(shapes.admit("SELECT 0"));
        assert!(shapes.admit(&format!("SELECT {}", CAPACITY - 1)));
    }
}
