use std::sync::Mutex;

use chrono::TimeZone;
use futures_executor::block_on;

use super::*;
use crate::ids::{ReservationId, StudioId};
use crate::money::Money;
use crate::reservation::{Payment, ReservationStatus, ReservationTarget};

fn t(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap() + Duration::seconds(seconds)
}

fn booking() -> Reservation {
    let price = Money::parse("1500.00").unwrap();
    Reservation {
        id: ReservationId(42),
        user_id: UserId(7),
        studio_id: StudioId(1),
        target: ReservationTarget::Event(crate::ids::EventId(3)),
        status: ReservationStatus::Confirmed,
        quantity: 1,
        unit_price: price,
        total_price: price,
        expires_at: t(300),
        booking_code: None,
        created_at: t(0),
        confirmed_at: Some(t(60)),
        checked_in_at: None,
        cancelled_at: None,
        payment: Payment::default(),
    }
}

#[test]
fn a_notice_names_its_kind_and_cause_and_reads_back_as_stored() {
    let confirmed = Notice::booking_confirmed(&booking(), t(60));
    assert_eq!((confirmed.kind(), confirmed.cause().as_str()), (MailKind::BookingConfirmed, "reservation:42"));
    let cancelled = Notice::booking_cancelled(&booking(), CancelledBy::Studio, t(60));
    assert_eq!(cancelled.kind(), MailKind::BookingCancelled);
    for notice in [confirmed, cancelled] {
        let payload = serde_json::to_value(&notice).unwrap();
        assert_eq!(payload["kind"], notice.kind().as_str(), "the payload names its kind as the column does");
        let queued = queued(1, 1, payload);
        assert_eq!(queued.notice(), Ok(notice));
    }
    assert!(queued(1, 1, serde_json::json!({"kind": "nonsense"})).notice().is_err());
    for kind in MailKind::ALL {
        assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
    }
}

#[test]
fn failures_back_off_doubling_up_to_the_cap_then_die() {
    let policy = MailPolicy { max_attempts: 8, ..MailPolicy::default() };
    let waits: Vec<_> = (1..8)
        .map(|attempt| match policy.after_failure(attempt, false, t(0)) {
            MailFailure::RetryAt(at) => (at - t(0)).num_seconds(),
            MailFailure::Dead => -1,
        })
        .collect();
    assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920]);
    assert_eq!(policy.after_failure(8, false, t(0)), MailFailure::Dead, "out of tries");
    assert_eq!(policy.after_failure(1, true, t(0)), MailFailure::Dead, "refused for good");
    let patient = MailPolicy { max_attempts: 100, ..MailPolicy::default() };
    assert_eq!(patient.after_failure(40, false, t(0)), MailFailure::RetryAt(t(3600)), "capped at an hour");
}

fn queued(id: i64, attempts: u32, payload: serde_json::Value) -> QueuedMail {
    QueuedMail {
        id,
        recipient: UserId(7).into(),
        kind: "booking_confirmed".into(),
        cause: "reservation:42".into(),
        payload,
        attempts,
        created_at: t(0),
        lease_until: t(600),
    }
}

/// An outbox of messages whose outcomes are recorded, in order.
#[derive(Default)]
struct FakeOutbox {
    due: Mutex<Vec<QueuedMail>>,
    outcomes: Mutex<Vec<(i64, Option<MailFailure>)>>,
}

impl MailOutbox for FakeOutbox {
    async fn claim_mail(
        &self,
        _now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QueuedMail>, DomainError> {
        let mut due = self.due.lock().unwrap();
        let take = due.len().min(limit as usize);
        Ok(due.drain(..take).map(|mail| QueuedMail { lease_until, ..mail }).collect())
    }

    async fn mail_sent(&self, id: i64, _at: DateTime<Utc>) -> Result<(), DomainError> {
        self.outcomes.lock().unwrap().push((id, None));
        Ok(())
    }

    async fn mail_failed(
        &self,
        id: i64,
        lease_until: DateTime<Utc>,
        failure: MailFailure,
        _error: &str,
    ) -> Result<(), DomainError> {
        assert_eq!(lease_until, t(600), "the claim is named by its lease");
        self.outcomes.lock().unwrap().push((id, Some(failure)));
        Ok(())
    }
}

/// Sends every message whose subject is not `fail …`; fails those as told.
struct FakeMailer;

impl Mailer for FakeMailer {
    fn describe(&self) -> String {
        "a fake".into()
    }

    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, Result<(), MailError>> {
        let result = match mail.subject.as_str() {
            "fail for now" => Err(MailError::Temporary("421 try later".into())),
            "fail for good" => Err(MailError::Permanent("550 no such mailbox".into())),
            _ => Ok(()),
        };
        Box::pin(async move { result })
    }
}

#[test]
fn the_sender_sends_what_it_claimed_and_settles_each_message() {
    let outbox = FakeOutbox::default();
    let payload = serde_json::to_value(Notice::booking_confirmed(&booking(), t(0))).unwrap();
    *outbox.due.lock().unwrap() = vec![
        queued(1, 1, payload.clone()),
        queued(2, 1, payload.clone()),
        queued(3, 1, payload.clone()),
        queued(4, 10, payload.clone()),
        queued(5, 1, payload.clone()),
        queued(6, 1, payload),
    ];
    let policy = MailPolicy::default();
    let compose = |queued: QueuedMail| async move {
        let subject = match queued.id {
            2 | 4 => "fail for now",
            3 => "fail for good",
            5 => return Err(ComposeError::Permanent("the recipient is gone".into())),
            6 => return Err(ComposeError::Temporary("the database is busy".into())),
            _ => "fine",
        };
        Ok(OutgoingMail {
            message_id: format!("hothour-mail-{}@test", queued.id),
            from: "HotHour <mail@test>".into(),
            to_name: "Ada".into(),
            to_address: "ada@example.com".into(),
            subject: subject.into(),
            text: String::new(),
            html: String::new(),
            attachments: Vec::new(),
            unsubscribe_url: None,
        })
    };
    let report = block_on(deliver_due(&outbox, &FakeMailer, &policy, || t(0), 100, compose)).unwrap();
    assert_eq!((report.sent, report.retried, report.dead), (1, 2, 3));
    assert_eq!(
        *outbox.outcomes.lock().unwrap(),
        [
            (1, None),
            (2, Some(MailFailure::RetryAt(t(30)))),
            (3, Some(MailFailure::Dead)),
            (4, Some(MailFailure::Dead)),
            (5, Some(MailFailure::Dead)),
            (6, Some(MailFailure::RetryAt(t(30)))),
        ]
    );
    assert_eq!(report.failures.len(), 5);
}
