//! A booking as an iCalendar entry (RFC 5545): one VEVENT, times in UTC,
//! lines ended by CRLF and folded at 75 octets, text escaped.

use chrono::{DateTime, Utc};

use crate::dto::{ReservationOut, ReservationStatus};

/// The media type of the answer.
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// The longest content line in octets, without its CRLF (RFC 5545 §3.1).
const LINE_OCTETS: usize = 75;

/// The calendar file of one reservation, stamped `now`.
pub fn reservation_ics(reservation: &ReservationOut, now: DateTime<Utc>) -> String {
    let target = &reservation.target;
    let studio = &target.studio;
    let location = if studio.address.trim().is_empty() {
        studio.name.clone()
    } else {
        format!("{}, {}", studio.name, studio.address)
    };
    // A hold is not a booking yet; a cancelled or lapsed one is off.
    let status = match reservation.status {
        ReservationStatus::Hold => "TENTATIVE",
        ReservationStatus::Expired | ReservationStatus::Cancelled => "CANCELLED",
        ReservationStatus::Confirmed | ReservationStatus::CheckedIn | ReservationStatus::NoShow => "CONFIRMED",
    };
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//HotHour//Tickets//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:reservation-{}@hothour", reservation.id),
        format!("DTSTAMP:{}", utc(now)),
        format!("DTSTART:{}", utc(target.starts_at)),
        format!("DTEND:{}", utc(target.ends_at)),
        format!("SUMMARY:{}", text(&target.title)),
        format!("LOCATION:{}", text(&location)),
    ];
    if let Some(code) = &reservation.booking_code {
        lines.push(format!("DESCRIPTION:{}", text(&format!("Booking code: {code}"))));
    }
    lines.push(format!("STATUS:{status}"));
    lines.extend(["END:VEVENT".to_owned(), "END:VCALENDAR".to_owned()]);
    lines.iter().map(|line| fold(line)).collect()
}

/// An instant in UTC, as `19970714T173000Z`.
fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value escaped (RFC 5545 §3.3.11): backslashes, semicolons,
/// commas and newlines.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // Other control characters are not allowed in TEXT.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets (never inside a UTF-8 character),
/// each continuation starting with a space, every line ended by CRLF.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / LINE_OCTETS * 3 + 2);
    let mut octets = 0;
    for c in line.chars() {
        // A continuation line's leading space counts against its 75.
        if octets + c.len_utf8() > LINE_OCTETS {
            out.push_str("\r\n ");
            octets = 1;
        }
        out.push(c);
        octets += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("a\\b;c,d\ne\r\nf"), "a\\\\b\\;c\\,d\\ne\\nf");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let line = format!("SUMMARY:{}", "ş".repeat(60));
        let folded = fold(&line);
        assert!(folded.ends_with("\r\n"));
        let parts: Vec<&str> = folded.trim_end_matches("\r\n").split("\r\n").collect();
        assert!(parts.len() > 1);
        for part in &parts {
            assert!(part.len() <= LINE_OCTETS, "{} octets: {part}", part.len());
        }
        assert!(parts[1..].iter().all(|p| p.starts_with(' ')));
        let unfolded: String = parts.iter().enumerate().map(|(i, p)| if i == 0 { *p } else { &p[1..] }).collect();
        assert_eq!(unfolded, line);
        assert_eq!(fold("SHORT:x"), "SHORT:x\r\n");
    }
}
