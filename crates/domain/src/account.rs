//! Accounts and studios, as far as the rules need them.

use chrono::{DateTime, Utc};

use crate::actor::{Actor, Role};
use crate::ids::{StudioId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub role: Role,
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
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor { user_id: self.id, role: self.role, studio_id: self.studio_id }
    }
}

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
