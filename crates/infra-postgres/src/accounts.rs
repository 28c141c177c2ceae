//! Users and studios.

use hothour_domain::account::{NewStudio, NewUser, Studio, User};
use hothour_domain::ports::AccountStore;
use hothour_domain::{DomainError, UserId};

use crate::rows::{self, STUDIO_COLUMNS, USER_COLUMNS};
use crate::{PgStore, query_one};

impl AccountStore for PgStore {
    async fn create_user(&self, user: NewUser) -> Result<User, DomainError> {
        let sql = format!(
            "INSERT INTO users (email, password_hash, full_name, phone, role) VALUES ($1, $2, $3, $4, $5) \
             RETURNING {USER_COLUMNS}"
        );
        let row = query_one(
            &self.db,
            &sql,
            [
                user.email.into(),
                user.password_hash.into(),
                user.full_name.into(),
                user.phone.into(),
                user.role.as_str().into(),
            ],
        )
        .await?
        .ok_or_else(|| DomainError::Storage("INSERT … RETURNING gave no row".into()))?;
        rows::user(&row)
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, DomainError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        query_one(&self.db, &sql, [id.0.into()]).await?.map(|row| rows::user(&row)).transpose()
    }

    async fn create_studio(&self, studio: NewStudio) -> Result<Studio, DomainError> {
        let sql = format!(
            "INSERT INTO studios (name, address, timezone, maps_url) VALUES ($1, $2, $3, $4) RETURNING {STUDIO_COLUMNS}"
        );
        let row = query_one(
            &self.db,
            &sql,
            [studio.name.into(), studio.address.into(), studio.timezone.into(), studio.maps_url.into()],
        )
        .await?
        .ok_or_else(|| DomainError::Storage("INSERT … RETURNING gave no row".into()))?;
        rows::studio(&row)
    }
}
