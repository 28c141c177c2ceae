//! Where booking codes come from: the operating system's CSPRNG unless a test scripts them.

use std::sync::Arc;

use hothour_domain::ports::BookingCodes;
use hothour_domain::{BookingCode, Cause, DomainError};

/// Booking codes from the operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomBookingCodes;

impl BookingCodes for RandomBookingCodes {
    fn draw_booking_code(&self) -> Result<BookingCode, DomainError> {
        let mut bytes = [0; hothour_domain::booking_code::CODE_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| DomainError::Randomness(Cause::message(e.to_string())))?;
        Ok(BookingCode::from_random(bytes))
    }
}

/// Where a store draws booking codes.
#[derive(Clone)]
pub struct CodeSource(Arc<dyn BookingCodes>);

impl CodeSource {
    pub fn new(codes: Arc<dyn BookingCodes>) -> CodeSource {
        CodeSource(codes)
    }

    pub fn draw(&self) -> Result<BookingCode, DomainError> {
        self.0.draw_booking_code()
    }
}

impl Default for CodeSource {
    fn default() -> Self {
        CodeSource(Arc::new(RandomBookingCodes))
    }
}

impl std::fmt::Debug for CodeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeSource")
    }
}
