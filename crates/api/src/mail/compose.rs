//! A recorded message made ready to send: its recipient as they are now,
//! the session it is about, and its subject, text and HTML rendered from
//! the templates of the recipient's language (embedded at build time).

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use hothour_domain::account::{Locale, User};
use hothour_domain::alerts::PriceAlertSnapshot;
use hothour_domain::mail::{Attachment, ComposeError, MailKind, Notice, OutgoingMail, QueuedMail, Recipient};
use hothour_domain::ports::{AccountStore, ReservationStore};
use hothour_domain::reservation::{CancelledBy, PaymentStatus, ReservationStatus};
use hothour_domain::{AuctionId, EventId, ReservationSnapshot, ReservationTarget};
use minijinja::Environment;
use minijinja::value::Serde;
use serde::Serialize;

use super::MailSetup;
use super::format::{day_and_time, money, time_after};
use crate::AppState;
use crate::calendar;
use crate::dto::{ReservationOut, StudioSummary};

/// Every template, by name, as `Environment` takes them.
const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("session.html", include_str!("templates/session.html")),
    ("session.txt", include_str!("templates/session.txt")),
    ("button.html", include_str!("templates/button.html")),
    ("unsubscribe.html", include_str!("templates/unsubscribe.html")),
    ("unsubscribe.txt", include_str!("templates/unsubscribe.txt")),
    ("en/booking_confirmed.subject.txt", include_str!("templates/en/booking_confirmed.subject.txt")),
    ("en/booking_confirmed.txt", include_str!("templates/en/booking_confirmed.txt")),
    ("en/booking_confirmed.html", include_str!("templates/en/booking_confirmed.html")),
    ("en/booking_cancelled.subject.txt", include_str!("templates/en/booking_cancelled.subject.txt")),
    ("en/booking_cancelled.txt", include_str!("templates/en/booking_cancelled.txt")),
    ("en/booking_cancelled.html", include_str!("templates/en/booking_cancelled.html")),
    ("en/session_cancelled.subject.txt", include_str!("templates/en/session_cancelled.subject.txt")),
    ("en/session_cancelled.txt", include_str!("templates/en/session_cancelled.txt")),
    ("en/session_cancelled.html", include_str!("templates/en/session_cancelled.html")),
    ("tr/session_cancelled.subject.txt", include_str!("templates/tr/session_cancelled.subject.txt")),
    ("tr/session_cancelled.txt", include_str!("templates/tr/session_cancelled.txt")),
    ("tr/session_cancelled.html", include_str!("templates/tr/session_cancelled.html")),
    ("tr/booking_confirmed.subject.txt", include_str!("templates/tr/booking_confirmed.subject.txt")),
    ("tr/booking_confirmed.txt", include_str!("templates/tr/booking_confirmed.txt")),
    ("tr/booking_confirmed.html", include_str!("templates/tr/booking_confirmed.html")),
    ("tr/booking_cancelled.subject.txt", include_str!("templates/tr/booking_cancelled.subject.txt")),
    ("tr/booking_cancelled.txt", include_str!("templates/tr/booking_cancelled.txt")),
    ("tr/booking_cancelled.html", include_str!("templates/tr/booking_cancelled.html")),
    ("en/verify_email.subject.txt", include_str!("templates/en/verify_email.subject.txt")),
    ("en/verify_email.txt", include_str!("templates/en/verify_email.txt")),
    ("en/verify_email.html", include_str!("templates/en/verify_email.html")),
    ("en/password_reset.subject.txt", include_str!("templates/en/password_reset.subject.txt")),
    ("en/password_reset.txt", include_str!("templates/en/password_reset.txt")),
    ("en/password_reset.html", include_str!("templates/en/password_reset.html")),
    ("en/studio_invitation.subject.txt", include_str!("templates/en/studio_invitation.subject.txt")),
    ("en/studio_invitation.txt", include_str!("templates/en/studio_invitation.txt")),
    ("en/studio_invitation.html", include_str!("templates/en/studio_invitation.html")),
    ("tr/verify_email.subject.txt", include_str!("templates/tr/verify_email.subject.txt")),
    ("tr/verify_email.txt", include_str!("templates/tr/verify_email.txt")),
    ("tr/verify_email.html", include_str!("templates/tr/verify_email.html")),
    ("tr/password_reset.subject.txt", include_str!("templates/tr/password_reset.subject.txt")),
    ("tr/password_reset.txt", include_str!("templates/tr/password_reset.txt")),
    ("tr/password_reset.html", include_str!("templates/tr/password_reset.html")),
    ("tr/studio_invitation.subject.txt", include_str!("templates/tr/studio_invitation.subject.txt")),
    ("tr/studio_invitation.txt", include_str!("templates/tr/studio_invitation.txt")),
    ("tr/studio_invitation.html", include_str!("templates/tr/studio_invitation.html")),
    ("en/booking_reminder.subject.txt", include_str!("templates/en/booking_reminder.subject.txt")),
    ("en/booking_reminder.txt", include_str!("templates/en/booking_reminder.txt")),
    ("en/booking_reminder.html", include_str!("templates/en/booking_reminder.html")),
    ("en/price_alert.subject.txt", include_str!("templates/en/price_alert.subject.txt")),
    ("en/price_alert.txt", include_str!("templates/en/price_alert.txt")),
    ("en/price_alert.html", include_str!("templates/en/price_alert.html")),
    ("tr/booking_reminder.subject.txt", include_str!("templates/tr/booking_reminder.subject.txt")),
    ("tr/booking_reminder.txt", include_str!("templates/tr/booking_reminder.txt")),
    ("tr/booking_reminder.html", include_str!("templates/tr/booking_reminder.html")),
    ("tr/price_alert.subject.txt", include_str!("templates/tr/price_alert.subject.txt")),
    ("tr/price_alert.txt", include_str!("templates/tr/price_alert.txt")),
    ("tr/price_alert.html", include_str!("templates/tr/price_alert.html")),
    ("en/waitlist_offer.subject.txt", include_str!("templates/en/waitlist_offer.subject.txt")),
    ("en/waitlist_offer.txt", include_str!("templates/en/waitlist_offer.txt")),
    ("en/waitlist_offer.html", include_str!("templates/en/waitlist_offer.html")),
    ("tr/waitlist_offer.subject.txt", include_str!("templates/tr/waitlist_offer.subject.txt")),
    ("tr/waitlist_offer.txt", include_str!("templates/tr/waitlist_offer.txt")),
    ("tr/waitlist_offer.html", include_str!("templates/tr/waitlist_offer.html")),
    ("en/payment_refunded.subject.txt", include_str!("templates/en/payment_refunded.subject.txt")),
    ("en/payment_refunded.txt", include_str!("templates/en/payment_refunded.txt")),
    ("en/payment_refunded.html", include_str!("templates/en/payment_refunded.html")),
    ("tr/payment_refunded.subject.txt", include_str!("templates/tr/payment_refunded.subject.txt")),
    ("tr/payment_refunded.txt", include_str!("templates/tr/payment_refunded.txt")),
    ("tr/payment_refunded.html", include_str!("templates/tr/payment_refunded.html")),
];

