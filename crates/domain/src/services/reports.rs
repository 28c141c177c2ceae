//! A studio's numbers and the export of its reservations, for those who
//! manage it; to anyone else the studio is not found (ids do not leak).

use super::Services;
use crate::actor::Actor;
use crate::audit::ExportedRange;
use crate::clock::Clock;
use crate::domain_events::{AuditDetails, AuditEntry};
use crate::error::DomainError;
use crate::ids::StudioId;
use crate::ports::{AccountStore, StudioReports};
use crate::reports::{DayRange, ExportCursor, ExportRow, StudioDays, StudioStats, studio_zone};

/// An export the actor may read and that is in the audit log: only
/// [`Services::start_export`] makes one.
#[derive(Debug, Clone)]
pub struct Export {
    studio: StudioId,
    days: StudioDays,
}

impl Export {
    pub fn studio(&self) -> StudioId {
        self.studio
    }

    pub fn days(&self) -> &StudioDays {
        &self.days
    }
}

impl<S, C, P> Services<S, C, P>
where
    S: StudioReports + AccountStore,
    C: Clock,
{
    /// The range's days on the clock of `studio`, which the actor must manage.
    async fn managed_days(&self, actor: &Actor, studio: StudioId, range: DayRange) -> Result<StudioDays, DomainError> {
        if !actor.manages(studio) {
            return Err(DomainError::NotFound("studio"));
        }
        let found = self.store.find_studio(studio).await?.ok_or(DomainError::NotFound("studio"))?;
        Ok(range.in_zone(studio_zone(&found.timezone)?))
    }

    /// The studio's numbers for each day of the range and for the whole of it.
    pub async fn studio_stats(
        &self,
        actor: &Actor,
        studio: StudioId,
        range: DayRange,
    ) -> Result<StudioStats, DomainError> {
        let days = self.managed_days(actor, studio, range).await?;
        let per_day = self.store.day_totals(studio, &days, self.clock.now()).await?;
        StudioStats::new(days, per_day)
    }

    /// Opens an export of the studio's reservations whose session starts in
    /// the range, once it is in the audit log: personal data leaves only
    /// with a trace (a failure to write it fails the export).
    pub async fn start_export(&self, actor: &Actor, studio: StudioId, range: DayRange) -> Result<Export, DomainError> {
        let days = self.managed_days(actor, studio, range).await?;
        let details = AuditDetails::ReservationsExport(ExportedRange {
            from: range.from(),
            to: range.to(),
            timezone: days.zone().name().to_owned(),
        });
        self.store.record_audit(AuditEntry::new(actor.user_id, Some(studio), studio.to_string(), &details)).await?;
        Ok(Export { studio, days })
    }

    /// The export's next rows, by session start then id, after the cursor.
    pub async fn export_page(
        &self,
        export: &Export,
        after: Option<ExportCursor>,
        limit: u32,
    ) -> Result<Vec<ExportRow>, DomainError> {
        let days = &export.days;
        self.store.export_page(export.studio, days.starts_at(), days.ends_at(), after, limit).await
    }
}
