//! Configuration from the environment, validated at start.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hothour_domain::Policy;
use ipnet::IpNet;

/// The development default; accepted only in development or test mode on a
/// loopback address, where nobody else can reach the service.
pub const DEV_JWT_SECRET: &str = "hothour-development-secret-change-me";
/// Without `DATABASE_URL` the service keeps its data in a SQLite file here.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/hothour.db";

/// One setting: its name, its default (the one place it is declared) and what it means.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: &'static str,
    pub default: String,
    pub meaning: &'static str,
}

fn v(name: &'static str, default: impl Into<String>, meaning: &'static str) -> Variable {
    Variable { name, default: default.into(), meaning }
}

/// Every variable with its default, for `--help`, the README and the parser
/// ([`Config::from_lookup`] takes its defaults from here). The booking rules'
/// defaults are the domain's own ([`Policy::default`]).
pub fn variables() -> Vec<Variable> {
    let policy = Policy::default();
    let seconds = |duration: chrono::Duration| duration.num_seconds().to_string();
    vec![
        v("DATABASE_URL", DEFAULT_DATABASE_URL, "postgres://… for PostgreSQL, else a SQLite file (created if missing)"),
        v(
            "NATS_URL",
            "",
            "nats://host:4222: the outbox relay publishes to NATS JetStream and instances consume from it \
             instead of NOTIFY/LISTEN (PostgreSQL only; refused with SQLite); empty: PostgreSQL alone",
        ),
        v(
            "NATS_PREFIX",
            "hothour",
            "starts the NATS subjects (`<prefix>.outbox.<room>`) and the stream's name (`<PREFIX>_OUTBOX`): \
             lower-case letters, digits, `_` and `-`",
        ),
        v("BIND", "127.0.0.1:8080", "address to listen on (port 0 picks a free port)"),
        v(
            "APP_ENV",
            "development",
            "`development` or `test` allow the development JWT_SECRET (on a loopback BIND only)",
        ),
        v(
            "JWT_SECRET",
            DEV_JWT_SECRET,
            "HS256 secret for access tokens, at least 32 bytes; required outside development/test or off loopback",
        ),
        v("ACCESS_TOKEN_TTL", "900", "seconds an access token lives"),
        v("REFRESH_TOKEN_TTL", "604800", "seconds a refresh token lives"),
        v("BCRYPT_COST", "12", "bcrypt work factor (4..=31)"),
        v(
            "CURRENCY",
            "TRY",
            "ISO 4217 code (three capital letters) of every amount; clients read it from GET /api/v1/config",
        ),
        v("HOLD_TTL", seconds(policy.hold_ttl), "seconds a hold lasts before it must be confirmed"),
        v("MAX_SEATS_PER_HOLD", policy.max_seats_per_hold.to_string(), "the most seats one hold may take"),
        v(
            "CANCEL_CUTOFF",
            seconds(policy.cancel_cutoff),
            "seconds before the session after which owners can no longer cancel",
        ),
        v(
            "NO_SHOW_GRACE",
            seconds(policy.no_show_grace),
            "seconds after the session start before an unchecked booking is NO_SHOW",
        ),
        v(
            "CHECKIN_OPENS_BEFORE",
            seconds(policy.check_in_opens_before),
            "seconds before the session start from which bookings can be checked in (until the session ends)",
        ),
        v(
            "REMINDER_BEFORE",
            seconds(policy.reminder_before),
            "seconds before the session start when each booking's reminder email goes (a booking made later gets it at once)",
        ),
        v(
            "RATE_LIMIT_AUTH_PER_MINUTE",
            "30",
            "register/login/refresh requests per client IP (an IPv6 client: per /64) per minute",
        ),
        v(
            "RATE_LIMIT_LOGIN_PER_CLIENT_PER_MINUTE",
            "10",
            "login attempts per account (email) and client IP per minute, without a device token",
        ),
        v(
            "RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE",
            "20",
            "login attempts per account (email) per minute from all clients without a device token of that account",
        ),
        v(
            "RATE_LIMIT_LOGIN_PER_DEVICE_PER_MINUTE",
            "10",
            "login attempts per minute with one device token (the only limit on them)",
        ),
        v("RATE_LIMIT_PASSWORD_PER_MINUTE", "5", "password changes (each a bcrypt check) per user per minute"),
        v("RATE_LIMIT_BOOKING_PER_MINUTE", "60", "hold and grab requests per user per minute"),
        v(
            "RATE_LIMIT_WRITES_PER_MINUTE",
            "600",
            "signed-in writes (every method but GET/HEAD/OPTIONS) per user per minute, in bursts of up to a tenth of that",
        ),
        v("TRUSTED_PROXIES", "", "comma-separated proxy addresses or CIDR ranges whose X-Forwarded-For is believed"),
        v("DB_LOCK_TIMEOUT_MS", "2000", "how long a request waits for a locked row before 503 busy"),
        v(
            "IDEMPOTENCY_LEASE_SECS",
            "10",
            "seconds a retry with the Idempotency-Key of an unanswered request gets 409; after that it runs again",
        ),
        v("DB_MAX_CONNECTIONS", "16", "database connection pool size"),
        v(
            "HOLD_LANES",
            "2",
            "hold transactions one instance runs at once; holds queued in one lane (several events' too) share a commit",
        ),
        v(
            "DB_ACQUIRE_TIMEOUT_MS",
            "900",
            "how long a request waits for a database connection before 503 (busy, or unavailable during an outage)",
        ),
        v("CORS_ORIGINS", "", "comma-separated origins allowed to call the API from a browser"),
        v(
            "HSTS_MAX_AGE",
            "0",
            "seconds browsers keep to HTTPS (Strict-Transport-Security); 0 sends no HSTS: set it only when served over HTTPS",
        ),
        v("WS_QUEUE_CAPACITY", "256", "messages a WebSocket may have waiting before it is dropped as too slow"),
        v("WS_MAX_ROOMS_PER_SOCKET", "50", "rooms one WebSocket may join at once (more: `too_many_rooms` error frame)"),
        v(
            "WS_OPS_PER_SECOND",
            "25",
            "ops one WebSocket may send per second, in bursts of up to twice that (then `rate_limited`)",
        ),
        v("WS_MAX_SOCKETS_PER_IP", "100", "WebSockets open at once from one client IP (more: closed with 1013)"),
        v(
            "BACKGROUND_JOBS",
            "true",
            "run hold expiry, auction status, no-show, email sending and pruning (outbox, idempotency keys, refresh tokens) jobs here",
        ),
        v(
            "PAYMENTS",
            "none",
            "`none` (confirm books; pay at the studio) or `stripe` (a hold is paid by card before it is confirmed)",
        ),
        v("STRIPE_SECRET_KEY", "", "Stripe's secret API key (`sk_…`); required with PAYMENTS=stripe"),
        v(
            "STRIPE_PUBLISHABLE_KEY",
            "",
            "Stripe's publishable key (`pk_…`), given to browsers; required with PAYMENTS=stripe",
        ),
        v(
            "STRIPE_WEBHOOK_SECRET",
            "",
            "the webhook endpoint's signing secret (`whsec_…`); required with PAYMENTS=stripe",
        ),
        v(
            "STRIPE_API_BASE",
            hothour_infra_stripe::DEFAULT_API_BASE,
            "Stripe's API (a Stripe-compatible server in tests)",
        ),
        v("STRIPE_JS_URL", hothour_infra_stripe::DEFAULT_JS_URL, "where browsers load Stripe.js from"),
        v(
            "SMTP_URL",
            "",
            "the SMTP server email goes through: smtp://user:pass@host:port (plain; add ?tls=required for STARTTLS), \
             smtps://user:pass@host:port (TLS); empty writes each message as an .eml file under MAIL_DIR",
        ),
        v("MAIL_DIR", "data/mail", "where messages are written as .eml files when no SMTP_URL is set"),
        v("MAIL_FROM", "HotHour <no-reply@localhost>", "the From of every email"),
        v("PUBLIC_URL", "http://127.0.0.1:8080", "where people reach the web client: the links in email start with it"),
        v(
            "MAIL_MAX_ATTEMPTS",
            hothour_domain::mail::MailPolicy::default().max_attempts.to_string(),
            "tries per email (the wait doubles from 30 s up to an hour between them) before it is given up as dead",
        ),
        v("LOG_FORMAT", "text", "`json` for JSON log lines (each carries its request's id)"),
        v("RUST_LOG", "info", "log filter"),
    ]
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub app_env: String,
    pub database: Database,
    pub sign_in: SignIn,
    /// The ISO 4217 code of every amount.
    pub currency: String,
    /// The booking rules.
    pub policy: Policy,
    pub rates: RateLimits,
    pub web: Web,
    /// How long an unanswered idempotent request keeps its key from retries.
    pub idempotency_lease: Duration,
    pub sockets: SocketLimits,
    pub background_jobs: bool,
    pub payments: crate::payments::PaymentsConfig,
    pub mail: crate::mail::MailConfig,
}

