//! Rate limits: per client IP on the account endpoints, per account on
//! login, per user on password changes, holds and grabs.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config::Config;
use crate::problem::{Problem, ProblemCode};

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

pub struct Limits {
    auth: Keyed<IpAddr>,
    login_account: Keyed<String>,
    password: Keyed<i64>,
    booking: Keyed<i64>,
    checks: AtomicU64,
}

impl Limits {
    pub fn new(config: &Config) -> Limits {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least one"));
        Limits {
            auth: RateLimiter::keyed(quota(config.auth_rate_per_minute)),
            login_account: RateLimiter::keyed(quota(config.login_rate_per_account_per_minute)),
            password: RateLimiter::keyed(quota(config.password_rate_per_minute)),
            booking: RateLimiter::keyed(quota(config.booking_rate_per_minute)),
            checks: AtomicU64::new(0),
        }
    }

    pub fn check_auth(&self, ip: IpAddr) -> Result<(), Problem> {
        self.check(&self.auth, ip)
    }

    /// Login attempts on one account, from wherever they come: a guesser
    /// spreading over many addresses still gets only so many tries. Keyed by
    /// the normalised email whether or not the account exists, so the answer
    /// tells nothing about which emails are registered.
    pub fn check_login_account(&self, email: &str) -> Result<(), Problem> {
        self.check(&self.login_account, email.to_owned())
    }

    /// Password changes by one user, each a bcrypt check of the current password.
    pub fn check_password_change(&self, user: i64) -> Result<(), Problem> {
        self.check(&self.password, user)
    }

    pub fn check_booking(&self, user: i64) -> Result<(), Problem> {
        self.check(&self.booking, user)
    }

    fn check<K: Hash + Eq + Clone>(&self, limiter: &Keyed<K>, key: K) -> Result<(), Problem> {
        // Forget idle keys now and then so the maps stay small.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            self.auth.retain_recent();
            self.login_account.retain_recent();
            self.password.retain_recent();
            self.booking.retain_recent();
        }
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut problem = Problem::new(ProblemCode::RateLimited, "too many requests; retry later");
            problem.retry_after = Some(wait.as_secs().max(1));
            problem
        })
    }
}
