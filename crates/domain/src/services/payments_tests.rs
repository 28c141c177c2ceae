//! The payment use cases against the in-memory store and an in-memory
//! provider (the HTTP tests run the same flows against localstripe on both
//! stores).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use futures_executor::block_on;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::fakes::FakeCatalogue;
use super::{PaymentsSetup, RECONCILE_AFTER, Services};
use crate::actor::Actor;
use crate::auction::tests::{STUDIO, auction_input, m};
use crate::clock::ManualClock;
use crate::error::DomainError;
use crate::event::EventInput;
use crate::ids::{ReservationId, UserId};
use crate::money::Money;
use crate::payments::{
    Intent, IntentId, IntentStatus, NewIntent, Payments, PaymentsError, ProviderEvent, ProviderEventKind, Refund,
    RefundRequest,
};
use crate::ports::NoPublisher;
use crate::reservation::tests::t;
use crate::reservation::{PaymentStatus, Reservation, ReservationStatus, Settlement};
use crate::unit_of_work::Policy;

/// A provider in memory: intents by id, card `ok` pays, `3ds` needs action,
/// `declined` is refused; refunds fail while `failing_refunds` > 0.
#[derive(Default)]
struct Provider {
    intents: Mutex<BTreeMap<String, Intent>>,
    by_key: Mutex<BTreeMap<String, String>>,
    refunds: Mutex<Vec<RefundRequest>>,
    failing_refunds: Mutex<u32>,
    unavailable: Mutex<bool>,
}

impl Provider {
    fn set_status(&self, id: &IntentId, status: IntentStatus) -> Intent {
        let mut intents = self.intents.lock().unwrap();
        let intent = intents.get_mut(&id.0).unwrap();
        intent.status = status;
        intent.clone()
    }

    fn refunded(&self) -> Vec<(IntentId, Money)> {
        self.refunds.lock().unwrap().iter().map(|r| (r.intent.clone(), r.amount)).collect()
    }

    fn check(&self) -> Result<(), PaymentsError> {
        if *self.unavailable.lock().unwrap() { Err(PaymentsError::Unavailable("down".into())) } else { Ok(()) }
    }
}

impl Payments for Provider {
    fn provider(&self) -> &'static str {
        "fake"
    }

    fn create_intent<'a>(&'a self, new: &'a NewIntent) -> BoxFuture<'a, Result<Intent, PaymentsError>> {
        async move {
            self.check()?;
            let mut by_key = self.by_key.lock().unwrap();
            let mut intents = self.intents.lock().unwrap();
            let id = by_key.entry(new.idempotency_key()).or_insert_with(|| format!("pi_{}", intents.len() + 1));
            let intent = intents.entry(id.clone()).or_insert_with(|| Intent {
                id: IntentId(id.clone()),
                client_secret: format!("{id}_secret"),
                status: IntentStatus::RequiresPayment,
                amount: new.amount,
                currency: new.currency.clone(),
                reservation: Some(new.reservation),
            });
            Ok(intent.clone())
        }
        .boxed()
    }

    fn find_intent<'a>(&'a self, id: &'a IntentId) -> BoxFuture<'a, Result<Intent, PaymentsError>> {
        async move {
            self.check()?;
            self.intents.lock().unwrap().get(&id.0).cloned().ok_or_else(|| PaymentsError::UnknownIntent(id.clone()))
        }
        .boxed()
    }

    fn pay_with<'a>(&'a self, id: &'a IntentId, method: &'a str) -> BoxFuture<'a, Result<Intent, PaymentsError>> {
        async move {
            self.check()?;
            match method {
                "ok" => Ok(self.set_status(id, IntentStatus::Succeeded)),
                "3ds" => Ok(self.set_status(id, IntentStatus::RequiresAction)),
                _ => Err(PaymentsError::Refused { code: Some("card_declined".into()), message: "declined".into() }),
            }
        }
        .boxed()
    }

    fn refund<'a>(&'a self, refund: &'a RefundRequest) -> BoxFuture<'a, Result<Refund, PaymentsError>> {
        async move {
            self.check()?;
            let mut failing = self.failing_refunds.lock().unwrap();
            if *failing > 0 {
                *failing -= 1;
                return Err(PaymentsError::Unavailable("refund failed".into()));
            }
            self.refunds.lock().unwrap().push(refund.clone());
            Ok(Refund { id: format!("re_{}", refund.intent), amount: refund.amount, succeeded: true })
        }
        .boxed()
    }
}

type World = Services<FakeCatalogue, ManualClock, NoPublisher>;

struct Shop {
    services: World,
    store: FakeCatalogue,
    clock: ManualClock,
    provider: Arc<Provider>,
}