/// The database, and how long a request waits for it.
#[derive(Debug, Clone)]
pub struct Database {
    pub url: String,
    pub max_connections: u32,
    /// For a connection from the pool.
    pub acquire_timeout: Duration,
    /// For a locked row.
    pub lock_timeout: Duration,
    /// Where the PostgreSQL store's announcements go instead of NOTIFY/LISTEN.
    pub nats: Option<hothour_infra_postgres::NatsConfig>,
    /// Hold transactions one instance runs at once (see `Services::with_hold_lanes`).
    pub hold_lanes: u32,
}

impl Database {
    /// Whether `url` names a PostgreSQL database (anything else is a SQLite file).
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")
    }
}

/// The access tokens' secret and lifetimes, and the cost of a password hash.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub jwt_secret: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub bcrypt_cost: u32,
}

/// Requests per minute each of `limits::Limits` allows.
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Register, login and refresh, per client.
    pub auth: u32,
    /// Logins without a device token, per account and client.
    pub login_per_client: u32,
    /// Logins without a device token of the account, per account.
    pub login_per_account: u32,
    /// Logins with one device token.
    pub login_per_device: u32,
    /// Password changes, per user.
    pub password: u32,
    /// Holds and grabs, per user.
    pub booking: u32,
    /// Signed-in writes, per user.
    pub writes: u32,
}

