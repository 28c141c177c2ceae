//! A studio's reservations as a CSV file for spreadsheets: RFC 4180 (comma,
//! CRLF, a header row, fields with a comma, quote or line break quoted and
//! quotes doubled), UTF-8 with a byte order mark so spreadsheets read it as
//! UTF-8, times as wall-clock text on the studio's clock.
//!
//! A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return
//! gets a leading `'`: spreadsheets would otherwise run it as a formula (a
//! customer named `=HYPERLINK(…)` must stay a name).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hothour_domain::reports::ExportRow;

pub const CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// The byte order mark, first in the file.
pub const BOM: &str = "\u{feff}";

/// The columns, in order.
pub const HEADER: [&str; 17] = [
    "reservation_id",
    "booking_code",
    "status",
    "kind",
    "title",
    "session_starts_at",
    "holder_name",
    "holder_email",
    "quantity",
    "unit_price",
    "total_price",
    "refunded_amount",
    "created_at",
    "confirmed_at",
    "checked_in_at",
    "cancelled_at",
    "time_zone",
];

/// What starts a formula in a spreadsheet.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Appends one field: made inert if it could start a formula, quoted if it must be.
fn push_field(out: &mut String, value: &str) {
    let inert = value.starts_with(FORMULA_STARTS);
    if value.contains([',', '"', '\r', '\n']) {
        out.push('"');
        if inert {
            out.push('\'');
        }
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        if inert {
            out.push('\'');
        }
        out.push_str(value);
    }
}

/// Appends one record and its CRLF.
pub fn push_record<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (n, field) in fields.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_field(out, field.as_ref());
    }
    out.push_str("\r\n");
}

/// An instant as wall-clock text in `zone`: `2026-03-29 09:30:00`.
pub fn local_time(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn opt_local_time(at: Option<DateTime<Utc>>, zone: Tz) -> String {
    at.map(|at| local_time(at, zone)).unwrap_or_default()
}

/// Appends the record of one reservation, its status as it stands at `now`.
pub fn push_reservation(out: &mut String, row: &ExportRow, zone: Tz, now: DateTime<Utc>) {
    let r = &row.reservation;
    push_record(
        out,
        &[
            r.id.0.to_string(),
            r.booking_code.as_ref().map(|code| code.as_str().to_owned()).unwrap_or_default(),
            r.status_at(now).as_str().to_owned(),
            r.target.kind().as_str().to_owned(),
            row.title.clone(),
            local_time(row.session_starts_at, zone),
            row.holder_name.clone(),
            row.holder_email.clone(),
            r.quantity.to_string(),
            r.unit_price.to_string(),
            r.total_price.to_string(),
            r.payment.refunded_amount.to_string(),
            local_time(r.created_at, zone),
            opt_local_time(r.confirmed_at, zone),
            opt_local_time(r.checked_in_at, zone),
            opt_local_time(r.cancelled_at, zone),
            zone.name().to_owned(),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[&str]) -> String {
        let mut out = String::new();
        push_record(&mut out, fields);
        out
    }

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(record(&["a", "b c", ""]), "a,b c,\r\n");
        assert_eq!(
            record(&["Doe, Jane", "say \"hi\"", "two\nlines"]),
            "\"Doe, Jane\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn what_could_start_a_formula_is_made_inert() {
        assert_eq!(record(&["=cmd|' /C calc'!A0"]), "'=cmd|' /C calc'!A0\r\n");
        assert_eq!(record(&["+1", "-1", "@x"]), "'+1,'-1,'@x\r\n");
        assert_eq!(record(&["\tx"]), "'\tx\r\n");
        assert_eq!(record(&["\rx"]), "\"'\rx\"\r\n");
        assert_eq!(record(&["=1,2"]), "\"'=1,2\"\r\n");
        assert_eq!(record(&["a=1", "1-2", "ada@example.com"]), "a=1,1-2,ada@example.com\r\n");
    }

    #[test]
    fn times_are_the_studios_wall_clock() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let at: DateTime<Utc> = "2026-03-29T01:30:00Z".parse().unwrap();
        assert_eq!(local_time(at, berlin), "2026-03-29 03:30:00");
    }
}