fn shop() -> Shop {
    let (store, clock) = (FakeCatalogue::default(), ManualClock::new(t(30)));
    let provider = Arc::new(Provider::default());
    let setup = PaymentsSetup { provider: provider.clone(), currency: "TRY".into() };
    let services = Services::new(store.clone(), clock.clone(), NoPublisher, Policy::default()).with_payments(setup);
    Shop { services, store, clock, provider }
}

fn admin() -> Actor {
    Actor::studio_admin(UserId(1), STUDIO)
}

fn ada() -> Actor {
    Actor::user(UserId(10))
}

impl Shop {
    /// Ada's hold of 2 seats at 150.00 each on a new event.
    fn hold(&self) -> Reservation {
        let input = EventInput {
            title: "Salsa night".into(),
            description: String::new(),
            capacity: 10,
            price: m("150.00"),
            starts_at: t(600),
            ends_at: t(660),
            is_active: true,
        };
        let event = block_on(self.services.create_event(&admin(), None, input)).unwrap();
        block_on(self.services.hold(&ada(), event.id, 2)).unwrap()
    }

    fn stored(&self, id: ReservationId) -> Reservation {
        self.store.rows().reservations[&id].clone()
    }

    fn succeeded(&self, id: &IntentId) -> ProviderEvent {
        let intent = self.provider.set_status(id, IntentStatus::Succeeded);
        ProviderEvent { id: format!("evt_{}", intent.id), kind: ProviderEventKind::PaymentSucceeded(intent) }
    }
}

#[test]
fn a_checkout_opens_one_payment_for_the_exact_total_and_a_second_returns_it() {
    let shop = shop();
    let hold = shop.hold();
    let first = block_on(shop.services.checkout(&ada(), hold.id, None)).unwrap();
    let intent = first.intent.unwrap();
    assert_eq!((intent.amount, intent.currency.as_str()), (m("300.00"), "TRY"));
    assert_eq!(first.reservation.payment.status, PaymentStatus::RequiresPayment);
    assert_eq!(shop.stored(hold.id).payment.intent, Some(intent.id.clone()));
    let again = block_on(shop.services.checkout(&ada(), hold.id, None)).unwrap();
    assert_eq!(again.intent.unwrap().id, intent.id);
    let stranger = Actor::user(UserId(11));
    assert_eq!(
        block_on(shop.services.checkout(&stranger, hold.id, None)).err(),
        Some(DomainError::NotFound("reservation"))
    );
}

#[test]
fn paying_with_a_card_confirms_the_hold_with_one_booking_code() {
    let shop = shop();
    let hold = shop.hold();
    let paid = block_on(shop.services.checkout(&ada(), hold.id, Some("ok"))).unwrap();
    assert_eq!(paid.intent.unwrap().status, IntentStatus::Succeeded);
    assert_eq!(paid.reservation.status, ReservationStatus::Confirmed);
    assert_eq!(paid.reservation.payment.status, PaymentStatus::Succeeded);
    assert_eq!(paid.reservation.payment.amount, m("300.00"));
    let code = paid.reservation.booking_code.clone().unwrap();
    // The client's confirm after it, and the webhook after that, change nothing.
    let confirmed = block_on(shop.services.confirm(&ada(), hold.id)).unwrap();
    assert_eq!(confirmed.booking_code, Some(code.clone()));
    let event = shop.succeeded(&paid.reservation.payment.intent.clone().unwrap());
    assert_eq!(block_on(shop.services.apply_provider_event(event)), Ok(Some(Settlement::AlreadyApplied)));
    assert_eq!(shop.stored(hold.id).booking_code, Some(code));
}

#[test]
fn confirm_asks_the_provider_and_names_what_is_missing() {
    let shop = shop();
    let hold = shop.hold();
    assert_eq!(block_on(shop.services.confirm(&ada(), hold.id)).err(), Some(DomainError::PaymentRequired));
    let opened = block_on(shop.services.checkout(&ada(), hold.id, Some("3ds"))).unwrap();
    assert_eq!(opened.intent.as_ref().unwrap().status, IntentStatus::RequiresAction);
    assert_eq!(block_on(shop.services.confirm(&ada(), hold.id)).err(), Some(DomainError::PaymentRequired));
    let intent = opened.intent.unwrap().id;
    shop.provider.set_status(&intent, IntentStatus::Processing);
    assert_eq!(block_on(shop.services.confirm(&ada(), hold.id)).err(), Some(DomainError::PaymentProcessing));
    *shop.provider.unavailable.lock().unwrap() = true;
    assert_eq!(block_on(shop.services.confirm(&ada(), hold.id)).err(), Some(DomainError::PaymentProviderUnavailable));
    *shop.provider.unavailable.lock().unwrap() = false;
    shop.provider.set_status(&intent, IntentStatus::Succeeded);
    assert_eq!(block_on(shop.services.confirm(&ada(), hold.id)).unwrap().status, ReservationStatus::Confirmed);
}

