//! Email at the edge (SPEC §14): where it leaves (an SMTP server named by
//! `SMTP_URL`, or `.eml` files under `MAIL_DIR`), who it is from, the links
//! it carries, and the sender's round that the background jobs run on every
//! instance. Messages are recorded by the decisions that cause them (the
//! domain's `Effects::mail`); rendering is in [`compose`].

mod accounts;
pub mod compose;
pub mod format;
pub mod qr;

use std::sync::Arc;

use hothour_domain::mail::{DeliveryReport, MailPolicy, Mailer, deliver_due};
use hothour_domain::{Clock, DomainError};
use hothour_infra_mail::{FileMailer, SmtpMailer};

use crate::AppState;
use crate::config::ConfigError;

/// Messages one sender claims at a time (sent one after the other within the claim's lease).
pub const BATCH: u32 = 20;
/// Claims one round of the jobs makes at most, so other jobs are not kept waiting.
const MAX_BATCHES_PER_ROUND: usize = 10;

/// How a deployment sends email, as configured.
#[derive(Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// `smtp://…` or `smtps://…`; `None` writes files to `dir`.
    pub smtp_url: Option<String>,
    pub dir: String,
    /// The `From` of every message.
    pub from: String,
    /// Where the web client is, for links (no trailing slash).
    pub public_url: String,
    pub max_attempts: u32,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(hothour_infra_mail::without_password))
            .field("dir", &self.dir)
            .field("from", &self.from)
            .field("public_url", &self.public_url)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl MailConfig {
    /// Reads `SMTP_URL`, `MAIL_DIR`, `MAIL_FROM`, `PUBLIC_URL` and `MAIL_MAX_ATTEMPTS`.
    pub fn read(get: impl Fn(&str) -> String) -> Result<MailConfig, ConfigError> {
        let invalid = |name: &'static str, reason: String| ConfigError::Invalid { name, reason };
        let smtp_url = Some(get("SMTP_URL")).filter(|url| !url.is_empty());
        if let Some(url) = &smtp_url {
            check_smtp_url(url).map_err(|reason| invalid("SMTP_URL", reason))?;
        }
        let from = get("MAIL_FROM");
        if !hothour_infra_mail::is_mailbox(&from) {
            return Err(invalid(
                "MAIL_FROM",
                format!("expected an address such as `HotHour <no-reply@example.com>`, got {from:?}"),
            ));
        }
        let public_url = get("PUBLIC_URL").trim_end_matches('/').to_owned();
        if crate::security_headers::origin(&public_url).is_none() {
            return Err(invalid(
                "PUBLIC_URL",
                format!("expected an http(s) URL such as https://hothour.example, got {public_url:?}"),
            ));
        }
        let max_attempts = get("MAIL_MAX_ATTEMPTS");
        let max_attempts = match max_attempts.trim().parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(invalid(
                    "MAIL_MAX_ATTEMPTS",
                    format!("expected a whole number in 1..=100, got {max_attempts:?}"),
                ));
            }
        };
        let dir = get("MAIL_DIR");
        Ok(MailConfig { smtp_url, dir, from, public_url, max_attempts })
    }

    /// The mailer and what messages need, for the running service.
    pub fn setup(&self) -> Result<MailSetup, String> {
        let host = public_host(&self.public_url);
        let mailer: Arc<dyn Mailer> = match &self.smtp_url {
            Some(url) => {
                crate::install_crypto_provider();
                Arc::new(SmtpMailer::new(url, &host).map_err(|e| format!("SMTP_URL: {e}"))?)
            }
            None => Arc::new(FileMailer::new(&self.dir)),
        };
        Ok(MailSetup {
            mailer,
            from: self.from.clone(),
            public_url: self.public_url.clone(),
            message_id_domain: host,
            policy: MailPolicy { max_attempts: self.max_attempts, ..MailPolicy::default() },
        })
    }
}

/// The host of `PUBLIC_URL` (already checked to have one).
fn public_host(public_url: &str) -> String {
    let rest = public_url.split_once("://").map_or(public_url, |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()
}

/// Checks `SMTP_URL`: `smtp` or `smtps` with a host, a known `tls`, and no
/// password sent in the clear beyond this machine.
fn check_smtp_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "expected smtp://host:port or smtps://host:port, got {:?}",
            hothour_infra_mail::without_password(url)
        ));
    };
    let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = address.split('/').next().unwrap_or("");
    let (user_info, host_port) = authority.rsplit_once('@').map_or((None, authority), |(u, h)| (Some(u), h));
    let host = public_host(&format!("x://{host_port}"));
    let tls = query.split('&').find_map(|pair| pair.strip_prefix("tls="));
    if !matches!(scheme, "smtp" | "smtps") || host.is_empty() {
        return Err(format!(
            "expected smtp://host:port or smtps://host:port, got {:?}",
            hothour_infra_mail::without_password(url)
        ));
    }
    if !matches!(tls, None | Some("required" | "opportunistic")) {
        return Err("tls= takes required (STARTTLS) or opportunistic".into());
    }
    let encrypted = scheme == "smtps" || tls == Some("required");
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if user_info.is_some_and(|u| u.contains(':')) && !encrypted && !loopback {
        return Err("a password would go in the clear: use smtps:// or smtp://…?tls=required".into());
    }
    Ok(())
}

