//! Events' waiting lists: join, see one's place, leave (see [`crate::waitlist`]).

use super::Services;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::ids::EventId;
use crate::ports::{CatalogueStore, EventHolds, EventPublisher};
use crate::waitlist::WaitingPlace;

impl<S: CatalogueStore, C: Clock, P: EventPublisher> Services<S, C, P> {
    /// Puts the actor in line for `quantity` seats of a full event, decided
    /// under the event's lock like a hold: lapsed holds are expired and their
    /// seats offered to those already waiting first, then the actor joins
    /// only if fewer than `quantity` seats are still available.
    pub async fn join_waitlist(&self, actor: &Actor, id: EventId, quantity: i64) -> Result<WaitingPlace, DomainError> {
        if !actor.may_book() {
            return Err(DomainError::BookingNotAllowed);
        }
        let (user, policy) = (actor.user_id, self.policy);
        let target = EventHolds { event: id, users: vec![user], waiting_list: true };
        self.decide(target, move |unit, now| {
            unit.expire_lapsed_holds(now);
            unit.offer_waiting_list(now, &policy);
            unit.join_waitlist(user, quantity, now, &policy)
        })
        .await
    }

    /// Where the actor stands in the event's waiting list.
    pub async fn waiting_place(&self, actor: &Actor, id: EventId) -> Result<WaitingPlace, DomainError> {
        let place = self.store.waiting_place(id, actor.user_id).await?;
        place.ok_or(DomainError::NotFound("waiting list entry"))
    }

    /// Takes the actor off the event's waiting list.
    pub async fn leave_waitlist(&self, actor: &Actor, id: EventId) -> Result<(), DomainError> {
        let user = actor.user_id;
        self.decide(EventHolds::of(id), move |unit, now| unit.leave_waitlist(user, now)).await
    }
}
