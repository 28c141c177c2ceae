//! A calendar day in a query (`?date=`, `?from=`, `?to=`): a day on a studio's clock.

use chrono::NaiveDate;
use hothour_domain::ValidationErrors;
use hothour_domain::door::parse_date;
use serde::Deserialize;
use utoipa::PartialSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

/// What a day looks like: `YYYY-MM-DD`, from 1970.
const DATE_PATTERN: &str = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// A day as the query gives it, read with [`QueryDate::date`].
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct QueryDate(String);

impl PartialSchema for QueryDate {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some(DATE_PATTERN))
            .examples(["2026-03-29"])
            .into()
    }
}

impl QueryDate {
    /// The day, if the text is exactly `YYYY-MM-DD` and such a day exists; else an error on `field`.
    pub fn date(&self, field: &str) -> Result<NaiveDate, ValidationErrors> {
        parse_date(field, &self.0)
    }
}
