//! Accounts and studios, as far as the rules need them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role};
use crate::ids::{StudioId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub locale: Locale,
}

/// The language a user is written to in (SPEC §14): taken from the browser
/// at registration, changeable in their profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    Tr,
    /// Anyone whose browser asks for neither language.
    #[default]
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Tr, Locale::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Tr => "tr",
            Locale::En => "en",
        }
    }

    pub fn parse(value: &str) -> Option<Locale> {
        Self::ALL.into_iter().find(|locale| locale.as_str() == value)
    }

    /// The language an `Accept-Language` header prefers among ours: the
    /// highest quality first (the earlier of equals), a tag matching by its
    /// primary subtag (`tr-TR` is Turkish); `None` when it names neither.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(Locale, f32)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let Some(locale) = Locale::parse(primary) else { continue };
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((locale, quality));
            }
        }
        best.map(|(locale, _)| locale)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub studio_id: Option<StudioId>,
    pub created_at: DateTime<Utc>,
    /// Moves on each time the user signs out everywhere or changes the
    /// password; access tokens of an earlier generation are refused.
    pub session_generation: i64,
    /// What they are written to in.
    pub locale: Locale,
    /// When they proved they read the mail sent to their address (a
    /// verification link, a password reset or an invitation), if they have.
    pub email_verified_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor { user_id: self.id, role: self.role, studio_id: self.studio_id }
    }
}

/// An account as deleted (SPEC §7): its row stays, for the studio's records
/// of its bookings, with nothing personal left in it; every sign-in of it
/// ended at once (it moved to session generation `session_generation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeletedAccount {
    pub id: UserId,
    pub session_generation: i64,
    pub previous_role: Role,
    pub previous_studio_id: Option<StudioId>,
}

impl DeletedAccount {
    /// The deletion's audit entry, in the studio's log if they ran one:
    /// the user's id and former role, no name or email.
    pub fn audit_entry(&self) -> crate::AuditEntry {
        let details = crate::audit::AuditDetails::AccountDelete(crate::audit::AccountDeleted {
            user_id: self.id,
            previous_role: self.previous_role,
            previous_studio_id: self.previous_studio_id,
        });
        crate::AuditEntry::new(self.id, self.previous_studio_id, self.id.to_string(), &details)
    }

    /// The email a deleted account keeps: unique, reserved by RFC 2606
    /// (`.invalid` is never routable), so the address it had is free again.
    pub fn tombstone_email(id: UserId) -> String {
        format!("deleted-{}@deleted.invalid", id.0)
    }
}

/// What a deleted account's password hash becomes: no bcrypt hash, so no
/// password matches it.
pub const ERASED_PASSWORD_HASH: &str = "!";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStudio {
    pub name: String,
    pub address: String,
    /// IANA time zone, for display only.
    pub timezone: String,
    pub maps_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Studio {
    pub id: StudioId,
    pub name: String,
    pub address: String,
    pub timezone: String,
    pub maps_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

use crate::validation::ValidationErrors;

pub const PASSWORD_MIN_CHARS: usize = 8;
/// bcrypt reads at most 72 bytes; longer passwords would be silently truncated.
pub const PASSWORD_MAX_BYTES: usize = 72;
/// The longest email, in characters.
pub const EMAIL_MAX_CHARS: usize = 254;
pub const FULL_NAME_MAX_CHARS: usize = 200;
pub const STUDIO_NAME_MAX_CHARS: usize = 200;
pub const ADDRESS_MAX_CHARS: usize = 500;
pub const MAPS_URL_MAX_BYTES: usize = 2000;
/// A phone number has this many digits (spaces, `+`, `-` and parentheses aside).
pub const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 7..=15;

/// Trims and lower-cases an email, checking its shape.
pub fn normalize_email(email: &str, errors: &mut ValidationErrors) -> String {
    // The length as sent (what the OpenAPI document's `maxLength` limits).
    let short_enough = email.chars().count() <= EMAIL_MAX_CHARS;
    let email = email.trim().to_lowercase();
    let valid = short_enough
        && !email.chars().any(char::is_whitespace)
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    errors.check(valid, "email", "must be an email address");
    email
}

pub fn check_password(password: &str, field: &str, errors: &mut ValidationErrors) {
    errors.check(password.chars().count() >= PASSWORD_MIN_CHARS, field, "must be at least 8 characters");
    errors.check(password.len() <= PASSWORD_MAX_BYTES, field, "must be at most 72 bytes");
}

fn check_full_name(full_name: &str, errors: &mut ValidationErrors) {
    errors.check(!full_name.trim().is_empty(), "full_name", "must not be blank");
    errors.check(full_name.chars().count() <= FULL_NAME_MAX_CHARS, "full_name", "must be at most 200 characters");
}

fn check_phone(phone: Option<&str>, errors: &mut ValidationErrors) {
    if let Some(phone) = phone {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        errors.check(
            allowed && PHONE_DIGITS.contains(&digits),
            "phone",
            "must be a phone number such as +90 555 123 4567",
        );
    }
}

/// A registration, validated (the password still in clear, to be hashed by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub full_name: String,
    pub phone: Option<String>,
}

impl Registration {
    pub fn new(email: &str, password: &str, full_name: &str, phone: Option<&str>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = normalize_email(email, &mut errors);
        check_password(password, "password", &mut errors);
        check_full_name(full_name, &mut errors);
        let phone = phone.map(str::trim).filter(|p| !p.is_empty());
        check_phone(phone, &mut errors);
        errors.into_result(Registration {
            email,
            password: password.to_owned(),
            full_name: full_name.trim().to_owned(),
            phone: phone.map(str::to_owned),
        })
    }
}

/// Changes to one's own profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChange {
    pub full_name: Option<String>,
    /// `Some(None)` clears the phone.
    pub phone: Option<Option<String>>,
    pub locale: Option<Locale>,
}

