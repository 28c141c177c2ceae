//! Money stays exact in SQLite: amounts that no `f64` holds exactly come back
//! unchanged through an event's price, an auction's prices and a
//! reservation's unit and total price, and are stored as integer cents.

mod common;

use common::{World, auction_input, money};
use hothour_domain::Money;

const AMOUNTS: [&str; 4] = ["0.10", "0.20", "1234567.89", "9999999999.99"];

#[tokio::test]
async fn event_prices_and_seat_totals_are_exact() {
    let world = World::new("money-events").await;
    for (i, amount) in AMOUNTS.iter().enumerate() {
        let price = money(amount);
        let event = world.services.create_event(&world.admin, None, world.event_input(price, 10)).await.unwrap();
        assert_eq!(event.details.price, price, "as inserted");
        let read = world.services.get_event(event.id).await.unwrap();
        assert_eq!(read.event.details.price, price, "as read back");
        let stored = world.db.scalar(&format!("SELECT price FROM events WHERE id = {}", event.id.0)).await;
        assert_eq!(stored, price.minor_units(), "stored as cents");
        let kind = world.db.text(&format!("SELECT typeof(price) FROM events WHERE id = {}", event.id.0)).await;
        assert_eq!(kind, "integer");

        // Three seats of 0.10 are 0.30, which 0.1 * 3 in floating point is not.
        let quantity = if price.minor_units() * 3 <= Money::MAX.minor_units() { 3 } else { 1 };
        let user = world.user(&format!("buyer{i}@example.test")).await;
        let hold = world.services.hold(&user, event.id, quantity).await.unwrap();
        let total = price.checked_mul(quantity).unwrap();
        assert_eq!((hold.unit_price, hold.total_price), (price, total));
        let read = world.services.get_reservation(&user, hold.id).await.unwrap();
        assert_eq!((read.unit_price, read.total_price), (price, total), "{amount} × {quantity}");
        let stored = world.db.scalar(&format!("SELECT total_price FROM reservations WHERE id = {}", hold.id.0)).await;
        assert_eq!(stored, total.minor_units());
    }
    assert_eq!(money("0.10").checked_mul(3), Some(money("0.30")));
}

#[tokio::test]
async fn auction_prices_and_grabbed_prices_are_exact() {
    let world = World::new("money-auctions").await;
    let cent = money("0.01");
    for (i, amount) in AMOUNTS.iter().enumerate() {
        let start = money(amount);
        let drop = start.checked_sub(cent).unwrap();
        let input = auction_input(common::epoch(), start, cent, drop, cent);
        let auction = world.services.create_auction(&world.admin, None, input).await.unwrap();
        let (record, view) = world.services.get_auction(auction.id).await.unwrap();
        let schedule = record.auction.schedule();
        assert_eq!(
            (schedule.start_price(), schedule.floor_price(), schedule.drop_amount()),
            (start, cent, drop),
            "{amount}"
        );
        assert_eq!(schedule.turbo().map(|t| t.drop_amount), Some(cent));
        assert_eq!(view.current_price, start);
        let stored = world.db.scalar(&format!("SELECT start_price FROM auctions WHERE id = {}", auction.id.0)).await;
        assert_eq!(stored, start.minor_units());

        let user = world.user(&format!("grabber{i}@example.test")).await;
        let booked = world.services.grab(&user, auction.id, true).await.unwrap();
        assert_eq!((booked.unit_price, booked.total_price), (start, start));
        let read = world.services.get_reservation(&user, booked.id).await.unwrap();
        assert_eq!((read.unit_price, read.total_price), (start, start));
        let (_, view) = world.services.get_auction(auction.id).await.unwrap();
        assert_eq!(view.current_price, start, "the sale price");
    }
}

#[tokio::test]
async fn a_float_cannot_be_stored_as_money() {
    let world = World::new("money-strict").await;
    let event = world.services.create_event(&world.admin, None, world.event_input(money("1.00"), 1)).await.unwrap();
    let sql = format!("UPDATE events SET price = 0.1 WHERE id = {}", event.id.0);
    let refused = sea_orm::ConnectionTrait::execute_unprepared(world.db.store.connection(), &sql).await;
    let message = refused.expect_err("a STRICT INTEGER column refuses a REAL").to_string();
    assert!(message.contains("cannot store REAL value in INTEGER column"), "{message}");
}
