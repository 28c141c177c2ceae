//! Messages about accounts: verify your email, reset your password, an
//! invitation to run a studio. Each carries a link to the web client with a
//! single-use token (`/verify`, `/reset`, `/invitations/accept`).

use chrono::Duration;
use hothour_domain::account::Locale;
use hothour_domain::mail::{ComposeError, Notice};
use serde::Serialize;

use super::compose::{Message, Reader, render};
use super::format::day_and_time;
use crate::AppState;
use crate::dto::StudioSummary;

/// What an account message's templates may read.
#[derive(Debug, Clone, Serialize)]
struct AccountContext {
    lang: &'static str,
    /// The recipient's name (empty for an address with no account).
    name: String,
    /// Where they are written to.
    address: String,
    /// The link with the token.
    link: String,
    /// How long the link works, in words (`30 minutes`, `3 gün`).
    valid_for: String,
    /// An invitation's studio, its expiry on the studio's clock, and the zone.
    studio: Option<StudioSummary>,
    expires: String,
    zone: String,
}

/// A duration in whole days, hours or minutes, in words of `locale`.
fn in_words(duration: Duration, locale: Locale) -> String {
    let (n, unit) = if duration.num_days() > 0 && duration.num_hours() % 24 == 0 {
        (duration.num_days(), ["day", "days", "gün"])
    } else if duration.num_hours() > 0 && duration.num_minutes() % 60 == 0 {
        (duration.num_hours(), ["hour", "hours", "saat"])
    } else {
        (duration.num_minutes(), ["minute", "minutes", "dakika"])
    };
    match locale {
        Locale::En => format!("{n} {}", if n == 1 { unit[0] } else { unit[1] }),
        Locale::Tr => format!("{n} {}", unit[2]),
    }
}

impl AppState {
    /// A message with an emailed link: its token, where it leads, and for
    /// how long it works.
    pub(super) async fn account_message(&self, notice: &Notice, reader: &Reader) -> Result<Message, ComposeError> {
        let locale = reader.locale;
        let public_url = &self.mail.public_url;
        let mut context = AccountContext {
            lang: locale.as_str(),
            name: reader.name.clone(),
            address: reader.address.clone(),
            link: String::new(),
            valid_for: String::new(),
            studio: None,
            expires: String::new(),
            zone: String::new(),
        };
        match notice {
            Notice::VerifyEmail { token, .. } => {
                context.link = format!("{public_url}/verify?token={token}");
                context.valid_for = in_words(hothour_domain::account::mailbox::VERIFY_EMAIL_TTL, locale);
            }
            Notice::PasswordReset { token, .. } => {
                context.link = format!("{public_url}/reset?token={token}");
                context.valid_for = in_words(hothour_domain::account::mailbox::PASSWORD_RESET_TTL, locale);
            }
            Notice::StudioInvitation { token, studio_id, expires_at, .. } => {
                let studio = self.studio_summary(*studio_id).await?;
                context.link = format!("{public_url}/invitations/accept?token={token}");
                context.expires = day_and_time(*expires_at, &studio.timezone, locale);
                context.zone = studio.timezone.clone();
                context.studio = Some(studio);
            }
            other => return Err(ComposeError::Permanent(format!("{:?} is no account message", other.kind()))),
        }
        let (subject, text, html) = render(notice.kind(), locale, &context).map_err(ComposeError::Permanent)?;
        Ok(Message { subject, text, html, attachments: Vec::new(), unsubscribe_url: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_both_languages() {
        assert_eq!(in_words(Duration::minutes(30), Locale::En), "30 minutes");
        assert_eq!(in_words(Duration::minutes(30), Locale::Tr), "30 dakika");
        assert_eq!(in_words(Duration::days(3), Locale::En), "3 days");
        assert_eq!(in_words(Duration::days(1), Locale::En), "1 day");
        assert_eq!(in_words(Duration::hours(2), Locale::Tr), "2 saat");
    }

    #[test]
    fn account_messages_render_in_both_languages_with_their_link() {
        let studio = StudioSummary {
            id: 1,
            name: "Nine <& Co>".into(),
            address: "Moda Cd. 9".into(),
            timezone: "Europe/Istanbul".into(),
            maps_url: None,
        };
        for locale in Locale::ALL {
            for kind in [
                hothour_domain::mail::MailKind::VerifyEmail,
                hothour_domain::mail::MailKind::PasswordReset,
                hothour_domain::mail::MailKind::StudioInvitation,
            ] {
                let context = AccountContext {
                    lang: locale.as_str(),
                    name: "Ada".into(),
                    address: "ada@example.com".into(),
                    link: "https://hothour.example/verify?token=mt_abc".into(),
                    valid_for: in_words(Duration::minutes(30), locale),
                    studio: Some(studio.clone()),
                    expires: "3 Haziran 2026 Çarşamba 19:00".into(),
                    zone: "Europe/Istanbul".into(),
                };
                let (subject, text, html) = render(kind, locale, &context).unwrap();
                assert!(!subject.is_empty() && !subject.contains('\n'), "{subject}");
                assert!(text.contains("https://hothour.example/verify?token=mt_abc"), "{text}");
                assert!(html.contains("mt_abc") && html.contains(&format!("<html lang=\"{}\">", locale.as_str())));
                if kind == hothour_domain::mail::MailKind::StudioInvitation {
                    assert!(html.contains("Nine &lt;&amp; Co&gt;"), "{html}");
                }
            }
        }
    }
}
