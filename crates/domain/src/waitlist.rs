//! The waiting list of a full event (SPEC §14).
//!
//! A user joins while fewer seats are available than they want. Whenever
//! seats return to the event (a hold lapses, a booking or hold is cancelled,
//! capacity grows) they go to the list first, in the same decision under the
//! event's lock: in order of joining, each waiter whose quantity fits in the
//! seats still free is offered a hold created for them (the usual hold time,
//! never past the event's start) and leaves the list. A bigger waiter earlier
//! in line does not block smaller ones behind them: the issue asks for "the
//! first in line whose quantity fits", so a party of four may see parties of
//! one served first while only one seat at a time comes back. An offered hold
//! counts like any hold, so nobody else can take its seats; when it lapses,
//! its seats return and pass to the next in line.

use chrono::{DateTime, Utc};

use crate::domain_events::{Payload, Room};
use crate::event::Event;
use crate::ids::{EventId, ReservationId, UserId};
use crate::mail::Notice;
use crate::reservation::{Reservation, ReservationStatus};
use crate::unit_of_work::{Effects, Policy};

/// One user waiting for seats of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiter {
    pub user_id: UserId,
    pub quantity: u32,
    pub joined_at: DateTime<Utc>,
    /// The waiter's stored HOLD on the event, if any (live or lapsed and
    /// not yet expired): while it stands they get no offer (one hold per user
    /// per event).
    pub hold: Option<ReservationId>,
}

/// An event's waiting list as read under the event's lock: who waits, in
/// order of joining, and ids for the holds the decision may offer them.
/// Read only when the decision may return seats (or touches the list);
/// otherwise empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitingList {
    pub waiters: Vec<Waiter>,
    /// Unused reservation ids, taken from the end.
    pub fresh_ids: Vec<ReservationId>,
}

/// Where a user stands in an event's waiting list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitingPlace {
    pub event_id: EventId,
    /// 1 for the first in line.
    pub place: u32,
    pub quantity: u32,
    pub since: DateTime<Utc>,
}

/// What a decision changed in a waiting list, written with the rest of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitlistChange {
    Joined {
        event: EventId,
        user: UserId,
        quantity: u32,
        at: DateTime<Utc>,
    },
    Left {
        event: EventId,
        user: UserId,
        at: DateTime<Utc>,
    },
    /// The waiter was offered `reservation` and left the list.
    Offered {
        event: EventId,
        user: UserId,
        reservation: ReservationId,
        at: DateTime<Utc>,
    },
}

/// Which waiters (their places in `waiters`, in order) get `available`
/// seats: in order of joining, every one who `may_hold` and whose quantity
/// fits in the seats the ones before them left. A waiter who does not fit
/// never blocks the ones behind.
pub fn choose_offers(waiters: &[Waiter], available: u32, may_hold: impl Fn(&Waiter) -> bool) -> Vec<usize> {
    let mut left = available;
    let mut chosen = Vec::new();
    for (index, waiter) in waiters.iter().enumerate() {
        if waiter.quantity <= left && may_hold(waiter) {
            left -= waiter.quantity;
            chosen.push(index);
        }
    }
    chosen
}

impl WaitingList {
    /// The user's place in line, if they wait.
    pub fn place_of(&self, event_id: EventId, user: UserId) -> Option<WaitingPlace> {
        let index = self.waiters.iter().position(|waiter| waiter.user_id == user)?;
        let waiter = &self.waiters[index];
        Some(WaitingPlace { event_id, place: index as u32 + 1, quantity: waiter.quantity, since: waiter.joined_at })
    }

    /// Offers the event's free seats to the waiters (see [`choose_offers`]),
    /// while it takes holds: each chosen waiter gets a hold, is told
    /// (`hold_offered` on their room, an email) and leaves the list.
    /// Answers the holds created.
    pub fn offer_seats(
        &mut self,
        event: &mut Event,
        effects: &mut Effects,
        now: DateTime<Utc>,
        policy: &Policy,
    ) -> Vec<Reservation> {
        if self.waiters.is_empty() || !event.takes_holds(now) {
            return Vec::new();
        }
        // A waiter's hold ended by this very decision no longer stands.
        let ended =
            |id: ReservationId| effects.reservations.iter().any(|r| r.id == id && r.status != ReservationStatus::Hold);
        let chosen = choose_offers(&self.waiters, event.available(), |w| w.hold.is_none_or(ended));
        let mut offered = Vec::new();
        for index in chosen {
            let waiter = &self.waiters[index];
            let Some(&id) = self.fresh_ids.last() else { break };
            let Ok(hold) = event.new_hold(id, waiter.user_id, waiter.quantity, now, policy) else { continue };
            self.fresh_ids.pop();
            event.account_new(&hold);
            effects.save(&hold);
            let snapshot = hold.snapshot(now);
            effects.emit(&[Room::User(hold.user_id)], Payload::HoldOffered(snapshot.clone()));
            effects.emit(&[Room::Studio(hold.studio_id)], Payload::HoldCreated(snapshot));
            effects.mail(hold.user_id, Notice::waitlist_offer(&hold, now));
            effects.waitlist.push(WaitlistChange::Offered {
                event: event.id,
                user: hold.user_id,
                reservation: hold.id,
                at: now,
            });
            offered.push(hold);
        }
        if !offered.is_empty() {
            self.waiters.retain(|waiter| offered.iter().all(|hold| hold.user_id != waiter.user_id));
            event.announce_seats(effects);
        }
        offered
    }
}

#[cfg(test)]
mod tests;