/// The templates, parsed once. HTML templates escape what they insert.
fn templates() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env
    })
}

/// The words around the facts, in each language.
#[derive(Debug, Clone, Serialize)]
struct Labels {
    when: &'static str,
    #[serde(rename = "where")]
    place: &'static str,
    map: &'static str,
    seats: &'static str,
    total: &'static str,
}

fn labels(locale: Locale) -> Labels {
    match locale {
        Locale::Tr => Labels { when: "Ne zaman", place: "Nerede", map: "Harita", seats: "Kişi", total: "Toplam" },
        Locale::En => Labels { when: "When", place: "Where", map: "Map", seats: "Seats", total: "Total" },
    }
}

/// What every template may read.
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    lang: &'static str,
    labels: Labels,
    /// The recipient's name.
    name: String,
    title: String,
    /// When the session starts, on the studio's clock.
    when: String,
    /// When it ends (a time, or a day and time on another day).
    ends: String,
    /// The studio's time zone.
    zone: String,
    studio: StudioSummary,
    quantity: u32,
    total: String,
    code: Option<String>,
    /// Until when a hold offered from the waiting list is kept, on the studio's clock.
    hold_until: String,
    session_url: String,
    tickets_url: String,
    /// Who cancelled (`owner`, `studio`), for a cancellation.
    by: Option<CancelledBy>,
    /// The money going back, for a cancelled paid booking.
    refund: Option<String>,
    refund_done: bool,
    /// The `Content-ID` of the booking code's QR image, when the message carries it.
    qr_cid: Option<String>,
    /// For a price alert: the amount asked for, and the price it fired at.
    below: Option<String>,
    price: Option<String>,
    /// For a message one may stop: the web client's unsubscribe page, and
    /// why they get it.
    unsubscribe_url: Option<String>,
    unsubscribe_reason: &'static str,
}

