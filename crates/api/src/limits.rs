//! Rate limits: per client IP on the account endpoints, on login per
//! account and client or per device ([`Limits::check_login`]), per user on
//! password changes, holds and grabs, and per user on every signed-in write
//! ([`throttle_signed_in_writes`]). Client IPs arrive as
//! `client_ip::client_key` buckets them (an IPv6 client by its /64).

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use hothour_domain::UserId;

use crate::AppState;
use crate::config::Config;
use crate::device::Device;
use crate::problem::{Problem, ProblemCode};

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

pub struct Limits {
    auth: Keyed<IpAddr>,
    login_client: Keyed<(String, IpAddr)>,
    login_account: Keyed<String>,
    login_device: Keyed<String>,
    password: Keyed<i64>,
    /// Password reset requests per address (at the login-per-account rate).
    reset_address: Keyed<String>,
    /// Verification links a user has resent (at the password-change rate).
    resend: Keyed<i64>,
    booking: Keyed<i64>,
    writes: Keyed<i64>,
    checks: AtomicU64,
}

impl Limits {
    pub fn new(config: &Config) -> Limits {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least one"));
        Limits {
            auth: RateLimiter::keyed(quota(config.rates.auth)),
            login_client: RateLimiter::keyed(quota(config.rates.login_per_client)),
            login_account: RateLimiter::keyed(quota(config.rates.login_per_account)),
            login_device: RateLimiter::keyed(quota(config.rates.login_per_device)),
            password: RateLimiter::keyed(quota(config.rates.password)),
            reset_address: RateLimiter::keyed(quota(config.rates.login_per_account)),
            resend: RateLimiter::keyed(quota(config.rates.password)),
            booking: RateLimiter::keyed(quota(config.rates.booking)),
            writes: RateLimiter::keyed(writes_quota(config.rates.writes)),
            checks: AtomicU64::new(0),
        }
    }

    pub fn check_auth(&self, ip: IpAddr) -> Result<(), Problem> {
        self.check(&self.auth, ip)
    }

    /// A login attempt on the account of `email` (normalised) from `client`.
    ///
    /// With a device token of that account the device's own budget is the
    /// only limit: every attempt with it counts, so a stolen token guessing
    /// passwords locks itself, and nothing a stranger does elsewhere refuses
    /// the owner's right password on a device they signed in from before.
    ///
    /// Without one: the client's budget for all sign-ins, its budget on this
    /// account, and the account's budget from every such client (a guesser
    /// spreading over many addresses still gets only so many tries; the owner
    /// on a fresh device waits then too, with `Retry-After`). Keyed by the
    /// email whether or not the account exists, so the answer tells nothing
    /// about which emails are registered.
    pub fn check_login(&self, email: &str, client: IpAddr, device: Option<&Device>) -> Result<(), Problem> {
        if let Some(device) = device {
            return self.check(&self.login_device, device.id.clone());
        }
        self.check(&self.auth, client)?;
        self.check(&self.login_client, (email.to_owned(), client))?;
        self.check(&self.login_account, email.to_owned())
    }

    /// Password changes by one user, each a bcrypt check of the current password.
    pub fn check_password_change(&self, user: i64) -> Result<(), Problem> {
        self.check(&self.password, user)
    }

    /// A password reset asked for `email` (normalised) from `client`: the
    /// client's budget for account requests, and the address's from every
    /// client, whether or not an account has it (so the answer tells nothing).
    pub fn check_password_reset(&self, email: &str, client: IpAddr) -> Result<(), Problem> {
        self.check(&self.auth, client)?;
        self.check(&self.reset_address, email.to_owned())
    }

    /// A verification link resent by one user.
    pub fn check_resend(&self, user: i64) -> Result<(), Problem> {
        self.check(&self.resend, user)
    }

    pub fn check_booking(&self, user: i64) -> Result<(), Problem> {
        self.check(&self.booking, user)
    }

    /// Writes by one signed-in user, whatever they write.
    pub fn check_write(&self, user: i64) -> Result<(), Problem> {
        self.check(&self.writes, user)
    }

    fn check<K: Hash + Eq + Clone>(&self, limiter: &Keyed<K>, key: K) -> Result<(), Problem> {
        // Forget idle keys now and then so the maps stay small.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            self.auth.retain_recent();
            self.login_client.retain_recent();
            self.login_account.retain_recent();
            self.login_device.retain_recent();
            self.password.retain_recent();
            self.reset_address.retain_recent();
            self.resend.retain_recent();
            self.booking.retain_recent();
            self.writes.retain_recent();
        }
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut problem = Problem::new(ProblemCode::RateLimited, "too many requests; retry later");
            problem.retry_after = Some(wait.as_secs().max(1));
            problem
        })
    }
}

/// `per_minute` a minute, in bursts of a tenth of that: a door checking in a
/// queue passes, a loop of sign-outs or profile edits does not.
fn writes_quota(per_minute: u32) -> Quota {
    let rate = NonZeroU32::new(per_minute.max(1)).expect("at least one");
    let burst = NonZeroU32::new((per_minute / 10).max(1)).expect("at least one");
    Quota::per_minute(rate).allow_burst(burst)
}

/// Counts every signed-in write (any method but GET, HEAD and OPTIONS with a
/// valid access token) against its user's budget, before the request is read
/// further. Unsigned requests and invalid tokens pass through untouched: the
/// route answers them as it would (limited per client IP, or 401).
pub async fn throttle_signed_in_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    if let Some(user) = writing_user(&req)
        && let Some(state) = req.app_data::<web::Data<AppState>>()
        && let Err(problem) = state.limits.check_write(user.0)
    {
        return Ok(req.into_response(problem.error_response()).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The user a write is signed by, if it is a write and the token is valid.
fn writing_user(req: &ServiceRequest) -> Option<UserId> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let state = req.app_data::<web::Data<AppState>>()?;
    let header = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer "))?;
    state.keys.verify_at(token.trim(), chrono::Utc::now()).map(|token| token.user)
}