/// What browsers and proxies in front of the server are trusted with.
#[derive(Debug, Clone)]
pub struct Web {
    /// The proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The origins allowed to call the API from a browser.
    pub cors_origins: Vec<String>,
    /// `Strict-Transport-Security: max-age=…`, when served over HTTPS.
    pub hsts_max_age: Option<u64>,
}

/// The limits of one live socket, and of the sockets of one client.
#[derive(Debug, Clone)]
pub struct SocketLimits {
    /// Messages waiting to be sent before the socket is dropped as too slow.
    pub queue_capacity: usize,
    /// Rooms joined at once.
    pub max_rooms: usize,
    /// Ops sent per second.
    pub ops_per_second: u32,
    /// Sockets open at once from one client IP.
    pub max_per_ip: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    /// `APP_ENV` is `development` or `test`: a developer's machine or a test run.
    pub fn is_development(&self) -> bool {
        matches!(self.app_env.as_str(), "development" | "test")
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let variables = variables();
        let default = |name: &str| -> String {
            let declared = variables.iter().find(|variable| variable.name == name);
            declared.map(|variable| variable.default.clone()).unwrap_or_else(|| panic!("{name} is not in variables()"))
        };
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty()).unwrap_or_else(|| default(name));
        let number = |name: &'static str, range: std::ops::RangeInclusive<u64>| -> Result<u64, ConfigError> {
            let value = get(name);
            match value.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(ConfigError::Invalid {
                    name,
                    reason: format!("expected a whole number in {}..={}, got {value:?}", range.start(), range.end()),
                }),
            }
        };
        let seconds = |name, max| number(name, 1..=max).map(Duration::from_secs);
        let app_env = get("APP_ENV");
        let bind = get("BIND");
        let jwt_secret = get("JWT_SECRET");
        if jwt_secret == DEV_JWT_SECRET {
            if !matches!(app_env.as_str(), "development" | "test") {
                return Err(ConfigError::Invalid {
                    name: "JWT_SECRET",
                    reason: format!(
                        "set a secret of your own: the development default is refused with APP_ENV={app_env:?} \
                         (allowed only with development or test)"
                    ),
                });
            }
            if !is_loopback(&bind) {
                return Err(ConfigError::Invalid {
                    name: "JWT_SECRET",
                    reason: format!(
                        "set a secret of your own: the development default is refused when BIND={bind:?} \
                         is reachable from other machines (only a loopback address may use it)"
                    ),
                });
            }
        }
        if jwt_secret.len() < 32 {
            return Err(ConfigError::Invalid { name: "JWT_SECRET", reason: "must be at least 32 bytes".into() });
        }
        const DAY: u64 = 86_400;
        const PER_MINUTE: std::ops::RangeInclusive<u64> = 1..=1_000_000;
        let rate = |name| number(name, PER_MINUTE).map(|n| n as u32);
        let chrono_seconds = |seconds: u64| chrono::Duration::seconds(seconds as i64);
        // Read in this order, so that of several bad settings the same one is named.
        let sign_in = SignIn {
            jwt_secret,
            access_token_ttl: seconds("ACCESS_TOKEN_TTL", DAY)?,
            refresh_token_ttl: seconds("REFRESH_TOKEN_TTL", 365 * DAY)?,
            bcrypt_cost: number("BCRYPT_COST", 4..=31)? as u32,
        };
        let hold_ttl = chrono_seconds(seconds("HOLD_TTL", DAY)?.as_secs());
        let max_seats_per_hold = number("MAX_SEATS_PER_HOLD", 1..=1000)? as u32;
        let currency = currency(&get("CURRENCY"))?;
        let policy = Policy {
            hold_ttl,
            max_seats_per_hold,
            cancel_cutoff: chrono_seconds(number("CANCEL_CUTOFF", 0..=30 * DAY)?),
            no_show_grace: chrono_seconds(number("NO_SHOW_GRACE", 0..=DAY)?),
            check_in_opens_before: chrono_seconds(number("CHECKIN_OPENS_BEFORE", 0..=7 * DAY)?),
            reminder_before: chrono_seconds(number("REMINDER_BEFORE", 0..=7 * DAY)?),
        };
        let rates = RateLimits {
            auth: rate("RATE_LIMIT_AUTH_PER_MINUTE")?,
            login_per_client: rate("RATE_LIMIT_LOGIN_PER_CLIENT_PER_MINUTE")?,
            login_per_account: rate("RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE")?,
            login_per_device: rate("RATE_LIMIT_LOGIN_PER_DEVICE_PER_MINUTE")?,
            password: rate("RATE_LIMIT_PASSWORD_PER_MINUTE")?,
            booking: rate("RATE_LIMIT_BOOKING_PER_MINUTE")?,
            writes: rate("RATE_LIMIT_WRITES_PER_MINUTE")?,
        };
        let trusted_proxies = trusted_proxies(&get("TRUSTED_PROXIES"))?;
        let lock_timeout = Duration::from_millis(number("DB_LOCK_TIMEOUT_MS", 1..=600_000)?);
        let idempotency_lease = seconds("IDEMPOTENCY_LEASE_SECS", 3600)?;
        let mut database = Database {
            url: get("DATABASE_URL"),
            max_connections: number("DB_MAX_CONNECTIONS", 1..=1000)? as u32,
            acquire_timeout: Duration::from_millis(number("DB_ACQUIRE_TIMEOUT_MS", 50..=600_000)?),
            lock_timeout,
            nats: None,
            hold_lanes: number("HOLD_LANES", 1..=1024)? as u32,
        };
        database.nats = nats(&database, get("NATS_URL"), get("NATS_PREFIX"))?;
        let cors_origins =
            get("CORS_ORIGINS").split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect();
        let web = Web {
            trusted_proxies,
            cors_origins,
            hsts_max_age: Some(number("HSTS_MAX_AGE", 0..=2 * 365 * DAY)?).filter(|&seconds| seconds > 0),
        };
        Ok(Config {
            bind,
            app_env,
            database,
            sign_in,
            currency: currency.clone(),
            policy,
            rates,
            web,
            idempotency_lease,
            sockets: SocketLimits {
                queue_capacity: number("WS_QUEUE_CAPACITY", 1..=1_000_000)? as usize,
                max_rooms: number("WS_MAX_ROOMS_PER_SOCKET", 1..=100_000)? as usize,
                ops_per_second: number("WS_OPS_PER_SECOND", 1..=1_000_000)? as u32,
                max_per_ip: number("WS_MAX_SOCKETS_PER_IP", 1..=10_000_000)? as usize,
            },
            background_jobs: match get("BACKGROUND_JOBS").as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                other => {
                    return Err(ConfigError::Invalid {
                        name: "BACKGROUND_JOBS",
                        reason: format!("expected true or false, got {other:?}"),
                    });
                }
            },
            payments: crate::payments::PaymentsConfig::read(get, &currency)?,
            mail: crate::mail::MailConfig::read(get)?,
        })
    }
}