/// Why a message that can be stopped came, in each language.
fn unsubscribe_reason(kind: MailKind, locale: Locale) -> &'static str {
    match (kind, locale) {
        (MailKind::BookingReminder, Locale::Tr) => "Bu hatırlatmayı HotHour rezervasyonunuz için aldınız.",
        (MailKind::BookingReminder, Locale::En) => "You get this reminder for your HotHour booking.",
        (MailKind::PriceAlert, Locale::Tr) => "Bu e-postayı HotHour'da kurduğunuz fiyat alarmı için aldınız.",
        (MailKind::PriceAlert, Locale::En) => "You get this email for a price alert you set on HotHour.",
        _ => "",
    }
}

/// The session a reservation is for, as its snapshot names it.
fn target_of(reservation: &ReservationSnapshot) -> Result<ReservationTarget, ComposeError> {
    match (reservation.auction_id, reservation.event_id) {
        (Some(AuctionId(id)), None) => Ok(ReservationTarget::Auction(AuctionId(id))),
        (None, Some(EventId(id))) => Ok(ReservationTarget::Event(EventId(id))),
        _ => Err(ComposeError::Permanent(format!("reservation {} names no session", reservation.id.0))),
    }
}

/// The template context of a reservation's message to `reader`.
fn context(
    setup: &MailSetup,
    currency: &str,
    reader: &Reader,
    out: &ReservationOut,
    by: Option<CancelledBy>,
) -> Context {
    let locale = reader.locale;
    let target = &out.target;
    let zone = target.studio.timezone.clone();
    let payment = &out.payment;
    let (refund, refund_done) = match payment.status {
        PaymentStatus::RefundPending => {
            (Some(money(payment.amount.saturating_sub(payment.refunded_amount), currency, locale)), false)
        }
        PaymentStatus::Refunded => (Some(money(payment.refunded_amount, currency, locale)), true),
        _ => (None, false),
    };
    let kind = match target.kind {
        hothour_domain::ReservationKind::Auction => "auctions",
        hothour_domain::ReservationKind::Event => "events",
    };
    Context {
        lang: locale.as_str(),
        labels: labels(locale),
        name: reader.name.clone(),
        title: target.title.clone(),
        when: day_and_time(target.starts_at, &zone, locale),
        ends: time_after(target.ends_at, target.starts_at, &zone, locale),
        hold_until: time_after(out.expires_at, out.created_at, &zone, locale),
        zone,
        studio: target.studio.clone(),
        quantity: out.quantity,
        total: money(out.total_price, currency, locale),
        code: out.booking_code.clone(),
        session_url: format!("{}/{kind}/{}", setup.public_url, target.id),
        tickets_url: format!("{}/me", setup.public_url),
        by,
        refund,
        refund_done,
        below: None,
        price: None,
        unsubscribe_url: None,
        unsubscribe_reason: "",
        qr_cid: None,
    }
}

/// The template context of a fired price alert to `reader`.
fn alert_context(
    setup: &MailSetup,
    currency: &str,
    reader: &Reader,
    alert: &PriceAlertSnapshot,
    studio: StudioSummary,
) -> Context {
    let locale = reader.locale;
    let auction = &alert.auction;
    let zone = studio.timezone.clone();
    let ends_at = auction.scheduled_at + chrono::Duration::minutes(auction.session_minutes);
    Context {
        lang: locale.as_str(),
        labels: labels(locale),
        name: reader.name.clone(),
        title: auction.title.clone(),
        when: day_and_time(auction.scheduled_at, &zone, locale),
        ends: time_after(ends_at, auction.scheduled_at, &zone, locale),
        zone,
        studio,
        quantity: 1,
        total: money(alert.price, currency, locale),
        code: None,
        hold_until: String::new(),
        session_url: format!("{}/auctions/{}", setup.public_url, auction.id.0),
        tickets_url: format!("{}/me", setup.public_url),
        by: None,
        refund: None,
        refund_done: false,
        below: Some(money(alert.below, currency, locale)),
        price: Some(money(alert.price, currency, locale)),
        unsubscribe_url: None,
        unsubscribe_reason: "",
        qr_cid: None,
    }
}

/// A template context with the message's subject (the HTML's `<title>`).
#[derive(Serialize)]
struct WithSubject<'a, C> {
    #[serde(flatten)]
    context: &'a C,
    subject: &'a str,
}

