//! Money and times as the web client shows them (`Intl` in `tr-TR` and
//! `en-GB`): `₺1.500,00` and `₺1,500.00`; `3 Haziran 2026 Çarşamba 19:00`
//! and `Wednesday 3 June 2026, 19:00`, on the studio's clock.

use chrono::{DateTime, Datelike, Timelike, Utc};
use hothour_domain::Money;
use hothour_domain::account::Locale;

/// The narrow symbol of a currency, as `Intl` shows it; the code otherwise.
fn symbol(currency: &str) -> Option<&'static str> {
    Some(match currency {
        "TRY" => "₺",
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        _ => return None,
    })
}

/// An amount with its currency, grouped and with the decimal mark of `locale`.
pub fn money(amount: Money, currency: &str, locale: Locale) -> String {
    let (group, decimal) = match locale {
        Locale::Tr => ('.', ','),
        Locale::En => (',', '.'),
    };
    let cents = amount.minor_units();
    let (whole, fraction) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(digit);
    }
    let number = format!("{grouped}{decimal}{fraction:02}");
    match symbol(currency) {
        Some(symbol) => format!("{symbol}{number}"),
        None => format!("{currency}\u{a0}{number}"),
    }
}

const TR_MONTHS: [&str; 12] =
    ["Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"];
const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const TR_DAYS: [&str; 7] = ["Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma", "Cumartesi", "Pazar"];
const EN_DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// The studio's zone, or UTC when it is not one (a stored zone is always valid).
fn zone_of(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// The day and time of `at` on a clock in `zone`.
pub fn day_and_time(at: DateTime<Utc>, zone: &str, locale: Locale) -> String {
    let local = at.with_timezone(&zone_of(zone));
    let (day, month) = (local.weekday().num_days_from_monday() as usize, local.month0() as usize);
    let time = format!("{:02}:{:02}", local.hour(), local.minute());
    match locale {
        Locale::Tr => format!("{} {} {} {} {time}", local.day(), TR_MONTHS[month], local.year(), TR_DAYS[day]),
        Locale::En => format!("{} {} {} {}, {time}", EN_DAYS[day], local.day(), EN_MONTHS[month], local.year()),
    }
}

/// The time of `at` on a clock in `zone`, and the date too when it is not
/// the day of `since` (a session ending after midnight).
pub fn time_after(at: DateTime<Utc>, since: DateTime<Utc>, zone: &str, locale: Locale) -> String {
    let tz = zone_of(zone);
    let (local, start) = (at.with_timezone(&tz), since.with_timezone(&tz));
    if local.date_naive() == start.date_naive() {
        format!("{:02}:{:02}", local.hour(), local.minute())
    } else {
        day_and_time(at, zone, locale)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn m(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    #[test]
    fn money_reads_as_the_web_client_shows_it() {
        assert_eq!(money(m("1500.00"), "TRY", Locale::Tr), "₺1.500,00");
        assert_eq!(money(m("1500.00"), "TRY", Locale::En), "₺1,500.00");
        assert_eq!(money(m("149.90"), "TRY", Locale::Tr), "₺149,90");
        assert_eq!(money(m("1234567.05"), "EUR", Locale::En), "€1,234,567.05");
        assert_eq!(money(m("0.00"), "TRY", Locale::Tr), "₺0,00");
        assert_eq!(money(m("12.00"), "CHF", Locale::En), "CHF\u{a0}12.00");
    }

    #[test]
    fn times_are_on_the_studio_clock_in_the_reader_language() {
        let at = Utc.with_ymd_and_hms(2026, 6, 3, 16, 0, 0).unwrap();
        assert_eq!(day_and_time(at, "Europe/Istanbul", Locale::Tr), "3 Haziran 2026 Çarşamba 19:00");
        assert_eq!(day_and_time(at, "Europe/Istanbul", Locale::En), "Wednesday 3 June 2026, 19:00");
        assert_eq!(day_and_time(at, "UTC", Locale::En), "Wednesday 3 June 2026, 16:00");
        let end = at + chrono::Duration::minutes(90);
        assert_eq!(time_after(end, at, "Europe/Istanbul", Locale::Tr), "20:30");
        let late = at + chrono::Duration::hours(6);
        assert_eq!(time_after(late, at, "Europe/Istanbul", Locale::En), "Thursday 4 June 2026, 01:00");
    }
}
