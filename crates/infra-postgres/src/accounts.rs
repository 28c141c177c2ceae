//! Users and studios.

use hothour_domain::account::{NewStudio, NewUser, ProfileChange, Studio, User};
use hothour_domain::ports::AccountStore;
use hothour_domain::{AuditEntry, DomainError, Role, StudioId, UserId};
use sea_orm::Value;

use crate::rows::{self, STUDIO_COLUMNS, USER_COLUMNS};
use crate::{PgStore, execute, finish, query_all, query_one};

fn returned() -> DomainError {
    DomainError::storage_message("INSERT/UPDATE … RETURNING gave no row")
}

impl AccountStore for PgStore {
    async fn create_user(&self, user: NewUser) -> Result<User, DomainError> {
        let sql = format!(
            "INSERT INTO users (email, password_hash, full_name, phone, role) VALUES ($1, $2, $3, $4, $5) \
             RETURNING {USER_COLUMNS}"
        );
        let values: [Value; 5] = [
            user.email.into(),
            user.password_hash.into(),
            user.full_name.into(),
            user.phone.into(),
            user.role.as_str().into(),
        ];
        let row = query_one(&self.db, &sql, values).await?.ok_or_else(returned)?;
        rows::user(&row)
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, DomainError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        query_one(&self.db, &sql, [id.0.into()]).await?.map(|row| rows::user(&row)).transpose()
    }