/// Subject, text and HTML of message `kind` in `locale`.
pub fn render<C: Serialize>(kind: MailKind, locale: Locale, context: &C) -> Result<(String, String, String), String> {
    fn one<C: Serialize>(kind: MailKind, locale: Locale, format: &str, context: &C) -> Result<String, String> {
        let name = format!("{}/{}.{format}", locale.as_str(), kind.as_str());
        templates().get_template(&name).and_then(|t| t.render(Serde(context))).map_err(|e| format!("{name}: {e}"))
    }
    let subject = one(kind, locale, "subject.txt", context)?.trim().to_owned();
    let context = WithSubject { context, subject: &subject };
    let text = one(kind, locale, "txt", &context)?;
    let html = one(kind, locale, "html", &context)?;
    Ok((subject, text, html))
}

/// Who a message goes to, as they are when it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    /// Their name, or empty for an address with no account behind it.
    pub name: String,
    pub address: String,
    pub locale: Locale,
}

impl AppState {
    /// Message `queued` made ready for its recipient as they are now.
    pub async fn compose_mail(&self, queued: QueuedMail) -> Result<OutgoingMail, ComposeError> {
        let setup = &self.mail;
        let notice = queued.notice().map_err(ComposeError::Permanent)?;
        let reader = self.reader(&queued.recipient).await?;
        let Message { subject, text, html, attachments, unsubscribe_url } = match notice {
            Notice::VerifyEmail { .. } | Notice::PasswordReset { .. } | Notice::StudioInvitation { .. } => {
                self.account_message(&notice, &reader).await?
            }
            _ => self.session_message(&notice, &reader, &queued).await?,
        };
        Ok(OutgoingMail {
            message_id: format!("hothour-mail-{}@{}", queued.id, setup.message_id_domain),
            from: setup.from.clone(),
            to_name: reader.name,
            to_address: reader.address,
            subject,
            text,
            html,
            attachments,
            unsubscribe_url,
        })
    }

    /// Who `recipient` is now: a user's name, address and language, or the address as recorded.
    async fn reader(&self, recipient: &Recipient) -> Result<Reader, ComposeError> {
        match recipient {
            Recipient::User(id) => {
                let user: User = self
                    .store
                    .find_user(*id)
                    .await?
                    .ok_or_else(|| ComposeError::Permanent(format!("user {} is gone", id.0)))?;
                Ok(Reader { name: user.full_name, address: user.email, locale: user.locale })
            }
            Recipient::Address { email, locale } => {
                Ok(Reader { name: String::new(), address: email.clone(), locale: *locale })
            }
        }
    }

    /// A message about a session: a booking (the session as it is now, the
    /// booking as it was, and for a confirmation the calendar file) or a
    /// fired price alert. Reminders and alerts carry their unsubscribe links.
    async fn session_message(
        &self,
        notice: &Notice,
        reader: &Reader,
        queued: &QueuedMail,
    ) -> Result<Message, ComposeError> {
        let setup = &self.mail;
        let kind = notice.kind();
        let mut attachments = Vec::new();
        let mut context = match notice {
            Notice::PriceAlert { alert } => {
                let studio = self.studio_summary(alert.auction.studio_id).await?;
                alert_context(setup, &self.config.currency, reader, alert, studio)
            }
            Notice::BookingCancelled { reservation, by } => {
                self.reservation_context(reader, reservation, Some(*by)).await?.0
            }
            Notice::BookingConfirmed { reservation } => {
                let (mut context, out) = self.reservation_context(reader, reservation, None).await?;
                if let Some(image) = qr_image(&out, &setup.message_id_domain) {
                    context.qr_cid = image.content_id.clone();
                    attachments.push(image);
                }
                attachments.push(calendar_attachment(&out, queued.created_at));
                context
            }
            Notice::BookingReminder { reservation } => {
                self.ensure_still(reservation, ReservationStatus::Confirmed).await?;
                self.reservation_context(reader, reservation, None).await?.0
            }
            Notice::WaitlistOffer { reservation } => {
                self.ensure_still(reservation, ReservationStatus::Hold).await?;
                self.reservation_context(reader, reservation, None).await?.0
            }
            Notice::SessionCancelled { reservation } | Notice::PaymentRefunded { reservation } => {
                self.reservation_context(reader, reservation, None).await?.0
            }
            other => return Err(ComposeError::Permanent(format!("{:?} is about no session", other.kind()))),
        };
        // The one-click link (for mail clients, RFC 8058) and the page a
        // person opens (it asks before it stops anything).
        let mut unsubscribe_url = None;
        if kind.is_optional() {
            let user = queued
                .recipient
                .user()
                .ok_or_else(|| ComposeError::Permanent(format!("a {} message needs a user", kind.as_str())))?;
            let secret = &self.config.sign_in.jwt_secret;
            let token = crate::unsubscribe::token(secret, user, kind, queued.created_at)?;
            unsubscribe_url = Some(format!("{}/api/v1/mail/unsubscribe?token={token}", setup.public_url));
            context.unsubscribe_url = Some(format!("{}/unsubscribe?token={token}", setup.public_url));
        }
        context.unsubscribe_reason = unsubscribe_reason(kind, reader.locale);
        let (subject, text, html) = render(kind, reader.locale, &context).map_err(ComposeError::Permanent)?;
        Ok(Message { subject, text, html, attachments, unsubscribe_url })
    }

