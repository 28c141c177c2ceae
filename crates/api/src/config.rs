//! Configuration from the environment, validated at start.

use std::time::Duration;

/// The development default; refused when `APP_ENV=production`.
pub const DEV_JWT_SECRET: &str = "hothour-development-secret-change-me";
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/hothour";

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    pub app_env: String,
    pub jwt_secret: String,
    pub hold_ttl: Duration,
    pub lock_timeout: Duration,
    pub db_max_connections: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get =
            |name: &str, default: &str| lookup(name).filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned());
        let app_env = get("APP_ENV", "development");
        let jwt_secret = get("JWT_SECRET", DEV_JWT_SECRET);
        if app_env == "production" && jwt_secret == DEV_JWT_SECRET {
            return Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                reason: "the development default cannot be used with APP_ENV=production".into(),
            });
        }
        if jwt_secret.len() < 32 {
            return Err(ConfigError::Invalid { name: "JWT_SECRET", reason: "must be at least 32 bytes".into() });
        }
        Ok(Config {
            database_url: get("DATABASE_URL", DEFAULT_DATABASE_URL),
            bind: get("BIND", "127.0.0.1:8080"),
            app_env,
            jwt_secret,
            hold_ttl: Duration::from_secs(seconds(&lookup, "HOLD_TTL", 300)?),
            lock_timeout: Duration::from_millis(seconds(&lookup, "DB_LOCK_TIMEOUT_MS", 2000)?),
            db_max_connections: seconds(&lookup, "DB_MAX_CONNECTIONS", 16)? as u32,
        })
    }
}

/// A positive integer variable.
fn seconds(lookup: &impl Fn(&str) -> Option<String>, name: &'static str, default: u64) -> Result<u64, ConfigError> {
    match lookup(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(value) => match value.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(ConfigError::Invalid { name, reason: format!("expected a positive whole number, got {value:?}") }),
        },
    }
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
        assert_eq!(config.hold_ttl, Duration::from_secs(300));
    }

    #[test]
    fn production_refuses_the_development_secret() {
        let error = config(&[("APP_ENV", "production")]).unwrap_err();
        assert!(matches!(error, ConfigError::Invalid { name: "JWT_SECRET", .. }));
        assert!(config(&[("APP_ENV", "production"), ("JWT_SECRET", &"s".repeat(40))]).is_ok());
    }

    #[test]
    fn bad_numbers_are_named() {
        let error = config(&[("HOLD_TTL", "five")]).unwrap_err();
        assert!(error.to_string().starts_with("HOLD_TTL is invalid"));
        assert!(config(&[("HOLD_TTL", "0")]).is_err());
    }
}