#[test]
fn a_declined_card_is_the_customers_to_replace() {
    let shop = shop();
    let hold = shop.hold();
    let declined = block_on(shop.services.checkout(&ada(), hold.id, Some("declined")));
    assert_eq!(declined.err(), Some(DomainError::PaymentDeclined("declined".into())));
    assert_eq!(shop.stored(hold.id).status, ReservationStatus::Hold);
}

#[test]
fn a_webhook_confirms_once_however_often_it_arrives() {
    let shop = shop();
    let hold = shop.hold();
    let intent = block_on(shop.services.checkout(&ada(), hold.id, None)).unwrap().intent.unwrap();
    let event = shop.succeeded(&intent.id);
    assert_eq!(block_on(shop.services.apply_provider_event(event.clone())), Ok(Some(Settlement::Confirm)));
    let booked = shop.stored(hold.id);
    assert_eq!(booked.status, ReservationStatus::Confirmed);
    let outbox = shop.store.rows().outbox.len();
    assert_eq!(block_on(shop.services.apply_provider_event(event)), Ok(None), "the same event is applied once");
    let other_delivery = shop.succeeded(&intent.id);
    let other_delivery = ProviderEvent { id: "evt_again".into(), ..other_delivery };
    assert_eq!(block_on(shop.services.apply_provider_event(other_delivery)), Ok(Some(Settlement::AlreadyApplied)));
    assert_eq!(shop.stored(hold.id), booked);
    assert_eq!(shop.store.rows().outbox.len(), outbox, "nothing announced twice");
}

#[test]
fn a_webhook_for_a_payment_this_service_did_not_open_is_ignored() {
    let shop = shop();
    let foreign = Intent {
        id: IntentId("pi_foreign".into()),
        client_secret: String::new(),
        status: IntentStatus::Succeeded,
        amount: m("10.00"),
        currency: "TRY".into(),
        reservation: None,
    };
    let event = ProviderEvent { id: "evt_x".into(), kind: ProviderEventKind::PaymentSucceeded(foreign) };
    assert_eq!(block_on(shop.services.apply_provider_event(event)), Ok(None));
    let other = ProviderEvent { id: "evt_y".into(), kind: ProviderEventKind::Other("customer.created".into()) };
    assert_eq!(block_on(shop.services.apply_provider_event(other)), Ok(None));
}

#[test]
fn money_for_a_lapsed_hold_goes_back_in_full() {
    let shop = shop();
    let hold = shop.hold();
    let intent = block_on(shop.services.checkout(&ada(), hold.id, None)).unwrap().intent.unwrap();
    shop.clock.set(hold.expires_at);
    let event = shop.succeeded(&intent.id);
    let settled = block_on(shop.services.apply_provider_event(event));
    assert!(matches!(settled, Ok(Some(Settlement::Refund(_)))), "{settled:?}");
    let lapsed = shop.stored(hold.id);
    assert_eq!(lapsed.status, ReservationStatus::Expired);
    assert_eq!((lapsed.payment.status, lapsed.payment.refunded_amount), (PaymentStatus::Refunded, m("300.00")));
    assert_eq!(shop.provider.refunded(), [(intent.id, m("300.00"))]);
    assert_eq!(
        block_on(shop.services.confirm(&ada(), hold.id)).err(),
        Some(DomainError::InvalidState(ReservationStatus::Expired))
    );
}

#[test]
fn cancelling_a_paid_booking_refunds_it_and_a_failed_refund_is_retried_later() {
    let shop = shop();
    let hold = shop.hold();
    block_on(shop.services.checkout(&ada(), hold.id, Some("ok"))).unwrap();
    *shop.provider.failing_refunds.lock().unwrap() = 1;
    let cancelled = block_on(shop.services.cancel_reservation(&ada(), hold.id)).unwrap();
    assert_eq!(cancelled.status, ReservationStatus::Cancelled);
    assert_eq!(cancelled.payment.status, PaymentStatus::RefundPending);
    let waiting = shop.stored(hold.id).payment;
    assert_eq!(waiting.refund_attempts, 1);
    assert_eq!(block_on(shop.services.refund_due(10)).unwrap().changed, 0, "not due before its back-off");
    shop.clock.set(waiting.next_refund_at.unwrap());
    assert_eq!(block_on(shop.services.refund_due(10)).unwrap().changed, 1);
    assert_eq!(shop.stored(hold.id).payment.status, PaymentStatus::Refunded);
    assert_eq!(shop.provider.refunded().len(), 1, "paid back once");
    assert_eq!(block_on(shop.services.refund_due(10)).unwrap().changed, 0);
}

