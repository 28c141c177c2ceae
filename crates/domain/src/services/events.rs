//! Events: create, read, edit, delete, and holds on their seats.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::{Services, decide_batch, ensure_manages};
use crate::actor::Actor;
use crate::audit::Facts;
use crate::clock::Clock;
use crate::domain_events::{AuditDetails, EventKind, Payload, Room};
use crate::error::DomainError;
use crate::event::Event;
use crate::event::EventUnit;
use crate::event::{EventDetails, EventInput, EventPatch};
use crate::ids::{EventId, StudioId, UserId};
use crate::ports::{CatalogueStore, EventBookings, EventHolds, EventPublisher, EventRecord, EventsHolds, NewEvent};
use crate::reservation::Reservation;
use crate::unit_of_work::{Effects, Policy};

/// One caller's hold, waiting to be decided with the others in its lane.
#[derive(Debug, Clone, Copy)]
pub(super) struct HoldRequest {
    event: EventId,
    user: UserId,
    quantity: i64,
}

impl<S: CatalogueStore, C: Clock, P: EventPublisher> Services<S, C, P> {
    pub async fn create_event(
        &self,
        actor: &Actor,
        studio: Option<StudioId>,
        input: EventInput,
    ) -> Result<Event, DomainError> {
        actor.ensure_manages_catalogue()?;
        let studio_id = Self::studio_for(actor, studio)?;
        let details = EventDetails::new(input)?;
        let now = self.clock.now();
        let actor = *actor;
        let committed = self
            .store
            .create(NewEvent { studio_id, details, created_at: now }, move |event| {
                let mut effects = Effects::default();
                let snapshot = event.snapshot(event.availability(0, 0));
                let details = AuditDetails::EventCreate(Facts::of_event(&snapshot));
                effects.audit(&actor, Some(studio_id), event.id.to_string(), &details);
                // Announced to its studio, like a new auction: the catalogue room hears it from there.
                effects.emit(&[Room::Studio(studio_id)], Payload::AvailabilityChanged(snapshot));
                effects
            })
            .await?;
        Ok(self.deliver(committed))
    }

    pub async fn get_event(&self, id: EventId) -> Result<EventRecord, DomainError> {
        let now = self.clock.now();
        let read = self.store.find_event(id, now);
        let record = self.read_model.events().get_or_read(id, now, read, |record| record.next_lapse_at).await?;
        record.ok_or(DomainError::NotFound("event"))
    }

    /// As [`Services::get_event`], read from the store whatever is in memory.
    pub async fn get_event_from_store(&self, id: EventId) -> Result<EventRecord, DomainError> {
        self.store.find_event(id, self.clock.now()).await?.ok_or(DomainError::NotFound("event"))
    }

    /// As [`Services::ensure_manages_auction`], for an event.
    async fn ensure_manages_event(&self, actor: &Actor, id: EventId) -> Result<(), DomainError> {
        actor.ensure_manages_catalogue()?;
        let record = self.get_event(id).await?;
        ensure_manages(actor, record.event.studio_id, "event")
    }

    /// Changes the fields in `patch`, merged into the event as read under its lock.
    pub async fn update_event(&self, actor: &Actor, id: EventId, patch: EventPatch) -> Result<Event, DomainError> {
        self.ensure_manages_event(actor, id).await?;
        let actor = *actor;
        let policy = self.policy;
        self.decide(EventHolds::of(id), move |unit, now| {
            ensure_manages(&actor, unit.event.studio_id, "event")?;
            let details = patch.apply(&unit.event.details)?;
            unit.expire_lapsed_holds(now);
            unit.update(&actor, details)?;
            // Seats that lapsed or came with more capacity go to the waiting list first.
            unit.offer_waiting_list(now, &policy);
            Ok(unit.event.clone())
        })
        .await
    }

    pub async fn delete_event(&self, actor: &Actor, id: EventId) -> Result<(), DomainError> {
        self.ensure_manages_event(actor, id).await?;
        let actor = *actor;
        self.decide(EventHolds::of(id), move |unit, now| {
            ensure_manages(&actor, unit.event.studio_id, "event")?;
            unit.expire_lapsed_holds(now);
            unit.delete(&actor, now)
        })
        .await
    }

    /// Cancels the event and, in the same decision, every hold and booking
    /// it has (each holder is told); then gives back the money of the paid
    /// ones (a refund that fails now stays pending for `refund_due`).
    pub async fn cancel_event(&self, actor: &Actor, id: EventId) -> Result<Event, DomainError> {
        self.ensure_manages_event(actor, id).await?;
        let actor = *actor;
        let policy = self.policy;
        let cancelled =
            self.decide(EventBookings { event: id }, move |unit, now| unit.cancel_event(&actor, now, &policy)).await?;
        for reservation in cancelled.refunds {
            let _ = self.refund_now(reservation).await;
        }
        Ok(cancelled.event)
    }

