//! A recorded message made ready to send: its recipient as they are now,
//! the session it is about, and its subject, text and HTML rendered from
//! the templates of the recipient's language (embedded at build time).

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use hothour_domain::account::{Locale, User};
use hothour_domain::mail::{Attachment, ComposeError, MailKind, Notice, OutgoingMail, QueuedMail};
use hothour_domain::ports::AccountStore;
use hothour_domain::reservation::{CancelledBy, PaymentStatus};
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
    session_url: String,
    tickets_url: String,
    /// Who cancelled (`owner`, `studio`), for a cancellation.
    by: Option<CancelledBy>,
    /// The money going back, for a cancelled paid booking.
    refund: Option<String>,
    refund_done: bool,
    /// The `Content-ID` of the booking code's QR image, when the message carries it.
    qr_cid: Option<String>,
    /// Filled in before the HTML is rendered (its `<title>`).
    subject: String,
}

/// The session a reservation is for, as its snapshot names it.
fn target_of(reservation: &ReservationSnapshot) -> Result<ReservationTarget, ComposeError> {
    match (reservation.auction_id, reservation.event_id) {
        (Some(AuctionId(id)), None) => Ok(ReservationTarget::Auction(AuctionId(id))),
        (None, Some(EventId(id))) => Ok(ReservationTarget::Event(EventId(id))),
        _ => Err(ComposeError::Permanent(format!("reservation {} names no session", reservation.id.0))),
    }
}

/// The template context of a reservation's message to `user`.
fn context(setup: &MailSetup, currency: &str, user: &User, out: &ReservationOut, by: Option<CancelledBy>) -> Context {
    let locale = user.locale;
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
        name: user.full_name.clone(),
        title: target.title.clone(),
        when: day_and_time(target.starts_at, &zone, locale),
        ends: time_after(target.ends_at, target.starts_at, &zone, locale),
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
        qr_cid: None,
        subject: String::new(),
    }
}

/// Subject, text and HTML of message `kind` in `locale`.
pub fn render(kind: MailKind, locale: Locale, mut context: Context) -> Result<(String, String, String), String> {
    let env = templates();
    let render = |format: &str, context: &Context| {
        let name = format!("{}/{}.{format}", locale.as_str(), kind.as_str());
        env.get_template(&name).and_then(|template| template.render(Serde(context))).map_err(|e| format!("{name}: {e}"))
    };
    let subject = render("subject.txt", &context)?.trim().to_owned();
    context.subject = subject.clone();
    let text = render("txt", &context)?;
    let html = render("html", &context)?;
    Ok((subject, text, html))
}

