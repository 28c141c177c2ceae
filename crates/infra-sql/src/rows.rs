//! Rows to domain types. Column lists live next to their parsers so a query
//! and the code reading it cannot drift apart; the dialect reads the columns
//! whose storage differs (money, instants, JSON, small integers).

use chrono::{DateTime, Duration, Utc};
use hothour_domain::account::{Locale, Studio, User};
use hothour_domain::payments::IntentId;
use hothour_domain::ports::{AuditRecord, EventRecord, SessionSummary};
use hothour_domain::reservation::{Payment, PaymentStatus};
use hothour_domain::{
    Auction, AuctionDetails, AuctionId, AuctionStatus, BookingCode, DomainError, Event, EventDetails, EventId, Money,
    PriceSchedule, PriceScheduleInput, Reservation, ReservationId, ReservationStatus, ReservationTarget, Role,
    SeatCounts, StoredEvent, StudioId, TurboConfig, UserId,
};
use sea_orm::{QueryResult, TryGetable};

use crate::SqlStore;
use crate::dialect::Dialect;

/// A stored value the domain cannot accept (a bug or a hand-edited row).
pub fn corrupt(what: &str, detail: impl std::fmt::Display) -> DomainError {
    DomainError::storage_message(format!("corrupt {what} row: {detail}"))
}

/// One row, read through its database's dialect.
pub(crate) struct Reader<'a> {
    d: &'a dyn Dialect,
    row: &'a QueryResult,
}

impl SqlStore {
    pub(crate) fn read<'a>(&'a self, row: &'a QueryResult) -> Reader<'a> {
        Reader { d: self.d(), row }
    }
}

fn required<T>(column: &str, value: Option<T>) -> Result<T, DomainError> {
    value.ok_or_else(|| corrupt(column, "is NULL"))
}

