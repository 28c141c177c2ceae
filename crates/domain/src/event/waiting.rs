//! An event's waiting list under the event's lock: joining, leaving, and
//! offering returned seats (see [`crate::waitlist`]).

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::event::EventUnit;
use crate::ids::UserId;
use crate::reservation::Reservation;
use crate::unit_of_work::Policy;
use crate::waitlist::{WaitingPlace, WaitlistChange};

impl EventUnit {
    /// Offers the seats free now to the waiting list (after seats returned):
    /// each offered hold is its waiter's live hold from now on.
    pub fn offer_waiting_list(&mut self, now: DateTime<Utc>, policy: &Policy) -> Vec<Reservation> {
        let offered = self.waiting.offer_seats(&mut self.event, &mut self.effects, now, policy);
        for hold in &offered {
            self.live_holds.insert(hold.user_id, hold.id);
        }
        offered
    }

    /// Puts `user` in line for `quantity` seats: only while fewer are
    /// available (else they can hold them now), once per user, and not while
    /// they hold seats of the event.
    pub fn join_waitlist(
        &mut self,
        user: UserId,
        quantity: i64,
        now: DateTime<Utc>,
        policy: &Policy,
    ) -> Result<WaitingPlace, DomainError> {
        self.check_visible_to(user)?;
        if self.event.is_cancelled() {
            return Err(DomainError::EventCancelled);
        }
        let quantity = self.seats_asked(quantity, now, policy)?;
        if self.waiting.place_of(self.event.id, user).is_some() {
            return Err(DomainError::AlreadyWaiting);
        }
        if self.live_holds.contains_key(&user) {
            return Err(DomainError::HoldAlreadyExists);
        }
        let available = self.event.available();
        if available >= quantity {
            return Err(DomainError::SeatsAvailable { available });
        }
        self.waiting.waiters.push(crate::waitlist::Waiter { user_id: user, quantity, joined_at: now, hold: None });
        let event = self.event.id;
        self.effects.waitlist.push(WaitlistChange::Joined { event, user, quantity, at: now });
        self.waiting.place_of(event, user).ok_or(DomainError::NotFound("waiting list entry"))
    }

    /// Takes `user` off the waiting list.
    pub fn leave_waitlist(&mut self, user: UserId, now: DateTime<Utc>) -> Result<(), DomainError> {
        let event = self.event.id;
        self.waiting.place_of(event, user).ok_or(DomainError::NotFound("waiting list entry"))?;
        self.waiting.waiters.retain(|waiter| waiter.user_id != user);
        self.effects.waitlist.push(WaitlistChange::Left { event, user, at: now });
        Ok(())
    }
}