impl AppState {
    /// Message `queued` made ready for its recipient as they are now.
    pub async fn compose_mail(&self, queued: QueuedMail) -> Result<OutgoingMail, ComposeError> {
        let setup = &self.mail;
        let notice = queued.notice().map_err(ComposeError::Permanent)?;
        let user = self
            .store
            .find_user(queued.recipient)
            .await?
            .ok_or_else(|| ComposeError::Permanent(format!("user {} is gone", queued.recipient.0)))?;
        let (reservation, by) = match &notice {
            Notice::BookingCancelled { reservation, by } => (reservation, Some(*by)),
            Notice::BookingConfirmed { reservation }
            | Notice::SessionCancelled { reservation }
            | Notice::PaymentRefunded { reservation } => (reservation, None),
        };
        let session = self.session_summary(target_of(reservation)?).await?;
        let out = ReservationOut::of(reservation, self.target_out(&session).await?);
        let mut context = context(setup, &self.config.currency, &user, &out, by);
        let mut attachments = Vec::new();
        if let Notice::BookingConfirmed { .. } = notice {
            if let Some(image) = qr_image(&out, &setup.message_id_domain) {
                context.qr_cid = image.content_id.clone();
                attachments.push(image);
            }
            attachments.push(calendar_attachment(&out, queued.created_at));
        }
        let (subject, text, html) = render(notice.kind(), user.locale, context).map_err(ComposeError::Permanent)?;
        Ok(OutgoingMail {
            message_id: format!("hothour-mail-{}@{}", queued.id, setup.message_id_domain),
            from: setup.from.clone(),
            to_name: user.full_name,
            to_address: user.email,
            subject,
            text,
            html,
            attachments,
        })
    }
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
            session_url: "https://hothour.example/events/3".into(),
            tickets_url: "https://hothour.example/me".into(),
            by,
            refund: refund.map(str::to_owned),
            refund_done: false,
            qr_cid: Some("qr-7@hothour.example".into()),
            subject: String::new(),
        }
    }

    #[test]
    fn every_message_renders_in_both_languages_and_html_is_escaped() {
        for locale in Locale::ALL {
            for kind in MailKind::ALL {
                let by = (kind != MailKind::BookingConfirmed).then_some(CancelledBy::Studio);
                let (subject, text, html) = render(kind, locale, sample(locale, by, Some("₺1.500,00"))).unwrap();
                assert!(subject.contains("Salsa & bachata") && !subject.contains('\n'), "{subject}");
                assert!(text.contains("Ada <Lovelace>") && text.contains("₺1.500,00"), "{text}");
                assert!(html.contains("Ada &lt;Lovelace&gt;") && html.contains("Salsa &amp; bachata"), "{html}");
                assert!(html.contains(&format!("<html lang=\"{}\">", locale.as_str())), "{html}");
                assert!(text.contains("ABCD-EFGH"), "{text}");
            }
        }
        let (subject, text, _) =
            render(MailKind::BookingCancelled, Locale::Tr, sample(Locale::Tr, Some(CancelledBy::Studio), None))
                .unwrap();
        assert_eq!(subject, "Rezervasyonunuz iptal edildi: Salsa & bachata");
        assert!(text.contains("stüdyo tarafından iptal edildi") && !text.contains("iade"), "{text}");
        let (subject, text, _) =
            render(MailKind::SessionCancelled, Locale::En, sample(Locale::En, None, Some("₺1,500.00"))).unwrap();
        assert_eq!(subject, "Cancelled by the studio: Salsa & bachata");
        assert!(text.contains("Nine has cancelled this session") && text.contains("will be refunded"), "{text}");
        let (_, text, _) = render(
            MailKind::BookingCancelled,
            Locale::En,
            sample(Locale::En, Some(CancelledBy::Owner), Some("₺1,500.00")),
        )
        .unwrap();
        assert!(text.contains("you have cancelled") && text.contains("₺1,500.00 will be refunded"), "{text}");
        let (_, _, html) = render(MailKind::BookingConfirmed, Locale::Tr, sample(Locale::Tr, None, None)).unwrap();
        assert!(html.contains("src=\"cid:qr-7@hothour.example\""), "the QR shown inline: {html}");
    }

    #[test]
    fn a_refund_says_how_much_went_back_and_why_nothing_was_booked_when_nothing_was() {
        let mut late = sample(Locale::En, None, Some("₺300.00"));
        late.code = None;
        late.refund_done = true;
        let (subject, text, _) = render(MailKind::PaymentRefunded, Locale::En, late.clone()).unwrap();
        assert_eq!(subject, "Refunded: ₺300.00 · Salsa & bachata");
        assert!(text.contains("₺300.00 has been refunded") && text.contains("nothing was booked"), "{text}");
        let mut booked = sample(Locale::Tr, None, Some("₺300,00"));
        booked.refund_done = true;
        let (subject, text, _) = render(MailKind::PaymentRefunded, Locale::Tr, booked).unwrap();
        assert_eq!(subject, "İade edildi: ₺300,00 · Salsa & bachata");
        assert!(
            text.contains("ABCD-EFGH kodlu rezervasyonunuz için ödediğiniz ₺300,00 kartınıza iade edildi"),
            "{text}"
        );
        assert!(!text.contains("rezervasyon yapılmadı"), "{text}");
    }
}