impl Reader<'_> {
    fn get<T: TryGetable>(&self, column: &str) -> Result<T, DomainError> {
        self.row.try_get::<T>("", column).map_err(|e| corrupt(column, e))
    }

    pub(crate) fn i64(&self, column: &str) -> Result<i64, DomainError> {
        self.get(column)
    }

    pub(crate) fn opt_i64(&self, column: &str) -> Result<Option<i64>, DomainError> {
        self.get(column)
    }

    pub(crate) fn string(&self, column: &str) -> Result<String, DomainError> {
        self.get(column)
    }

    pub(crate) fn bool(&self, column: &str) -> Result<bool, DomainError> {
        self.get(column)
    }

    pub(crate) fn bytes(&self, column: &str) -> Result<Option<Vec<u8>>, DomainError> {
        self.get(column)
    }

    pub(crate) fn opt_int(&self, column: &str) -> Result<Option<i64>, DomainError> {
        self.d.read_int(self.row, column)
    }

    pub(crate) fn count(&self, column: &str) -> Result<u32, DomainError> {
        let n = required(column, self.opt_int(column)?)?;
        u32::try_from(n).map_err(|e| corrupt(column, e))
    }

    pub(crate) fn money(&self, column: &str) -> Result<Money, DomainError> {
        required(column, self.d.read_money(self.row, column)?)
    }

    pub(crate) fn time(&self, column: &str) -> Result<DateTime<Utc>, DomainError> {
        required(column, self.d.read_time(self.row, column)?)
    }

    pub(crate) fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, DomainError> {
        self.d.read_time(self.row, column)
    }

    /// A stored number of seconds as a duration.
    fn seconds(&self, column: &str) -> Result<Option<Duration>, DomainError> {
        self.opt_i64(column)?
            .map(|s| Duration::try_seconds(s).ok_or_else(|| corrupt(column, format!("{s} seconds is out of range"))))
            .transpose()
    }

    pub(crate) fn auction(&self) -> Result<Auction, DomainError> {
        let turbo = match (
            self.seconds("turbo_trigger_before_seconds")?,
            self.d.read_money(self.row, "turbo_drop_amount")?,
            self.seconds("turbo_interval_seconds")?,
        ) {
            (Some(trigger_before), Some(drop_amount), Some(interval)) => {
                Some(TurboConfig { trigger_before, drop_amount, interval })
            }
            _ => None,
        };
        // Stored values are trusted: the rules were checked when they were accepted.
        let schedule = PriceSchedule::from_stored(PriceScheduleInput {
            start_price: self.money("start_price")?,
            floor_price: self.money("floor_price")?,
            drop_amount: self.money("drop_amount")?,
            drop_interval: required("drop_interval_seconds", self.seconds("drop_interval_seconds")?)?,
            starts_at: self.time("starts_at")?,
            ends_at: self.time("ends_at")?,
            turbo,
        });
        let status: String = self.get("status")?;
        Ok(Auction {
            id: AuctionId(self.get("id")?),
            studio_id: StudioId(self.get("studio_id")?),
            details: AuctionDetails {
                title: self.get("title")?,
                description: self.get("description")?,
                schedule,
                scheduled_at: self.time("scheduled_at")?,
                session_minutes: self.get("session_minutes")?,
            },
            stored_status: AuctionStatus::parse(&status).ok_or_else(|| corrupt("auction", status))?,
            turbo_started_at: self.opt_time("turbo_started_at")?,
            turbo_announced: self.get("turbo_announced")?,
            cancelled_at: self.opt_time("cancelled_at")?,
            // A deleted auction's row is gone.
            deleted_at: None,
            created_at: self.time("created_at")?,
        })
    }

    /// A row of `id, studio_id, title, scheduled_at, session_minutes` from `auctions`.
    pub(crate) fn auction_session(&self) -> Result<SessionSummary, DomainError> {
        let starts_at = self.time("scheduled_at")?;
        Ok(SessionSummary {
            target: ReservationTarget::Auction(AuctionId(self.get("id")?)),
            studio_id: StudioId(self.get("studio_id")?),
            title: self.get("title")?,
            starts_at,
            ends_at: starts_at + Duration::minutes(self.get("session_minutes")?),
        })
    }

    /// A row of `id, studio_id, title, starts_at, ends_at` from `events`.
    pub(crate) fn event_session(&self) -> Result<SessionSummary, DomainError> {
        Ok(SessionSummary {
            target: ReservationTarget::Event(EventId(self.get("id")?)),
            studio_id: StudioId(self.get("studio_id")?),
            title: self.get("title")?,
            starts_at: self.time("starts_at")?,
            ends_at: self.time("ends_at")?,
        })
    }

    pub(crate) fn event(&self) -> Result<Event, DomainError> {
        Ok(Event {
            id: EventId(self.get("id")?),
            studio_id: StudioId(self.get("studio_id")?),
            details: EventDetails {
                title: self.get("title")?,
                description: self.get("description")?,
                capacity: self.count("capacity")?,
                price: self.money("price")?,
                starts_at: self.time("starts_at")?,
                ends_at: self.time("ends_at")?,
                is_active: self.get("is_active")?,
            },
            seats: SeatCounts {
                held_seats: self.count("held_seats")?,
                held_count: self.count("held_count")?,
                confirmed_seats: self.count("confirmed_seats")?,
                confirmed_count: self.count("confirmed_count")?,
            },
            deleted_at: self.opt_time("deleted_at")?,
            cancelled_at: self.opt_time("cancelled_at")?,
            created_at: self.time("created_at")?,
        })
    }

    /// An event row with its `lapsed_seats` and `lapsed_count` columns.
    pub(crate) fn event_record(&self) -> Result<EventRecord, DomainError> {
        let event = self.event()?;
        let lapsed = |column: &str| -> Result<u32, DomainError> {
            let n = self.opt_int(column)?.unwrap_or(0);
            Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
        };
        let availability = event.availability(lapsed("lapsed_seats")?, lapsed("lapsed_count")?);
        Ok(EventRecord { event, availability, next_lapse_at: self.opt_time("next_lapse_at")? })
    }

    pub(crate) fn reservation(&self) -> Result<Reservation, DomainError> {
        let status: String = self.get("status")?;
        Ok(Reservation {
            id: ReservationId(self.get("id")?),
            user_id: UserId(self.get("user_id")?),
            studio_id: StudioId(self.get("studio_id")?),
            target: self.target()?,
            status: ReservationStatus::parse(&status).ok_or_else(|| corrupt("reservation", status))?,
            quantity: self.count("quantity")?,
            unit_price: self.money("unit_price")?,
            total_price: self.money("total_price")?,
            expires_at: self.time("expires_at")?,
            booking_code: self.get::<Option<String>>("booking_code")?.map(BookingCode::from_stored),
            created_at: self.time("created_at")?,
            confirmed_at: self.opt_time("confirmed_at")?,
            checked_in_at: self.opt_time("checked_in_at")?,
            cancelled_at: self.opt_time("cancelled_at")?,
            payment: self.payment()?,
        })
    }

    fn payment(&self) -> Result<Payment, DomainError> {
        let status: String = self.get("payment_status")?;
        Ok(Payment {
            status: PaymentStatus::parse(&status).ok_or_else(|| corrupt("payment", status))?,
            intent: self.get::<Option<String>>("payment_intent")?.map(IntentId),
            amount: self.money("paid_amount")?,
            refunded_amount: self.money("refunded_amount")?,
            refund_attempts: self.count("refund_attempts")?,
            next_refund_at: self.opt_time("next_refund_at")?,
        })
    }

    /// The parent named by a row's `auction_id` and `event_id` columns.
    pub(crate) fn target(&self) -> Result<ReservationTarget, DomainError> {
        match (self.opt_i64("auction_id")?, self.opt_i64("event_id")?) {
            (Some(auction), None) => Ok(ReservationTarget::Auction(AuctionId(auction))),
            (None, Some(event)) => Ok(ReservationTarget::Event(EventId(event))),
            _ => Err(corrupt("reservation", "neither or both of auction_id and event_id")),
        }
    }

    pub(crate) fn user(&self) -> Result<User, DomainError> {
        let role: String = self.get("role")?;
        Ok(User {
            id: UserId(self.get("id")?),
            email: self.get("email")?,
            full_name: self.get("full_name")?,
            phone: self.get("phone")?,
            role: Role::parse(&role).ok_or_else(|| corrupt("user", role))?,
            studio_id: self.opt_i64("studio_id")?.map(StudioId),
            created_at: self.time("created_at")?,
            session_generation: self.get("session_generation")?,
            locale: {
                let locale: String = self.get("locale")?;
                Locale::parse(&locale).ok_or_else(|| corrupt("user", locale))?
            },
            email_verified_at: self.opt_time("email_verified_at")?,
        })
    }

    pub(crate) fn studio(&self) -> Result<Studio, DomainError> {
        Ok(Studio {
            id: StudioId(self.get("id")?),
            name: self.get("name")?,
            address: self.get("address")?,
            timezone: self.get("timezone")?,
            maps_url: self.get("maps_url")?,
            created_at: self.time("created_at")?,
        })
    }

    pub(crate) fn audit(&self) -> Result<AuditRecord, DomainError> {
        Ok(AuditRecord {
            id: self.get("id")?,
            actor_id: self.opt_i64("actor_id")?.map(UserId),
            studio_id: self.opt_i64("studio_id")?.map(StudioId),
            action: self.get("action")?,
            target: self.get("target")?,
            details: self.d.read_json(self.row, "details")?,
            created_at: self.time("created_at")?,
        })
    }

    /// An outbox row as a stored event: its id is the sequence number.
    pub(crate) fn json(&self, column: &str) -> Result<serde_json::Value, DomainError> {
        self.d.read_json(self.row, column)
    }

    pub(crate) fn stored_event(&self) -> Result<StoredEvent, DomainError> {
        Ok(StoredEvent {
            seq: self.get("id")?,
            room: self.get("room")?,
            kind: self.get("kind")?,
            data: self.d.read_json(self.row, "payload")?,
            at: self.time("created_at")?,
        })
    }
}

