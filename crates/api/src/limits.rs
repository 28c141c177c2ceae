//! Rate limits: per client IP on the account endpoints, per user on holds and grabs.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::problem::Problem;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

pub struct Limits {
    auth: Keyed<IpAddr>,
    booking: Keyed<i64>,
    checks: AtomicU64,
}

impl Limits {
    pub fn new(auth_per_minute: u32, booking_per_minute: u32) -> Limits {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least one"));
        Limits {
            auth: RateLimiter::keyed(quota(auth_per_minute)),
            booking: RateLimiter::keyed(quota(booking_per_minute)),
            checks: AtomicU64::new(0),
        }
    }

    pub fn check_auth(&self, ip: IpAddr) -> Result<(), Problem> {
        self.check(&self.auth, ip)
    }

    pub fn check_booking(&self, user: i64) -> Result<(), Problem> {
        self.check(&self.booking, user)
    }

    fn check<K: Hash + Eq + Clone>(&self, limiter: &Keyed<K>, key: K) -> Result<(), Problem> {
        // Forget idle keys now and then so the maps stay small.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            self.auth.retain_recent();
            self.booking.retain_recent();
        }
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut problem =
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; retry later");
            problem.retry_after = Some(wait.as_secs().max(1));
            problem
        })
    }
}