    /// A reminder or a waiting-list offer waits in the outbox while the mail
    /// server is away; by the time it can go, its booking may have been
    /// cancelled or checked in, its offered hold confirmed or lapsed: it then
    /// never goes.
    async fn ensure_still(
        &self,
        reservation: &ReservationSnapshot,
        status: ReservationStatus,
    ) -> Result<(), ComposeError> {
        let current = self.store.find_reservation(reservation.id).await?;
        let Some(current) = current else {
            return Err(ComposeError::Permanent("not sent: the reservation is gone".to_owned()));
        };
        let lapsed = current.status == ReservationStatus::Hold && current.expires_at <= self.now();
        if current.status != status || lapsed {
            let state = if lapsed { "lapsed" } else { current.status.as_str() };
            return Err(ComposeError::Permanent(format!("not sent: the reservation is {} now", state.to_lowercase())));
        }
        Ok(())
    }

    /// The context of a message about `reservation` to `reader`, and the
    /// reservation as answered.
    async fn reservation_context(
        &self,
        reader: &Reader,
        reservation: &ReservationSnapshot,
        by: Option<CancelledBy>,
    ) -> Result<(Context, ReservationOut), ComposeError> {
        let session = self.session_summary(target_of(reservation)?).await?;
        let out = ReservationOut::of(reservation, self.target_out(&session).await?);
        Ok((context(&self.mail, &self.config.currency, reader, &out, by), out))
    }
}

/// A message's rendered parts.
pub(super) struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
    /// The one-click unsubscribe link, for a message one may stop.
    pub unsubscribe_url: Option<String>,
}

/// The booking code's QR, shown inside the HTML (`cid:`), as the ticket
/// in the web client draws it.
fn qr_image(out: &ReservationOut, domain: &str) -> Option<Attachment> {
    let code = out.booking_code.as_deref()?;
    Some(Attachment {
        filename: format!("hothour-{}-qr.png", out.id),
        content_type: "image/png".into(),
        content: super::qr::png(code)?,
        content_id: Some(format!("qr-{}@{domain}", out.id)),
    })
}