#[test]
fn reconciliation_finds_a_payment_whose_webhook_was_lost() {
    let shop = shop();
    let hold = shop.hold();
    let intent = block_on(shop.services.checkout(&ada(), hold.id, None)).unwrap().intent.unwrap();
    shop.provider.set_status(&intent.id, IntentStatus::Succeeded);
    shop.clock.set(hold.created_at + RECONCILE_AFTER + Duration::seconds(1));
    assert_eq!(block_on(shop.services.reconcile_payments(10)).unwrap().changed, 1);
    assert_eq!(shop.stored(hold.id).status, ReservationStatus::Confirmed);
}

#[test]
fn a_payment_of_the_wrong_amount_never_confirms_and_goes_back() {
    let shop = shop();
    let hold = shop.hold();
    let intent = block_on(shop.services.checkout(&ada(), hold.id, None)).unwrap().intent.unwrap();
    let mut wrong = shop.provider.set_status(&intent.id, IntentStatus::Succeeded);
    wrong.amount = m("1.00");
    let event = ProviderEvent { id: "evt_wrong".into(), kind: ProviderEventKind::PaymentSucceeded(wrong) };
    let settled = block_on(shop.services.apply_provider_event(event));
    assert!(matches!(settled, Ok(Some(Settlement::Refund(_)))), "{settled:?}");
    assert_eq!(shop.stored(hold.id).status, ReservationStatus::Hold);
    assert_eq!(shop.provider.refunded(), [(intent.id, m("1.00"))]);
}

#[test]
fn with_payments_on_a_grab_cannot_book_at_once() {
    let shop = shop();
    let auction = block_on(shop.services.create_auction(&admin(), None, auction_input())).unwrap();
    assert_eq!(block_on(shop.services.grab(&ada(), auction.id, true)).err(), Some(DomainError::PaymentRequired));
    assert!(block_on(shop.services.grab(&ada(), auction.id, false)).is_ok());
}

#[test]
fn without_payments_there_is_no_checkout_and_confirm_books_as_before() {
    let (store, clock) = (FakeCatalogue::default(), ManualClock::new(t(30)));
    let services = Services::new(store, clock, NoPublisher, Policy::default());
    let shop = Shop { services, ..shop() };
    let hold = shop.hold();
    assert_eq!(block_on(shop.services.checkout(&ada(), hold.id, None)).err(), Some(DomainError::PaymentsDisabled));
    assert_eq!(block_on(shop.services.confirm(&ada(), hold.id)).unwrap().status, ReservationStatus::Confirmed);
}

#[test]
fn a_studio_cancelling_an_event_refunds_every_paid_booking_after_the_commit() {
    let shop = shop();
    let hold = shop.hold();
    block_on(shop.services.checkout(&ada(), hold.id, Some("ok"))).unwrap();
    let crate::reservation::ReservationTarget::Event(event) = hold.target else { panic!("an event") };
    let unpaid = block_on(shop.services.hold(&Actor::user(UserId(11)), event, 1)).unwrap();
    let cancelled = block_on(shop.services.cancel_event(&admin(), event)).unwrap();
    assert_eq!((cancelled.details.is_active, cancelled.cancelled_at), (false, Some(t(30))));
    let paid = shop.stored(hold.id);
    assert_eq!(paid.status, ReservationStatus::Cancelled);
    assert_eq!((paid.payment.status, paid.payment.refunded_amount), (PaymentStatus::Refunded, m("300.00")));
    assert_eq!(shop.stored(unpaid.id).status, ReservationStatus::Cancelled);
    assert_eq!(shop.stored(unpaid.id).payment.status, PaymentStatus::None, "nothing was paid, nothing goes back");
    assert_eq!(shop.provider.refunded().len(), 1);
}

#[test]
fn a_refund_that_fails_when_an_event_is_cancelled_is_left_to_the_retry_job() {
    let shop = shop();
    let hold = shop.hold();
    block_on(shop.services.checkout(&ada(), hold.id, Some("ok"))).unwrap();
    let crate::reservation::ReservationTarget::Event(event) = hold.target else { panic!("an event") };
    *shop.provider.failing_refunds.lock().unwrap() = 1;
    block_on(shop.services.cancel_event(&admin(), event)).unwrap();
    let waiting = shop.stored(hold.id).payment;
    assert_eq!((waiting.status, waiting.refund_attempts), (PaymentStatus::RefundPending, 1));
    shop.clock.set(waiting.next_refund_at.unwrap());
    assert_eq!(block_on(shop.services.refund_due(10)).unwrap().changed, 1);
    assert_eq!(shop.stored(hold.id).payment.status, PaymentStatus::Refunded);
}