    /// Holds `quantity` seats of an event for the actor. Concurrent holds
    /// share one commit (see [`Batcher`]): those on one event one lock, those
    /// on several events their locks in id order, in one transaction (a
    /// marketplace has many events with a hold or two each). Each is answered
    /// as it would have been alone.
    pub async fn hold(&self, actor: &Actor, id: EventId, quantity: i64) -> Result<Reservation, DomainError> {
        if !actor.may_book() {
            return Err(DomainError::BookingNotAllowed);
        }
        let request = HoldRequest { event: id, user: actor.user_id, quantity };
        let lane = id.0.rem_euclid(self.hold_lanes);
        let hold = self.holds.submit(lane, request, |batch| self.hold_batch(batch)).await?;
        self.known_reservations.remember(&hold);
        Ok(hold)
    }

    /// How many hold batches ran, and how many holds they decided.
    pub fn hold_batches(&self) -> (u64, u64) {
        self.holds.counts()
    }

    /// How many hold batches decided holds on several events in one transaction.
    pub fn hold_batches_across_events(&self) -> u64 {
        self.hold_batches_across_events.load(Ordering::Relaxed)
    }

    async fn hold_batch(&self, batch: Vec<HoldRequest>) -> Vec<Result<Reservation, DomainError>> {
        let alone = |request: HoldRequest| async move {
            let mut answers = self.holds_on_one_event(request.event, vec![request]).await?;
            answers.pop().unwrap_or(Err(DomainError::NotFound("event")))
        };
        let together = |batch: Vec<HoldRequest>| async move {
            match batch.first() {
                Some(first) if batch.iter().all(|request| request.event == first.event) => {
                    self.holds_on_one_event(first.event, batch).await
                }
                _ => self.holds_across_events(batch).await,
            }
        };
        decide_batch(batch, together, alone).await
    }

    async fn holds_on_one_event(
        &self,
        id: EventId,
        batch: Vec<HoldRequest>,
    ) -> Result<Vec<Result<Reservation, DomainError>>, DomainError> {
        let users: Vec<UserId> = batch.iter().map(|request| request.user).collect();
        let policy = self.policy;
        self.decide(EventHolds::for_users(id, users), move |unit, now| Ok(place_holds(unit, &batch, now, &policy)))
            .await
    }

    /// Holds on several events in one transaction: each event's holds are
    /// decided on its own unit, in arrival order, as they would be alone.
    async fn holds_across_events(
        &self,
        batch: Vec<HoldRequest>,
    ) -> Result<Vec<Result<Reservation, DomainError>>, DomainError> {
        let policy = self.policy;
        let targets = EventsHolds::new(batch.iter().map(|r| EventHolds::for_users(r.event, vec![r.user])));
        let answers = self
            .decide(targets, move |units, now| {
                let mut answers: Vec<Option<Result<Reservation, DomainError>>> = vec![None; batch.len()];
                for unit in &mut units.units {
                    let (positions, requests): (Vec<usize>, Vec<HoldRequest>) = batch
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.event == unit.event.id)
                        .map(|(i, r)| (i, *r))
                        .unzip();
                    for (position, answer) in positions.into_iter().zip(place_holds(unit, &requests, now, &policy)) {
                        answers[position] = Some(answer);
                    }
                }
                // Whoever is left asked for an event that is not there.
                Ok(answers.into_iter().map(|answer| answer.unwrap_or(Err(DomainError::NotFound("event")))).collect())
            })
            .await;
        if answers.is_ok() {
            self.hold_batches_across_events.fetch_add(1, Ordering::Relaxed);
        }
        answers
    }
}

/// Decides `requests` (all on the unit's event) in order: seats found lapsed
/// go to the waiting list before anyone here holds them.
fn place_holds(
    unit: &mut EventUnit,
    requests: &[HoldRequest],
    now: DateTime<Utc>,
    policy: &Policy,
) -> Vec<Result<Reservation, DomainError>> {
    if unit.expire_lapsed_holds(now) > 0 {
        unit.offer_waiting_list(now, policy);
    }
    let answers = requests.iter().map(|r| unit.place_hold(r.user, r.quantity, now, policy)).collect();
    unit.effects.keep_last_of_each_room(EventKind::AvailabilityChanged);
    answers
}
