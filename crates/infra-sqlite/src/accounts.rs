//! Users and studios.

use hothour_domain::account::{NewStudio, NewUser, ProfileChange, Studio, User};
use hothour_domain::ports::AccountStore;
use hothour_domain::{AuditEntry, DomainError, Role, StudioId, UserId};
use sea_orm::{ConnectionTrait, Value};

use crate::error::map_db_err_referencing;
use crate::rows::{self, STUDIO_COLUMNS, USER_COLUMNS};
use crate::values::{json, now};
use crate::{SqliteStore, execute, query_all, query_one, stmt};

fn returned() -> DomainError {
    DomainError::storage_message("INSERT/UPDATE … RETURNING gave no row")
}

impl AccountStore for SqliteStore {
    async fn create_user(&self, user: NewUser) -> Result<User, DomainError> {
        let sql = format!(
            "INSERT INTO users (email, password_hash, full_name, phone, role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {USER_COLUMNS}"
        );
        let values: [Value; 6] = [
            user.email.into(),
            user.password_hash.into(),
            user.full_name.into(),
            user.phone.into(),
            user.role.as_str().into(),
            now(),
        ];
        let write = self.begin_write().await?;
        let result = async { rows::user(&query_one(write.conn(), &sql, values).await?.ok_or_else(returned)?) }.await;
        write.finish(result).await
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
        let hash = rows::string_column(&row, "password_hash")?;
        Ok(Some((rows::user(&row)?, hash)))
    }

    async fn password_hash(&self, id: UserId) -> Result<Option<String>, DomainError> {
        let row = query_one(&self.db, "SELECT password_hash FROM users WHERE id = $1", [id.0.into()]).await?;
        row.map(|row| rows::string_column(&row, "password_hash")).transpose()
    }

    async fn update_profile(&self, id: UserId, change: ProfileChange) -> Result<User, DomainError> {
        let sql = format!(
            "UPDATE users SET full_name = COALESCE($2, full_name), \
             phone = CASE WHEN $3 THEN $4 ELSE phone END, updated_at = $5 \
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let values: [Value; 5] =
            [id.0.into(), change.full_name.into(), change.phone.is_some().into(), change.phone.flatten().into(), now()];
        let write = self.begin_write().await?;
        let result = async {
            let row = query_one(write.conn(), &sql, values).await?.ok_or(DomainError::NotFound("user"))?;
            rows::user(&row)
        }
        .await;
        write.finish(result).await
    }

    async fn change_password(&self, id: UserId, password_hash: String) -> Result<(), DomainError> {
        let write = self.begin_write().await?;
        let result = async {
            let changed = execute(
                write.conn(),
                "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
                [id.0.into(), password_hash.into(), now()],
            )
            .await?;
            if changed == 0 {
                return Err(DomainError::NotFound("user"));
            }
            execute(
                write.conn(),
                "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                [id.0.into(), now()],
            )
            .await?;
            Ok(())
        }
        .await;
        write.finish(result).await
    }

    async fn make_platform_admin(&self, email: &str) -> Result<User, DomainError> {
        let sql = format!(
            "UPDATE users SET role = 'platform_admin', studio_id = NULL, updated_at = $2 \
             WHERE lower(email) = lower($1) RETURNING {USER_COLUMNS}"
        );
        let write = self.begin_write().await?;
        let result = async {
            let row =
                query_one(write.conn(), &sql, [email.into(), now()]).await?.ok_or(DomainError::NotFound("user"))?;
            rows::user(&row)
        }
        .await;
        write.finish(result).await
    }

    async fn create_studio(&self, studio: NewStudio) -> Result<Studio, DomainError> {
        let sql = format!(
            "INSERT INTO studios (name, address, timezone, maps_url, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {STUDIO_COLUMNS}"
        );
        let values: [Value; 5] =
            [studio.name.into(), studio.address.into(), studio.timezone.into(), studio.maps_url.into(), now()];
        let write = self.begin_write().await?;
        let result = async { rows::studio(&query_one(write.conn(), &sql, values).await?.ok_or_else(returned)?) }.await;
        write.finish(result).await
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
        let write = self.begin_write().await?;
        let result = async {
            // Read under the write lock: nothing changes the studio until the commit.
            let sql = format!("SELECT {STUDIO_COLUMNS} FROM studios WHERE id = $1");
            let row = query_one(write.conn(), &sql, [id.0.into()]).await?.ok_or(DomainError::NotFound("studio"))?;
            let studio = change(&rows::studio(&row)?)?;
            let sql = format!(
                "UPDATE studios SET name = $2, address = $3, timezone = $4, maps_url = $5, updated_at = $6 \
                 WHERE id = $1 RETURNING {STUDIO_COLUMNS}"
            );
            let values: [Value; 6] = [
                id.0.into(),
                studio.name.into(),
                studio.address.into(),
                studio.timezone.into(),
                studio.maps_url.into(),
                now(),
            ];
            let row = query_one(write.conn(), &sql, values).await?.ok_or_else(returned)?;
            rows::studio(&row)
        }
        .await;
        write.finish(result).await
    }

    async fn record_audit(&self, entry: AuditEntry) -> Result<(), DomainError> {
        let write = self.begin_write().await?;
        let result = async {
            // SQLite does not say which foreign key failed. PostgreSQL's
            // answer for a missing studio is `NotFound("studio")` (and a
            // storage failure for a missing actor), so the studio is checked
            // first; under the write lock nothing can change in between.
            if let Some(studio) = entry.studio_id {
                let exists =
                    query_one(write.conn(), "SELECT 1 AS present FROM studios WHERE id = $1", [studio.0.into()])
                        .await?
                        .is_some();
                if !exists {
                    return Err(DomainError::NotFound("studio"));
                }
            }
            let values: [Value; 6] = [
                entry.actor.0.into(),
                entry.studio_id.map(|s| s.0).into(),
                entry.action.into(),
                entry.target.into(),
                json(&entry.details),
                now(),
            ];
            execute(
                write.conn(),
                "INSERT INTO audit_log (actor_id, studio_id, action, target, details, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                values,
            )
            .await
            .map(|_| ())
        }
        .await;
        write.finish(result).await
    }

    async fn assign_studio_admin(&self, studio: StudioId, email: &str) -> Result<User, DomainError> {
        let write = self.begin_write().await?;
        let result = async {
            // The write lock stands in for PostgreSQL's `FOR UPDATE` on the user row.
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1)");
            let user = query_one(write.conn(), &sql, [email.into()]).await?.ok_or(DomainError::NotFound("user"))?;
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
                "UPDATE users SET role = 'studio_admin', studio_id = $2, updated_at = $3 WHERE id = $1 \
                 RETURNING {USER_COLUMNS}"
            );
            let row = write
                .conn()
                .query_one_raw(stmt(&sql, [user.id.0.into(), studio.0.into(), now()]))
                .await
                .map_err(|e| map_db_err_referencing(e, "studio"))?
                .ok_or_else(returned)?;
            rows::user(&row)
        }
        .await;
        write.finish(result).await
    }
}
