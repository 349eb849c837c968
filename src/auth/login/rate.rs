//! Per-client rate limiting of the login endpoints: a token bucket per client key (an IPv4
//! address, or the /64 network of an IPv6 address, since one host owns a whole /64). Time
//! is an input; the buckets live in the limiter the server holds (no globals). `auth` does
//! authentication only: it may use `crate::error`, std and crates, never storage, HTTP or
//! consent.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

/// Buckets kept before idle (full) ones are dropped.
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// The rate-limit key of a client address.
pub fn client_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: i64,
}

/// Token buckets: each client may make `burst` requests at once, refilled at
/// `per_minute` requests a minute. A limit of zero per minute disables limiting.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    burst: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            burst: burst.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request of `client` at `now` (milliseconds): `Ok` when allowed, else the
    /// whole seconds to wait before the next one is.
    pub fn check(&self, client: &str, now: i64) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.burst);
        let per_milli = f64::from(self.per_minute) / 60_000.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED_CLIENTS && !buckets.contains_key(client) {
            buckets.retain(|_, b| refilled(*b, now, per_milli, capacity) < capacity);
            if buckets.len() >= MAX_TRACKED_CLIENTS {
                // Too many active clients to track: start afresh rather than grow.
                buckets.clear();
            }
        }
        let bucket = buckets.entry(client.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let tokens = refilled(*bucket, now, per_milli, capacity);
        bucket.updated = now.max(bucket.updated);
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            Ok(())
        } else {
            bucket.tokens = tokens;
            let wait_millis = (1.0 - tokens) / per_milli;
            Err((wait_millis / 1000.0).ceil().max(1.0) as u64)
        }
    }
}

/// The tokens of `bucket` at `now`.
fn refilled(bucket: Bucket, now: i64, per_milli: f64, capacity: f64) -> f64 {
    let elapsed = now.saturating_sub(bucket.updated).max(0) as f64;
    (bucket.tokens + elapsed * per_milli).min(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_request_per_refill() {
        let limiter = RateLimiter::new(10, 5);
        for _ in 0..5 {
            assert_eq!(limiter.check("a", 0), Ok(()));
        }
        assert_eq!(limiter.check("a", 0), Err(6));
        // Another client has its own bucket.
        assert_eq!(limiter.check("b", 0), Ok(()));
        assert_eq!(limiter.check("a", 3_000), Err(3));
        assert_eq!(limiter.check("a", 6_000), Ok(()));
        assert!(limiter.check("a", 6_000).is_err());
        // A long pause refills up to the burst, no more.
        for _ in 0..5 {
            assert_eq!(limiter.check("a", 10_000_000), Ok(()));
        }
        assert!(limiter.check("a", 10_000_000).is_err());
    }

    #[test]
    fn zero_per_minute_disables_the_limit() {
        let limiter = RateLimiter::new(0, 1);
        for _ in 0..100 {
            assert_eq!(limiter.check("a", 0), Ok(()));
        }
    }

    #[test]
    fn the_clients_kept_are_bounded() {
        let limiter = RateLimiter::new(60, 1);
        for i in 0..(MAX_TRACKED_CLIENTS + 10) {
            let _ = limiter.check(&format!("c{i}"), 0);
        }
        let tracked = limiter.buckets.lock().unwrap().len();
        assert!(tracked <= MAX_TRACKED_CLIENTS, "{tracked}");
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_eq!(client_key("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(client_key("192.0.2.7".parse().unwrap()), "192.0.2.7");
    }
}