impl ProfileChange {
    pub fn new(
        full_name: Option<&str>,
        phone: Option<Option<&str>>,
        locale: Option<Locale>,
    ) -> Result<ProfileChange, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let Some(name) = full_name {
            check_full_name(name, &mut errors);
        }
        let phone = phone.map(|p| p.map(str::trim).filter(|p| !p.is_empty()));
        if let Some(phone) = phone {
            check_phone(phone, &mut errors);
        }
        errors.into_result(ProfileChange {
            full_name: full_name.map(|n| n.trim().to_owned()),
            phone: phone.map(|p| p.map(str::to_owned)),
            locale,
        })
    }
}

impl NewStudio {
    pub fn new(name: &str, address: &str, timezone: &str, maps_url: Option<&str>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.check(!name.trim().is_empty(), "name", "must not be blank");
        errors.check(name.chars().count() <= STUDIO_NAME_MAX_CHARS, "name", "must be at most 200 characters");
        errors.check(address.chars().count() <= ADDRESS_MAX_CHARS, "address", "must be at most 500 characters");
        errors.check(is_time_zone_name(timezone), "timezone", "must be an IANA time zone such as Europe/Istanbul");
        let maps_url = maps_url.map(str::trim).filter(|u| !u.is_empty());
        if let Some(url) = maps_url {
            errors.check(
                (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= MAPS_URL_MAX_BYTES,
                "maps_url",
                "must be an http(s) URL",
            );
        }
        errors.into_result(NewStudio {
            name: name.trim().to_owned(),
            address: address.trim().to_owned(),
            timezone: timezone.to_owned(),
            maps_url: maps_url.map(str::to_owned),
        })
    }
}

/// Changes to a studio: each field given replaces the current one
/// (`maps_url: Some(None)` clears it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudioPatch {
    pub name: Option<String>,
    pub address: Option<String>,
    pub timezone: Option<String>,
    pub maps_url: Option<Option<String>>,
}

impl StudioPatch {
    /// The studio `current` becomes, validated whole.
    pub fn apply(&self, current: &Studio) -> Result<NewStudio, ValidationErrors> {
        NewStudio::new(
            self.name.as_deref().unwrap_or(&current.name),
            self.address.as_deref().unwrap_or(&current.address),
            self.timezone.as_deref().unwrap_or(&current.timezone),
            self.maps_url.as_ref().map_or(current.maps_url.as_deref(), Option::as_deref),
        )
    }
}