/// NATS for the PostgreSQL store's announcements, when `url` is set.
fn nats(
    database: &Database,
    url: String,
    prefix: String,
) -> Result<Option<hothour_infra_postgres::NatsConfig>, ConfigError> {
    if url.trim().is_empty() {
        return Ok(None);
    }
    if !database.is_postgres() {
        return Err(ConfigError::Invalid {
            name: "NATS_URL",
            reason: "NATS carries the PostgreSQL store's announcements; the SQLite store announces each commit \
                     in-process: unset NATS_URL, or set DATABASE_URL to a PostgreSQL database"
                .into(),
        });
    }
    // Lower case only: the stream's name is the prefix upper-cased, so two
    // prefixes differing in case would share (and fight over) one stream.
    let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
    if prefix.is_empty() || prefix.len() > 64 || !prefix.chars().all(valid) {
        return Err(ConfigError::Invalid {
            name: "NATS_PREFIX",
            reason: format!("expected 1 to 64 lower-case letters, digits, `_` or `-`, got {prefix:?}"),
        });
    }
    Ok(Some(hothour_infra_postgres::NatsConfig { url: url.trim().to_owned(), prefix }))
}

/// Whether `bind` (`host:port`) listens only on this machine.
fn is_loopback(bind: &str) -> bool {
    if let Ok(address) = bind.parse::<SocketAddr>() {
        return address.ip().is_loopback();
    }
    bind.rsplit_once(':').is_some_and(|(host, _)| host.eq_ignore_ascii_case("localhost"))
}

