//! The lockout rule: three failed attempts in a row lock an account for 15 minutes from the
//! third; once the lock has expired the count starts again from zero; a successful login
//! clears it. Pure: the time is an input. `auth` does authentication only: it may use
//! `crate::error`, std and crates, never storage, HTTP or consent.

/// Failed attempts that lock an account.
pub const MAX_FAILURES: i64 = 3;
/// How long a lock lasts, in milliseconds.
pub const LOCK_MILLIS: i64 = 15 * 60 * 1000;

/// The failure count and lock of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockState {
    /// Failed attempts since the last success or the end of the last lock.
    pub failures: i64,
    /// Milliseconds since the epoch until which the account is locked.
    pub locked_until: Option<i64>,
}

impl LockState {
    /// The state as it stands at `now`: an expired lock is gone, with its count.
    pub fn at(self, now: i64) -> LockState {
        match self.locked_until {
            Some(until) if until <= now => LockState::default(),
            _ => self,
        }
    }

    /// Whether the account is locked at `now`.
    pub fn is_locked(self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    /// The state after a failed attempt at `now`. An attempt on a locked account changes
    /// nothing (the lock is not extended); the attempt that reaches `MAX_FAILURES` locks.
    pub fn after_failure(self, now: i64) -> LockState {
        let current = self.at(now);
        if current.is_locked(now) {
            return current;
        }
        let failures = current.failures.saturating_add(1);
        LockState {
            failures,
            locked_until: (failures >= MAX_FAILURES).then(|| now.saturating_add(LOCK_MILLIS)),
        }
    }

    /// The state after a successful login.
    pub fn after_success() -> LockState {
        LockState::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_000_000;

    #[test]
    fn the_third_failure_locks_for_fifteen_minutes() {
        let once = LockState::default().after_failure(T0);
        assert_eq!(
            once,
            LockState {
                failures: 1,
                locked_until: None
            }
        );
        let twice = once.after_failure(T0 + 10);
        assert!(!twice.is_locked(T0 + 10));
        let thrice = twice.after_failure(T0 + 20);
        assert_eq!(thrice.locked_until, Some(T0 + 20 + LOCK_MILLIS));
        assert!(thrice.is_locked(T0 + 20));
        assert!(thrice.is_locked(T0 + 20 + LOCK_MILLIS - 1));
        assert!(!thrice.is_locked(T0 + 20 + LOCK_MILLIS));
    }

    #[test]
    fn attempts_while_locked_do_not_extend_the_lock() {
        let locked = LockState {
            failures: 3,
            locked_until: Some(T0 + LOCK_MILLIS),
        };
        assert_eq!(locked.after_failure(T0 + 60_000), locked);
    }

    #[test]
    fn an_expired_lock_starts_the_count_again() {
        let locked = LockState {
            failures: 3,
            locked_until: Some(T0),
        };
        assert_eq!(locked.at(T0), LockState::default());
        assert_eq!(locked.at(T0 - 1), locked);
        let after = locked.after_failure(T0);
        assert_eq!(
            after,
            LockState {
                failures: 1,
                locked_until: None
            }
        );
    }

    #[test]
    fn success_clears_everything() {
        assert_eq!(LockState::after_success(), LockState::default());
    }
}
