//! What leaving takes with it in the catalogue: a deleted account's live
//! holds are let go (its bookings stay, for the studio's records).

use super::Services;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::ids::UserId;
use crate::ports::{CatalogueStore, EventPublisher, QueryStore, ReservationFilter};
use crate::reservation::ReservationStatus;

/// Holds read at a time.
const PAGE: u32 = 100;

impl<S: CatalogueStore + QueryStore, C: Clock, P: EventPublisher> Services<S, C, P> {
    /// Lets go of every live hold of `user`, as if they cancelled each: the
    /// seats or slot return and are announced like any cancellation. A hold
    /// that lapsed, was confirmed or let go meanwhile is left as it is.
    /// Answers how many were let go.
    pub async fn release_holds_of(&self, user: UserId) -> Result<usize, DomainError> {
        let owner = Actor::user(user);
        let filter = ReservationFilter { user_id: Some(user), studio_id: None, status: Some(ReservationStatus::Hold) };
        let (mut released, mut before) = (0, None);
        loop {
            let holds = self.store.list_reservations(filter, self.clock.now(), PAGE, before).await?;
            for hold in &holds {
                match self.cancel_reservation(&owner, hold.id).await {
                    Ok(_) => released += 1,
                    Err(DomainError::InvalidState(_) | DomainError::HoldExpired | DomainError::NotFound(_)) => {}
                    Err(error) => return Err(error),
                }
            }
            match holds.last() {
                Some(last) if holds.len() == PAGE as usize => before = Some(last.id),
                _ => return Ok(released),
            }
        }
    }
}