/// Checks `CURRENCY`: an ISO 4217 code is three capital letters.
fn currency(code: &str) -> Result<String, ConfigError> {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code.to_owned())
    } else {
        Err(ConfigError::Invalid {
            name: "CURRENCY",
            reason: format!("expected an ISO 4217 code of three capital letters such as TRY, got {code:?}"),
        })
    }
}

/// Parses `TRUSTED_PROXIES`: addresses (`10.0.0.7`) or ranges (`10.0.0.0/8`), comma-separated.
fn trusted_proxies(list: &str) -> Result<Vec<IpNet>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry.parse::<IpNet>().or_else(|_| entry.parse::<IpAddr>().map(IpNet::from)).map_err(|_| {
                ConfigError::Invalid {
                    name: "TRUSTED_PROXIES",
                    reason: format!("expected IP addresses or CIDR ranges, got {entry:?}"),
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_serve_locally() {
        let config = config(&[]).unwrap();
        assert_eq!(config.bind, "127.0.0.1:8080");
        assert_eq!(config.policy.hold_ttl, chrono::Duration::minutes(5));
        assert_eq!(config.sign_in.access_token_ttl, Duration::from_secs(900));
        assert_eq!(config.idempotency_lease, Duration::from_secs(10));
        assert_eq!(config.policy.cancel_cutoff, chrono::Duration::hours(2));
        assert_eq!(config.policy.check_in_opens_before, chrono::Duration::hours(2));
    }

    #[test]
    fn the_check_in_window_opens_at_most_a_week_before() {
        let early = config(&[("CHECKIN_OPENS_BEFORE", "1800")]).unwrap();
        assert_eq!(early.policy.check_in_opens_before, chrono::Duration::minutes(30));
        for bad in ["604801", "-1", "soon"] {
            let error = config(&[("CHECKIN_OPENS_BEFORE", bad)]).unwrap_err();
            assert!(matches!(error, ConfigError::Invalid { name: "CHECKIN_OPENS_BEFORE", .. }), "{bad}");
        }
    }

    #[test]
    fn reminders_go_three_hours_ahead_unless_configured() {
        assert_eq!(config(&[]).unwrap().policy.reminder_before, chrono::Duration::hours(3));
        assert_eq!(config(&[("REMINDER_BEFORE", "3600")]).unwrap().policy.reminder_before, chrono::Duration::hours(1));
        let error = config(&[("REMINDER_BEFORE", "a day")]).unwrap_err();
        assert!(matches!(error, ConfigError::Invalid { name: "REMINDER_BEFORE", .. }));
    }

    #[test]
    fn the_development_secret_is_refused_outside_development_and_test() {
        for app_env in ["production", "prod", "Production", "staging", "Development", "anything"] {
            let error = config(&[("APP_ENV", app_env)]).unwrap_err();
            assert!(matches!(error, ConfigError::Invalid { name: "JWT_SECRET", .. }), "{app_env}");
            assert!(config(&[("APP_ENV", app_env), ("JWT_SECRET", &"s".repeat(40))]).is_ok(), "{app_env}");
        }
        assert!(config(&[("APP_ENV", "development")]).is_ok());
        assert!(config(&[("APP_ENV", "test")]).is_ok());
        assert!(config(&[("JWT_SECRET", "short")]).is_err());
    }

    #[test]
    fn the_development_secret_is_refused_off_loopback_in_every_mode() {
        for bind in ["0.0.0.0:8080", "[::]:8080", "10.1.2.3:8080", "example.com:8080"] {
            for app_env in ["development", "test"] {
                let error = config(&[("APP_ENV", app_env), ("BIND", bind)]).unwrap_err();
                assert!(matches!(error, ConfigError::Invalid { name: "JWT_SECRET", .. }), "{app_env} {bind}");
            }
            assert!(config(&[("BIND", bind), ("JWT_SECRET", &"s".repeat(40))]).is_ok(), "{bind}");
        }
        for bind in ["127.0.0.1:0", "[::1]:8080", "localhost:8080", "127.9.9.9:80"] {
            assert!(config(&[("BIND", bind)]).is_ok(), "{bind}");
        }
    }

    #[test]
    fn currency_is_three_capital_letters() {
        assert_eq!(currency("EUR").unwrap(), "EUR");
        for bad in ["", "eur", "EURO", "E1R", "€€€"] {
            assert!(currency(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let config = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,::1")]).unwrap();
        let expected: Vec<IpNet> =
            vec!["10.0.0.0/8".parse().unwrap(), "192.168.1.7/32".parse().unwrap(), "::1/128".parse().unwrap()];
        assert_eq!(config.web.trusted_proxies, expected);
        let error = self::config(&[("TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")]).unwrap_err();
        assert!(error.to_string().contains("proxy.local"), "{error}");
    }

    #[test]
    fn nats_is_for_postgresql_only_and_its_prefix_is_one_subject_token() {
        assert_eq!(config(&[]).unwrap().database.nats, None, "PostgreSQL alone by default");
        let postgres = ("DATABASE_URL", "postgres://u@h/db");
        let nats = config(&[postgres, ("NATS_URL", "nats://127.0.0.1:4222")]).unwrap().database.nats.unwrap();
        assert_eq!((nats.url.as_str(), nats.prefix.as_str()), ("nats://127.0.0.1:4222", "hothour"));
        let error = config(&[("NATS_URL", "nats://127.0.0.1:4222")]).unwrap_err();
        assert!(error.to_string().starts_with("NATS_URL is invalid"), "{error}");
        for prefix in ["a.b", "a b", "a>", "*", "Hothour"] {
            let error = config(&[postgres, ("NATS_URL", "nats://h"), ("NATS_PREFIX", prefix)]).unwrap_err();
            assert!(error.to_string().starts_with("NATS_PREFIX is invalid"), "{error}");
        }
    }

    #[test]
    fn bad_numbers_are_named() {
        let error = config(&[("HOLD_TTL", "five")]).unwrap_err();
        assert!(error.to_string().starts_with("HOLD_TTL is invalid"));
        assert!(config(&[("HOLD_TTL", "0")]).is_err());
        assert!(config(&[("BCRYPT_COST", "3")]).is_err());
    }

    #[test]
    fn every_variable_is_documented() {
        for name in [
            "DATABASE_URL",
            "JWT_SECRET",
            "HOLD_TTL",
            "CORS_ORIGINS",
            "BIND",
            "APP_ENV",
            "BCRYPT_COST",
            "WS_MAX_ROOMS_PER_SOCKET",
            "WS_OPS_PER_SECOND",
            "WS_MAX_SOCKETS_PER_IP",
            "RATE_LIMIT_WRITES_PER_MINUTE",
            "RATE_LIMIT_LOGIN_PER_CLIENT_PER_MINUTE",
            "RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE",
            "RATE_LIMIT_LOGIN_PER_DEVICE_PER_MINUTE",
            "HSTS_MAX_AGE",
        ] {
            assert!(variables().iter().any(|variable| variable.name == name), "{name}");
        }
    }

    #[test]
    fn every_default_is_declared_once_and_parses() {
        let config = Config::from_lookup(|_| None).expect("the declared defaults are valid");
        assert_eq!(config.policy, Policy::default(), "the booking rules' defaults are the domain's");
        let variables = variables();
        for variable in &variables {
            assert_eq!(variables.iter().filter(|other| other.name == variable.name).count(), 1, "{}", variable.name);
        }
    }
}