    async fn find_login(&self, email: &str) -> Result<Option<(User, String)>, DomainError> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(email) = lower($1)");
        let Some(row) = query_one(&self.db, &sql, [email.into()]).await? else {
            return Ok(None);
        };
        let hash: String = row.try_get("", "password_hash").map_err(|e| crate::error::corrupt("user", e))?;
        Ok(Some((rows::user(&row)?, hash)))
    }

    async fn password_hash(&self, id: UserId) -> Result<Option<String>, DomainError> {
        let row = query_one(&self.db, "SELECT password_hash FROM users WHERE id = $1", [id.0.into()]).await?;
        row.map(|row| row.try_get("", "password_hash").map_err(|e| crate::error::corrupt("user", e))).transpose()
    }

    async fn update_profile(&self, id: UserId, change: ProfileChange) -> Result<User, DomainError> {
        let sql = format!(
            "UPDATE users SET full_name = COALESCE($2, full_name), \
             phone = CASE WHEN $3 THEN $4 ELSE phone END, updated_at = now() \
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let values: [Value; 4] =
            [id.0.into(), change.full_name.into(), change.phone.is_some().into(), change.phone.flatten().into()];
        let row = query_one(&self.db, &sql, values).await?.ok_or(DomainError::NotFound("user"))?;
        rows::user(&row)
    }

    async fn change_password(&self, id: UserId, password_hash: String) -> Result<(), DomainError> {
        let txn = self.begin().await?;
        let result = async {
            let changed = execute(
                &txn,
                "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
                [id.0.into(), password_hash.into()],
            )
            .await?;
            if changed == 0 {
                return Err(DomainError::NotFound("user"));
            }
            execute(
                &txn,
                "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
                [id.0.into()],
            )
            .await?;
            Ok(())
        }
        .await;
        finish(txn, result).await
    }

    async fn make_platform_admin(&self, email: &str) -> Result<User, DomainError> {
        let sql = format!(
            "UPDATE users SET role = 'platform_admin', studio_id = NULL, updated_at = now() \
             WHERE lower(email) = lower($1) RETURNING {USER_COLUMNS}"
        );
        let row = query_one(&self.db, &sql, [email.into()]).await?.ok_or(DomainError::NotFound("user"))?;
        rows::user(&row)
    }

    async fn create_studio(&self, studio: NewStudio) -> Result<Studio, DomainError> {
        let sql = format!(
            "INSERT INTO studios (name, address, timezone, maps_url) VALUES ($1, $2, $3, $4) RETURNING {STUDIO_COLUMNS}"
        );
        let values: [Value; 4] =
            [studio.name.into(), studio.address.into(), studio.timezone.into(), studio.maps_url.into()];
        let row = query_one(&self.db, &sql, values).await?.ok_or_else(returned)?;
        rows::studio(&row)
    }

    async fn find_studio(&self, id: StudioId) -> Result<Option<Studio>, DomainError> {
        let sql = format!("SELECT {STUDIO_COLUMNS} FROM studios WHERE id = $1");
        query_one(&self.db, &sql, [id.0.into()]).await?.map(|row| rows::studio(&row)).transpose()
    }

    async fn list_studios(&self, limit: u32, after: Option<StudioId>) -> Result<Vec<Studio>, DomainError> {
        let sql = format!("SELECT {STUDIO_COLUMNS} FROM studios WHERE id > $1 ORDER BY id LIMIT $2");
        let values: [Value; 2] = [after.map_or(0, |s| s.0).into(), i64::from(limit).into()];
        query_all(&self.db, &sql, values).await?.iter().map(rows::studio).collect()
    }

    async fn update_studio<F>(&self, id: StudioId, change: F) -> Result<Studio, DomainError>
    where
        F: FnOnce(&Studio) -> Result<NewStudio, DomainError> + Send,
    {
        let txn = self.begin().await?;
        let result = async {
            let sql = format!("SELECT {STUDIO_COLUMNS} FROM studios WHERE id = $1 FOR UPDATE");
            let row = query_one(&txn, &sql, [id.0.into()]).await?.ok_or(DomainError::NotFound("studio"))?;
            let studio = change(&rows::studio(&row)?)?;
            let sql = format!(
                "UPDATE studios SET name = $2, address = $3, timezone = $4, maps_url = $5, updated_at = now() \
                 WHERE id = $1 RETURNING {STUDIO_COLUMNS}"
            );
            let values: [Value; 5] = [
                id.0.into(),
                studio.name.into(),
                studio.address.into(),
                studio.timezone.into(),
                studio.maps_url.into(),
            ];
            let row = query_one(&txn, &sql, values).await?.ok_or_else(returned)?;
            rows::studio(&row)
        }
        .await;
        finish(txn, result).await
    }

    async fn record_audit(&self, entry: AuditEntry) -> Result<(), DomainError> {
        let values: [Value; 5] = [
            entry.actor.0.into(),
            entry.studio_id.map(|s| s.0).into(),
            entry.action.into(),
            entry.target.into(),
            entry.details.into(),
        ];
        execute(
            &self.db,
            "INSERT INTO audit_log (actor_id, studio_id, action, target, details) VALUES ($1, $2, $3, $4, $5)",
            values,
        )
        .await
        .map(|_| ())
    }

    async fn assign_studio_admin(&self, studio: StudioId, email: &str) -> Result<User, DomainError> {
        let txn = self.begin().await?;
        let result = async {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1) FOR UPDATE");
            let user = query_one(&txn, &sql, [email.into()]).await?.ok_or(DomainError::NotFound("user"))?;
            let user = rows::user(&user)?;
            match (user.role, user.studio_id) {
                (Role::StudioAdmin, Some(current)) if current == studio => return Ok(user),
                (Role::StudioAdmin, _) => return Err(DomainError::AlreadyAdministers),
                (Role::PlatformAdmin, _) => {
                    return Err(DomainError::validation("email", "belongs to a platform admin"));
                }
                (Role::User, _) => {}
            }
            let sql = format!(
                "UPDATE users SET role = 'studio_admin', studio_id = $2, updated_at = now() WHERE id = $1 \
                 RETURNING {USER_COLUMNS}"
            );
            let row = query_one(&txn, &sql, [user.id.0.into(), studio.0.into()]).await?.ok_or_else(returned)?;
            rows::user(&row)
        }
        .await;
        finish(txn, result).await
    }
}
