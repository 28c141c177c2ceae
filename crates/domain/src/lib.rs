//! HotHour's business rules, free of I/O.
//!
//! Everything here is plain data and functions that take `now` as an argument.
//! Storage, clocks and event delivery are reached only through the traits in
//! [`ports`], which the adapter crates implement; [`services`] holds the use
//! cases written against them.

pub mod account;
pub mod actor;
pub mod alerts;
pub mod auction;
pub mod audit;
pub mod booking_code;
pub mod clock;
pub mod domain_events;
pub mod door;
pub mod error;
pub mod event;
pub mod ids;
pub mod instant;
pub mod mail;
pub mod memory;
pub mod money;
pub mod payments;
pub mod ports;
pub mod reports;
pub mod reservation;
pub mod services;
pub mod unit_of_work;
pub mod validation;
pub mod waitlist;

pub use actor::{Actor, Role};
pub use auction::pricing::{Phase, PriceSchedule, PriceScheduleInput, PriceStep, TurboConfig};
pub use auction::{
    Auction, AuctionDetails, AuctionInput, AuctionPatch, AuctionSnapshot, AuctionStatus, AuctionUnit, AuctionView,
    TurboSnapshot,
};
pub use booking_code::BookingCode;
pub use clock::{Clock, ManualClock, SystemClock};
pub use domain_events::{AuditAction, AuditDetails, AuditEntry, DomainEvent, EventKind, Payload, Room, StoredEvent};
pub use error::{Cause, DomainError};
pub use event::{
    Availability, Event, EventDetails, EventInput, EventPatch, EventSnapshot, EventUnit, HiddenEvents, SeatCounts,
    Visibility,
};
pub use ids::{AlertId, AuctionId, EventId, ReservationId, StudioId, UserId};
pub use money::{Money, MoneyError};
pub use reservation::{
    ConfirmOutcome, EventReservationsUnit, Parent, Reservation, ReservationKind, ReservationSnapshot,
    ReservationStatus, ReservationTarget, ReservationUnit,
};
pub use services::{BatchReport, JobFailure, Services, SweepReport};
pub use unit_of_work::{Effects, Policy};
pub use validation::ValidationErrors;