/// The mailer a deployment sends through, and what every message carries.
#[derive(Clone)]
pub struct MailSetup {
    pub mailer: Arc<dyn Mailer>,
    pub from: String,
    /// Where links point (no trailing slash).
    pub public_url: String,
    /// The right-hand side of every `Message-ID`.
    pub message_id_domain: String,
    pub policy: MailPolicy,
}

impl std::fmt::Debug for MailSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSetup")
            .field("mailer", &self.mailer.describe())
            .field("from", &self.from)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// Sends what is due, a claimed batch at a time, until none is left or the
/// round has done its share.
pub async fn send_due(state: &AppState) -> Result<DeliveryReport, DomainError> {
    let setup = &state.mail;
    let mut total = DeliveryReport::default();
    for _ in 0..MAX_BATCHES_PER_ROUND {
        let report = deliver_due(
            &state.store,
            &*setup.mailer,
            &setup.policy,
            || state.clock.now(),
            BATCH,
            |queued| state.compose_mail(queued),
        )
        .await?;
        let claimed = report.sent + report.retried + report.dead;
        total.sent += report.sent;
        total.retried += report.retried;
        total.dead += report.dead;
        total.failures.extend(report.failures);
        if claimed < BATCH as usize {
            break;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<MailConfig, ConfigError> {
        let defaults = [
            ("MAIL_DIR", "data/mail"),
            ("MAIL_FROM", "HotHour <no-reply@localhost>"),
            ("PUBLIC_URL", "http://127.0.0.1:8080"),
            ("MAIL_MAX_ATTEMPTS", "10"),
        ];
        MailConfig::read(|name| {
            vars.iter()
                .chain(defaults.iter())
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
                .unwrap_or_default()
        })
    }

    fn refused(vars: &[(&str, &str)]) -> &'static str {
        match read(vars) {
            Err(ConfigError::Invalid { name, .. }) => name,
            Ok(config) => panic!("accepted {config:?}"),
        }
    }

    #[test]
    fn without_a_server_mail_goes_to_files() {
        let config = read(&[("PUBLIC_URL", "https://hothour.example/")]).unwrap();
        assert_eq!((config.smtp_url, config.dir.as_str()), (None, "data/mail"));
        assert_eq!(config.public_url, "https://hothour.example");
    }

    #[test]
    fn smtp_urls_are_checked_and_keep_passwords_off_the_open_wire() {
        for good in [
            "smtp://127.0.0.1:2525",
            "smtp://user:pass@localhost:25",
            "smtp://user:pass@mail.example:587?tls=required",
            "smtps://user:pass@mail.example",
            "smtp://mail.example:25?tls=opportunistic",
            "smtp://mail.example:25",
        ] {
            assert!(read(&[("SMTP_URL", good)]).is_ok(), "{good}");
        }
        for bad in ["http://mail.example", "mail.example:25", "smtp://", "smtp://mail.example?tls=maybe"] {
            assert_eq!(refused(&[("SMTP_URL", bad)]), "SMTP_URL", "{bad}");
        }
        assert_eq!(refused(&[("SMTP_URL", "smtp://user:pass@mail.example:25")]), "SMTP_URL");
        assert_eq!(refused(&[("SMTP_URL", "smtp://user:pass@mail.example:25?tls=opportunistic")]), "SMTP_URL");
    }

    #[test]
    fn the_password_stays_out_of_debug_output() {
        let config = read(&[("SMTP_URL", "smtps://ada:s3cret@mail.example")]).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret") && shown.contains("ada:***@mail.example"), "{shown}");
    }

    #[test]
    fn the_sender_and_the_links_are_checked() {
        assert_eq!(refused(&[("MAIL_FROM", "not an address")]), "MAIL_FROM");
        assert_eq!(refused(&[("PUBLIC_URL", "hothour.example")]), "PUBLIC_URL");
        assert_eq!(refused(&[("MAIL_MAX_ATTEMPTS", "0")]), "MAIL_MAX_ATTEMPTS");
        assert_eq!(public_host("https://Hothour.Example:8443/app"), "hothour.example");
        assert_eq!(public_host("http://[::1]:8080"), "::1");
    }
}