pub(crate) const AUCTION_COLUMNS: &str = "id, studio_id, title, description, start_price, floor_price, drop_amount, \
     drop_interval_seconds, starts_at, ends_at, scheduled_at, turbo_trigger_before_seconds, turbo_drop_amount, \
     turbo_interval_seconds, session_minutes, turbo_started_at, turbo_announced, status, cancelled_at, created_at";

pub(crate) const EVENT_COLUMNS: &str = "id, studio_id, title, description, capacity, price, starts_at, ends_at, \
     is_active, held_seats, held_count, confirmed_seats, confirmed_count, deleted_at, cancelled_at, created_at";

pub(crate) const RESERVATION_COLUMNS: &str = "id, auction_id, event_id, user_id, studio_id, status, quantity, \
     unit_price, total_price, expires_at, booking_code, created_at, confirmed_at, checked_in_at, cancelled_at, \
     payment_intent, payment_status, paid_amount, refunded_amount, refund_attempts, next_refund_at";

pub(crate) const USER_COLUMNS: &str =
    "id, email, full_name, phone, role, studio_id, created_at, session_generation, locale, email_verified_at";

pub(crate) const STUDIO_COLUMNS: &str = "id, name, address, timezone, maps_url, created_at";

pub(crate) const OUTBOX_COLUMNS: &str = "id, room, kind, payload, created_at";

pub(crate) const AUDIT_COLUMNS: &str = "id, actor_id, studio_id, action, target, details, created_at";