/// The booking as a calendar file, stamped when the message was recorded
/// (so a resend is the same file).
fn calendar_attachment(out: &ReservationOut, recorded_at: DateTime<Utc>) -> Attachment {
    Attachment {
        filename: format!("hothour-{}.ics", out.id),
        content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
        content: calendar::reservation_ics(out, recorded_at).into_bytes(),
        content_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(locale: Locale, by: Option<CancelledBy>, refund: Option<&str>) -> Context {
        Context {
            lang: locale.as_str(),
            labels: labels(locale),
            name: "Ada <Lovelace>".into(),
            title: "Salsa & bachata".into(),
            when: "3 Haziran 2026 Çarşamba 19:00".into(),
            ends: "20:30".into(),
            zone: "Europe/Istanbul".into(),
            studio: StudioSummary {
                id: 1,
                name: "Nine".into(),
                address: "Moda Cd. 9".into(),
                timezone: "Europe/Istanbul".into(),
                maps_url: None,
            },
            quantity: 2,
            total: "₺1.500,00".into(),
            code: Some("ABCD-EFGH".into()),
            hold_until: "19:05".into(),
            session_url: "https://hothour.example/events/3".into(),
            tickets_url: "https://hothour.example/me".into(),
            by,
            refund: refund.map(str::to_owned),
            refund_done: false,
            below: Some("₺150,00".into()),
            price: Some("₺140,00".into()),
            unsubscribe_url: Some("https://hothour.example/unsubscribe?token=t".into()),
            unsubscribe_reason: unsubscribe_reason(MailKind::PriceAlert, locale),
            qr_cid: Some("qr-7@hothour.example".into()),
        }
    }

    #[test]
    fn every_message_renders_in_both_languages_and_html_is_escaped() {
        for locale in Locale::ALL {
            for kind in [
                MailKind::BookingConfirmed,
                MailKind::BookingCancelled,
                MailKind::SessionCancelled,
                MailKind::BookingReminder,
                MailKind::PriceAlert,
                MailKind::WaitlistOffer,
            ] {
                let by = (kind != MailKind::BookingConfirmed).then_some(CancelledBy::Studio);
                let (subject, text, html) = render(kind, locale, &sample(locale, by, Some("₺1.500,00"))).unwrap();
                assert!(subject.contains("Salsa & bachata") && !subject.contains('\n'), "{subject}");
                assert!(text.contains("Ada <Lovelace>"), "{text}");
                assert!(html.contains("Ada &lt;Lovelace&gt;") && html.contains("Salsa &amp; bachata"), "{html}");
                assert!(html.contains(&format!("<html lang=\"{}\">", locale.as_str())), "{html}");
                if kind == MailKind::PriceAlert {
                    assert!(text.contains("₺140,00") && text.contains("₺150,00"), "{text}");
                } else if kind == MailKind::WaitlistOffer {
                    assert!(text.contains("19:05") && text.contains("https://hothour.example/events/3"), "{text}");
                } else {
                    assert!(text.contains("ABCD-EFGH") && text.contains("₺1.500,00"), "{text}");
                }
                let link = "https://hothour.example/unsubscribe?token=t";
                assert_eq!(text.contains(link), kind.is_optional(), "{kind:?}: {text}");
                assert_eq!(html.replace("&#x2f;", "/").contains(link), kind.is_optional(), "{kind:?}: {html}");
            }
        }
        let (subject, text, _) =
            render(MailKind::BookingCancelled, Locale::Tr, &sample(Locale::Tr, Some(CancelledBy::Studio), None))
                .unwrap();
        assert_eq!(subject, "Rezervasyonunuz iptal edildi: Salsa & bachata");
        assert!(text.contains("stüdyo tarafından iptal edildi") && !text.contains("iade"), "{text}");
        let (subject, text, _) =
            render(MailKind::SessionCancelled, Locale::En, &sample(Locale::En, None, Some("₺1,500.00"))).unwrap();
        assert_eq!(subject, "Cancelled by the studio: Salsa & bachata");
        assert!(text.contains("Nine has cancelled this session") && text.contains("will be refunded"), "{text}");
        let (_, text, _) = render(
            MailKind::BookingCancelled,
            Locale::En,
            &sample(Locale::En, Some(CancelledBy::Owner), Some("₺1,500.00")),
        )
        .unwrap();
        assert!(text.contains("you have cancelled") && text.contains("₺1,500.00 will be refunded"), "{text}");
        let (_, _, html) = render(MailKind::BookingConfirmed, Locale::Tr, &sample(Locale::Tr, None, None)).unwrap();
        assert!(html.contains("src=\"cid:qr-7@hothour.example\""), "the QR shown inline: {html}");
    }

    #[test]
    fn a_refund_says_how_much_went_back_and_why_nothing_was_booked_when_nothing_was() {
        let mut late = sample(Locale::En, None, Some("₺300.00"));
        late.code = None;
        late.refund_done = true;
        let (subject, text, _) = render(MailKind::PaymentRefunded, Locale::En, &late).unwrap();
        assert_eq!(subject, "Refunded: ₺300.00 · Salsa & bachata");
        assert!(text.contains("₺300.00 has been refunded") && text.contains("nothing was booked"), "{text}");
        let mut booked = sample(Locale::Tr, None, Some("₺300,00"));
        booked.refund_done = true;
        let (subject, text, _) = render(MailKind::PaymentRefunded, Locale::Tr, &booked).unwrap();
        assert_eq!(subject, "İade edildi: ₺300,00 · Salsa & bachata");
        assert!(
            text.contains("ABCD-EFGH kodlu rezervasyonunuz için ödediğiniz ₺300,00 kartınıza iade edildi"),
            "{text}"
        );
        assert!(!text.contains("rezervasyon yapılmadı"), "{text}");
    }
}
