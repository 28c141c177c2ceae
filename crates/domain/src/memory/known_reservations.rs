//! What never changes about a reservation once it exists: whose it is, which
//! studio's, and what it reserves. Remembered per instance, so that checking
//! who may confirm or cancel a reservation, and routing the confirmation to
//! its event's batch, need no read. Facts cannot go stale, so nothing
//! invalidates them; the map is only bounded.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::ids::{ReservationId, StudioId, UserId};
use crate::reservation::{Reservation, ReservationTarget};

/// Reservations remembered at most; past it the map starts over.
const MAX_REMEMBERED: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationFacts {
    pub user_id: UserId,
    pub studio_id: StudioId,
    pub target: ReservationTarget,
}

impl From<&Reservation> for ReservationFacts {
    fn from(reservation: &Reservation) -> Self {
        ReservationFacts { user_id: reservation.user_id, studio_id: reservation.studio_id, target: reservation.target }
    }
}

#[derive(Debug, Default)]
pub struct KnownReservations {
    facts: Mutex<HashMap<ReservationId, ReservationFacts>>,
}

impl KnownReservations {
    pub fn remember(&self, reservation: &Reservation) {
        let mut facts = self.facts.lock().unwrap_or_else(PoisonError::into_inner);
        if facts.len() >= MAX_REMEMBERED && !facts.contains_key(&reservation.id) {
            facts.clear();
        }
        facts.insert(reservation.id, ReservationFacts::from(reservation));
    }

    pub fn get(&self, id: ReservationId) -> Option<ReservationFacts> {
        self.facts.lock().unwrap_or_else(PoisonError::into_inner).get(&id).copied()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.facts.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::EventId;

    fn hold(id: ReservationId, user_id: UserId, event: EventId) -> Reservation {
        Reservation { id, user_id, target: ReservationTarget::Event(event), ..crate::reservation::tests::hold(5) }
    }

    #[test]
    fn remembers_whose_a_reservation_is_and_what_it_reserves() {
        let known = KnownReservations::default();
        let reservation = hold(ReservationId(5), UserId(7), EventId(3));
        assert_eq!(known.get(ReservationId(5)), None);
        known.remember(&reservation);
        assert_eq!(
            known.get(ReservationId(5)),
            Some(ReservationFacts {
                user_id: UserId(7),
                studio_id: reservation.studio_id,
                target: ReservationTarget::Event(EventId(3))
            })
        );
    }

    #[test]
    fn stays_bounded() {
        let known = KnownReservations::default();
        for id in 0..=MAX_REMEMBERED as i64 {
            known.remember(&hold(ReservationId(id), UserId(1), EventId(1)));
        }
        assert!(known.len() <= MAX_REMEMBERED);
        assert!(known.get(ReservationId(MAX_REMEMBERED as i64)).is_some(), "the newest is kept");
    }
}
