//! The studio's door: the day's sessions and a session's roster, for those
//! who manage the studio; to anyone else the studio is not found.

use chrono::NaiveDate;

use super::Services;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::door::{self, DoorStore, Roster, StudioDay};
use crate::error::DomainError;
use crate::ids::StudioId;
use crate::ports::AccountStore;
use crate::reservation::{ReservationKind, ReservationTarget};

impl<S, C, P> Services<S, C, P>
where
    S: DoorStore + AccountStore,
    C: Clock,
{
    /// The studio's sessions starting on `date` in its time zone (today
    /// there when none is given), with who is coming to each.
    pub async fn studio_day(
        &self,
        actor: &Actor,
        studio: StudioId,
        date: Option<NaiveDate>,
    ) -> Result<StudioDay, DomainError> {
        let not_found = DomainError::NotFound("studio");
        if !actor.manages(studio) {
            return Err(not_found);
        }
        let timezone = self.store.find_studio(studio).await?.ok_or(not_found)?.timezone;
        let zone = crate::reports::studio_zone(&timezone)?;
        let now = self.clock.now();
        let date = date.unwrap_or_else(|| door::date_at(zone, now));
        let (starts_at, ends_at) = door::day_bounds(zone, date);
        let mut sessions = self.store.sessions_starting(studio, starts_at, ends_at, now).await?;
        door::sort_sessions(&mut sessions);
        Ok(StudioDay { date, timezone, starts_at, ends_at, sessions })
    }

    /// Who is coming to one of the studio's sessions: its live reservations
    /// (bookings, and holds still being paid for), by name.
    pub async fn roster(
        &self,
        actor: &Actor,
        studio: StudioId,
        target: ReservationTarget,
    ) -> Result<Roster, DomainError> {
        if !actor.manages(studio) {
            return Err(DomainError::NotFound("studio"));
        }
        let not_found = DomainError::NotFound(match target.kind() {
            ReservationKind::Auction => "auction",
            ReservationKind::Event => "event",
        });
        let now = self.clock.now();
        let session = self.store.door_session(target, now).await?.filter(|door| door.session.studio_id == studio);
        let session = session.ok_or(not_found)?;
        let mut entries = self.store.roster(target, now).await?;
        door::sort_roster(&mut entries);
        Ok(Roster { session, entries, at: now })
    }
}