/// The email a sign-in looks up (and is rate-limited by): trimmed and
/// lower-cased, but not checked, so a malformed one is just an unknown one.
pub fn login_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether `zone` names a zone of the IANA time zone database
/// (`UTC`, `Europe/Istanbul`, `America/Argentina/Buenos_Aires`).
fn is_time_zone_name(zone: &str) -> bool {
    zone.parse::<chrono_tz::Tz>().is_ok()
}

/// Every time zone name a studio may have (IANA names, links included).
pub fn time_zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|zone| zone.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        let mut errors = ValidationErrors::new();
        assert_eq!(normalize_email("  Ada@Example.COM ", &mut errors), "ada@example.com");
        assert!(errors.is_empty());
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "a@b@example.com"] {
            let mut errors = ValidationErrors::new();
            normalize_email(bad, &mut errors);
            assert!(errors.has("email"), "{bad:?} accepted");
        }
    }

    #[test]
    fn registration_names_each_bad_field() {
        let errors = Registration::new("nope", "short", " ", Some("call me")).unwrap_err();
        for field in ["email", "password", "full_name", "phone"] {
            assert!(errors.has(field), "{field}");
        }
        let ok = Registration::new("A@B.io", "correct horse", " Ada ", Some("")).unwrap();
        assert_eq!((ok.email.as_str(), ok.full_name.as_str(), ok.phone), ("a@b.io", "Ada", None));
    }

    #[test]
    fn the_browser_language_is_read_from_accept_language() {
        assert_eq!(Locale::from_accept_language("tr-TR,tr;q=0.9,en-US;q=0.8,en;q=0.7"), Some(Locale::Tr));
        assert_eq!(Locale::from_accept_language("en-GB,en;q=0.9,tr;q=0.8"), Some(Locale::En));
        assert_eq!(Locale::from_accept_language("de-DE, tr;q=0.5, en;q=0.6"), Some(Locale::En));
        assert_eq!(Locale::from_accept_language("TR"), Some(Locale::Tr));
        assert_eq!(Locale::from_accept_language("tr;q=0, en;q=0.1"), Some(Locale::En));
        for none in ["", "de", "*", "fr-FR;q=1.0", "tr;q=0"] {
            assert_eq!(Locale::from_accept_language(none), None, "{none:?}");
        }
    }

    #[test]
    fn passwords_longer_than_bcrypt_reads_are_refused() {
        let mut errors = ValidationErrors::new();
        check_password(&"x".repeat(73), "password", &mut errors);
        assert!(errors.has("password"));
    }

    #[test]
    fn studios_need_a_name_and_a_zone() {
        assert!(NewStudio::new("Nine", "", "Europe/Istanbul", None).is_ok());
        assert!(NewStudio::new("Nine", "", "UTC", Some("https://maps.example/x")).is_ok());
        let errors = NewStudio::new(" ", "", "not a zone", Some("ftp://x")).unwrap_err();
        for field in ["name", "timezone", "maps_url"] {
            assert!(errors.has(field), "{field}");
        }
        for unknown in ["Mars/Olympus_Mons", "Europe/Atlantis", "europe/istanbul", ""] {
            assert!(NewStudio::new("Nine", "", unknown, None).unwrap_err().has("timezone"), "{unknown:?}");
        }
        assert!(NewStudio::new("Nine", "", "America/Argentina/Buenos_Aires", None).is_ok());
    }

    #[test]
    fn a_studio_patch_keeps_what_it_does_not_name() {
        let current = Studio {
            id: StudioId(1),
            name: "Nine".into(),
            address: "Moda Cd. 9".into(),
            timezone: "Europe/Istanbul".into(),
            maps_url: Some("https://maps.example/9".into()),
            created_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let renamed = StudioPatch { name: Some(" Ten ".into()), ..StudioPatch::default() }.apply(&current).unwrap();
        assert_eq!(
            renamed,
            NewStudio {
                name: "Ten".into(),
                address: "Moda Cd. 9".into(),
                timezone: "Europe/Istanbul".into(),
                maps_url: Some("https://maps.example/9".into()),
            }
        );
        let cleared = StudioPatch { maps_url: Some(None), ..StudioPatch::default() }.apply(&current).unwrap();
        assert_eq!(cleared.maps_url, None);
        let bad = StudioPatch { timezone: Some("Mars/Base".into()), ..StudioPatch::default() };
        assert!(bad.apply(&current).unwrap_err().has("timezone"));
    }
}
