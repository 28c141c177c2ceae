//! A studio's numbers and the export of its reservations (SPEC §12 "Studio
//! operations"), over a range of the studio's days: a reservation counts on
//! the day its session starts on the studio's clock.

use actix_web::http::header::CONTENT_DISPOSITION;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use hothour_domain::reports::{DayRange, ExportCursor, ExportRow};
use hothour_domain::services::Export;
use hothour_domain::{DomainError, StudioId, ValidationErrors};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Reply, State, ok};
use crate::AppServices;
use crate::auth::Caller;
use crate::csv_export;
use crate::dto::stats::StudioStatsOut;
use crate::openapi::rules;
use crate::problem::Problem;
use crate::query_date::QueryDate;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(studio_stats).service(export_reservations);
}

/// The reservations an export reads at a time: the file is streamed page by page.
const EXPORT_PAGE: u32 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DayRangeQuery {
    /// The first day, on the studio's clock.
    #[param(inline, required = true)]
    from: Option<QueryDate>,
    /// The last day, included; at most 365 days after `from` (a range covers at most 366 days).
    #[param(inline, required = true)]
    to: Option<QueryDate>,
}

impl DayRangeQuery {
    /// The range asked for; each bad or missing day is a field error.
    fn range(&self) -> Result<DayRange, Problem> {
        let mut errors = ValidationErrors::new();
        let mut day = |field: &str, value: &Option<QueryDate>| match value {
            None => {
                errors.add(field, "is required");
                None
            }
            Some(text) => match text.date(field) {
                Ok(date) => Some(date),
                Err(invalid) => {
                    errors.merge(invalid);
                    None
                }
            },
        };
        let (from, to) = (day("from", &self.from), day("to", &self.to));
        match (from, to) {
            (Some(from), Some(to)) if errors.is_empty() => Ok(DayRange::new(from, to).map_err(DomainError::from)?),
            _ => Err(DomainError::from(errors).into()),
        }
    }
}

/// A studio's numbers over a range of its days: revenue, slots sold and
/// expired unsold, the average sale against the start price, seats sold of
/// the capacity, check-ins and no-shows, for the whole range and for each
/// day (its admins and platform admins; to anyone else the studio is not found).
#[utoipa::path(
    tag = "studios", operation_id = "getStudioStats",
    params(("id" = i64, Path, description = "Studio id"), DayRangeQuery),
    responses((status = 200, description = "The totals, and every day of the range in order (days with nothing included)", body = StudioStatsOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/studios/{id}/stats")]
async fn studio_stats(state: State, caller: Caller, id: web::Path<i64>, query: web::Query<DayRangeQuery>) -> Reply {
    let range = query.range()?;
    let stats = state.services.studio_stats(&caller.actor, StudioId(*id), range).await?;
    ok(&StudioStatsOut::of(*id, &stats))
}

/// The studio's reservations whose session starts in the range, as a CSV
/// file for spreadsheets (its admins and platform admins): RFC 4180, UTF-8
/// with a byte order mark, CRLF line ends, a header row, one row per
/// reservation by session start (every status; `status` is the status now).
/// Times are wall-clock text on the studio's clock (`2026-03-29 18:30:00`,
/// its zone in `time_zone`), amounts as in the API. A cell that would begin
/// with `=`, `+`, `-`, `@`, a tab or a carriage return begins with `'`
/// instead, so no cell runs as a formula. Each export is written to the
/// audit log (`reservations.export`).
#[utoipa::path(
    tag = "studios", operation_id = "exportStudioReservations",
    params(("id" = i64, Path, description = "Studio id"), DayRangeQuery),
    responses(
        (status = 200, description = "The reservations as CSV, with the columns reservation_id, booking_code, status, kind, title, session_starts_at, holder_name, holder_email, quantity, unit_price, total_price, refunded_amount, created_at, confirmed_at, checked_in_at, cancelled_at, time_zone",
            body = String, content_type = "text/csv",
            headers(("Content-Disposition" = String, description = "`attachment`, with a file name naming the studio and the range"))),
    ),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/studios/{id}/reservations.csv")]
async fn export_reservations(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<DayRangeQuery>,
) -> Reply {
    let range = query.range()?;
    let export = state.services.start_export(&caller.actor, StudioId(*id), range).await?;
    // The first page is read before answering, so a store that fails at once is a problem, not a cut file.
    let first = state.services.export_page(&export, None, EXPORT_PAGE).await?;
    let filename = format!("hothour-studio-{}-reservations-{}-{}.csv", *id, range.from(), range.to());
    let pages = Pages { services: state.services.clone(), export, now: state.now(), first: Some(first), after: None };
    Ok(HttpResponse::Ok()
        .content_type(csv_export::CONTENT_TYPE)
        .insert_header((CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .streaming(chunks(pages)))
}

/// Where an export's stream stands.
struct Pages {
    services: AppServices,
    export: Export,
    /// The instant every row's status is read at.
    now: DateTime<Utc>,
    /// The first page, read before the answer began (the header goes with it).
    first: Option<Vec<ExportRow>>,
    /// Where the last page ended; `None` after the last page.
    after: Option<ExportCursor>,
}

/// The file, one chunk per page: the byte order mark and the header with the first.
fn chunks(pages: Pages) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::try_unfold(pages, |mut pages| async move {
        let mut out = String::new();
        let rows = match pages.first.take() {
            Some(rows) => {
                out.push_str(csv_export::BOM);
                csv_export::push_record(&mut out, &csv_export::HEADER);
                rows
            }
            None => match pages.after {
                None => return Ok(None),
                Some(after) => {
                    pages.services.export_page(&pages.export, Some(after), EXPORT_PAGE).await.map_err(|error| {
                        // The answer has begun: all that is left is to cut it short.
                        tracing::error!(%error, "exporting reservations");
                        std::io::Error::other(error.to_string())
                    })?
                }
            },
        };
        let zone = pages.export.days().zone();
        for row in &rows {
            csv_export::push_reservation(&mut out, row, zone, pages.now);
        }
        let full = rows.len() >= EXPORT_PAGE as usize;
        pages.after = rows.last().filter(|_| full).map(|row| (row.session_starts_at, row.reservation.id));
        Ok(Some((Bytes::from(out), pages)))
    })
}
