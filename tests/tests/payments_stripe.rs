//! The Stripe adapter against a real Stripe-compatible server (localstripe):
//! the calls the payment flows make, as the domain's port sees them.

use hothour_domain::ids::ReservationId;
use hothour_domain::money::Money;
use hothour_domain::payments::{IntentId, IntentStatus, NewIntent, Payments, PaymentsError, RefundRequest};
use hothour_infra_stripe::Stripe;
use hothour_tests::localstripe::{CARD_3DS, CARD_DECLINED, CARD_OK, LocalStripe, SECRET_KEY};

fn lira(amount: &str) -> Money {
    Money::parse(amount).unwrap()
}

fn new_intent(reservation: i64, amount: &str) -> NewIntent {
    NewIntent { reservation: ReservationId(reservation), amount: lira(amount), currency: "TRY".into() }
}

#[tokio::test]
async fn a_card_pays_the_exact_total_and_a_refund_pays_it_back() {
    let server = LocalStripe::start();
    let stripe = Stripe::new(SECRET_KEY, &server.base_url).unwrap();

    let opened = stripe.create_intent(&new_intent(7, "300.50")).await.unwrap();
    assert_eq!(opened.status, IntentStatus::RequiresPayment);
    assert!(opened.client_secret.starts_with(&opened.id.0), "{opened:?}");
    assert!(opened.pays_for(ReservationId(7), lira("300.50"), "TRY"), "{opened:?}");

    let card = server.card(CARD_OK).await;
    let paid = stripe.pay_with(&opened.id, &card).await.unwrap();
    assert_eq!(paid.status, IntentStatus::Succeeded);
    let read = stripe.find_intent(&opened.id).await.unwrap();
    assert_eq!(
        (read.status, read.amount, read.reservation),
        (IntentStatus::Succeeded, lira("300.50"), Some(ReservationId(7)))
    );

    let refund = RefundRequest { intent: opened.id.clone(), amount: lira("300.50"), reservation: ReservationId(7) };
    let refunded = stripe.refund(&refund).await.unwrap();
    assert!(refunded.succeeded);
    assert_eq!(refunded.amount, lira("300.50"));
}

#[tokio::test]
async fn a_card_that_needs_3d_secure_leaves_the_payment_requiring_action() {
    let server = LocalStripe::start();
    let stripe = Stripe::new(SECRET_KEY, &server.base_url).unwrap();
    let opened = stripe.create_intent(&new_intent(8, "150.00")).await.unwrap();
    let card = server.card(CARD_3DS).await;
    let paid = stripe.pay_with(&opened.id, &card).await.unwrap();
    assert_eq!(paid.status, IntentStatus::RequiresAction);
}

#[tokio::test]
async fn an_unknown_payment_and_an_unreachable_provider_are_told_apart() {
    let server = LocalStripe::start();
    let stripe = Stripe::new(SECRET_KEY, &server.base_url).unwrap();
    let unknown = IntentId("pi_doesnotexist".into());
    assert!(matches!(stripe.find_intent(&unknown).await, Err(PaymentsError::UnknownIntent(_))));

    let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let unreachable = Stripe::new(SECRET_KEY, &format!("http://{nobody}")).unwrap();
    assert!(matches!(unreachable.create_intent(&new_intent(9, "10.00")).await, Err(PaymentsError::Unavailable(_))));
}

#[tokio::test]
async fn a_refused_card_is_the_providers_refusal() {
    let server = LocalStripe::start();
    let stripe = Stripe::new(SECRET_KEY, &server.base_url).unwrap();
    let opened = stripe.create_intent(&new_intent(10, "20.00")).await.unwrap();
    let declined = server.card(CARD_DECLINED).await;
    match stripe.pay_with(&opened.id, &declined).await {
        Err(PaymentsError::Refused { code, .. }) => assert_eq!(code.as_deref(), Some("card_declined")),
        other => panic!("{other:?}"),
    }
    assert_eq!(stripe.find_intent(&opened.id).await.unwrap().status, IntentStatus::RequiresPayment);
}
