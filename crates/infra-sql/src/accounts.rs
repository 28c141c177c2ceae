//! Users and studios.

use chrono::{DateTime, Utc};
use hothour_domain::account::{DeletedAccount, ERASED_PASSWORD_HASH, NewStudio, NewUser, ProfileChange, Studio, User};
use hothour_domain::ports::AccountStore;
use hothour_domain::{AuditEntry, DomainError, Role, StudioId, UserId};
use sea_orm::{ConnectionTrait, Value};

use crate::SqlStore;
use crate::dialect::{LockMode, RowLock};
use crate::rows::{STUDIO_COLUMNS, USER_COLUMNS};
use crate::sql::placeholders;

/// The accounts not deleted: a deleted one keeps its row for its bookings,
/// but is no one to sign in, look up or write to.
pub(crate) const LIVE: &str = "deleted_at IS NULL";

pub(crate) fn returned() -> DomainError {
    DomainError::storage_message("INSERT/UPDATE … RETURNING gave no row")
}

impl SqlStore {
    /// The wall-clock time for bookkeeping columns (`updated_at`, `revoked_at`, …).
    pub(crate) fn wall_clock(&self) -> Value {
        self.d().time(Utc::now())
    }
}

impl SqlStore {
    /// Writes an audit entry within the caller's transaction.
    async fn insert_audit(&self, conn: &impl ConnectionTrait, entry: AuditEntry) -> Result<(), DomainError> {
        let values: [Value; 6] = [
            entry.actor.0.into(),
            entry.studio_id.map(|s| s.0).into(),
            entry.action.as_str().into(),
            entry.target.into(),
            self.d().json(&entry.details),
            self.wall_clock(),
        ];
        let sql = "INSERT INTO audit_log (actor_id, studio_id, action, target, details, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6)";
        self.exec(conn, sql, values).await.map(|_| ())
    }

    /// Inserts a user within the caller's transaction; a taken email is `EmailTaken`.
    pub(crate) async fn insert_user(&self, conn: &impl ConnectionTrait, user: NewUser) -> Result<User, DomainError> {
        let sql = format!(
            "INSERT INTO users (email, password_hash, full_name, phone, role, created_at, updated_at, locale) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING {USER_COLUMNS}"
        );
        let values: [Value; 7] = [
            user.email.into(),
            user.password_hash.into(),
            user.full_name.into(),
            user.phone.into(),
            user.role.as_str().into(),
            self.wall_clock(),
            user.locale.as_str().into(),
        ];
        let row = self.one(conn, &sql, values).await?.ok_or_else(returned)?;
        self.read(&row).user()
    }

    /// Makes `user` (read under its row lock) an admin of `studio` within the
    /// caller's transaction: already its admin is no change, another
    /// studio's admin is `AlreadyAdministers`, a platform admin is refused.
    pub(crate) async fn appoint_locked(
        &self,
        conn: &impl ConnectionTrait,
        user: User,
        studio: StudioId,
    ) -> Result<User, DomainError> {
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
        let values = [user.id.0.into(), studio.0.into(), self.wall_clock()];
        let row = self.one_referencing(conn, "studio", &sql, values).await?.ok_or_else(returned)?;
        self.read(&row).user()
    }
}

impl AccountStore for SqlStore {
    async fn create_user(&self, user: NewUser) -> Result<User, DomainError> {
        let write = self.write().await?;
        let result = self.insert_user(write.conn(), user).await;
        self.finish(write, result).await
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, DomainError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND {LIVE}");
        self.one(&self.db, &sql, [id.0.into()]).await?.map(|row| self.read(&row).user()).transpose()
    }

    async fn find_users(&self, ids: &[UserId]) -> Result<Vec<User>, DomainError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {LIVE} AND id IN {}", placeholders(1, ids.len()));
        let values: Vec<Value> = ids.iter().map(|id| id.0.into()).collect();
        self.all(&self.db, &sql, values).await?.iter().map(|row| self.read(row).user()).collect()
    }

    async fn find_login(&self, email: &str) -> Result<Option<(User, String)>, DomainError> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(email) = lower($1) AND {LIVE}");
        let Some(row) = self.one(&self.db, &sql, [email.into()]).await? else {
            return Ok(None);
        };
        let row = self.read(&row);
        Ok(Some((row.user()?, row.string("password_hash")?)))
    }

    async fn password_hash(&self, id: UserId) -> Result<Option<String>, DomainError> {
        let sql = format!("SELECT password_hash FROM users WHERE id = $1 AND {LIVE}");
        let row = self.one(&self.db, &sql, [id.0.into()]).await?;
        row.map(|row| self.read(&row).string("password_hash")).transpose()
    }

    async fn update_profile(&self, id: UserId, change: ProfileChange) -> Result<User, DomainError> {
        let sql = format!(
            "UPDATE users SET full_name = COALESCE($2, full_name), \
             phone = CASE WHEN $3 THEN $4 ELSE phone END, updated_at = $5, locale = COALESCE($6, locale) \
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let values: [Value; 6] = [
            id.0.into(),
            change.full_name.into(),
            change.phone.is_some().into(),
            change.phone.flatten().into(),
            self.wall_clock(),
            change.locale.map(|locale| locale.as_str().to_owned()).into(),
        ];
        self.write_returning(&sql, values, DomainError::NotFound("user"), |row| row.user()).await
    }

    async fn change_password(&self, id: UserId, password_hash: String) -> Result<i64, DomainError> {
        let write = self.write().await?;
        let result = async {
            let changed = self
                .exec(
                    write.conn(),
                    "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
                    [id.0.into(), password_hash.into(), self.wall_clock()],
                )
                .await?;
            if changed == 0 {
                return Err(DomainError::NotFound("user"));
            }
            self.revoke_sessions(write.conn(), id).await
        }
        .await;
        self.finish(write, result).await
    }

    async fn delete_account(&self, id: UserId, at: DateTime<Utc>) -> Result<DeletedAccount, DomainError> {
        let write = self.write().await?;
        let result = async {
            let lock = self.d().lock_clause(RowLock::Update(LockMode::Wait));
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND {LIVE}");
            let row = self.one(write.conn(), &sql, [id.0.into()]).await?.ok_or(DomainError::NotFound("user"))?;
            if self.read(&row).user()?.role == Role::PlatformAdmin {
                // Every platform admin locked, in id order and before anything
                // else: two leaving at once queue here (never deadlock), and
                // the second finds the first gone.
                let sql = format!("SELECT id FROM users WHERE role = 'platform_admin' AND {LIVE} ORDER BY id {lock}");
                if self.all(write.conn(), &sql, Vec::<Value>::new()).await?.len() < 2 {
                    return Err(DomainError::LastPlatformAdmin);
                }
            }
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND {LIVE} {lock}");
            let user = self.one(write.conn(), &sql, [id.0.into()]).await?.ok_or(DomainError::NotFound("user"))?;
            let user = self.read(&user).user()?;
            let values: [Value; 4] = [
                id.0.into(),
                DeletedAccount::tombstone_email(id).into(),
                ERASED_PASSWORD_HASH.into(),
                self.d().time(at),
            ];
            self.exec(
                write.conn(),
                "UPDATE users SET email = $2, full_name = '', phone = NULL, password_hash = $3, \
                 role = 'user', studio_id = NULL, deleted_at = $4, updated_at = $4 WHERE id = $1",
                values,
            )
            .await?;
            let session_generation = self.revoke_sessions(write.conn(), id).await?;
            self.exec(
                write.conn(),
                "DELETE FROM mail_outbox WHERE recipient_id = $1 AND status = 'pending'",
                [id.0.into()],
            )
            .await?;
            // What they asked to be told or offered goes with them: no alert
            // fires and no seats are held for an account that is gone.
            self.exec(write.conn(), "DELETE FROM price_alerts WHERE user_id = $1", [id.0.into()]).await?;
            self.exec(write.conn(), "DELETE FROM mail_opt_outs WHERE user_id = $1", [id.0.into()]).await?;
            self.exec(
                write.conn(),
                "UPDATE waitlist_entries SET status = 'LEFT', ended_at = $2 WHERE user_id = $1 AND status = 'WAITING'",
                [id.0.into(), self.d().time(at)],
            )
            .await?;
            let deleted =
                DeletedAccount { id, session_generation, previous_role: user.role, previous_studio_id: user.studio_id };
            self.insert_audit(write.conn(), deleted.audit_entry()).await?;
            Ok(deleted)
        }
        .await;
        self.finish(write, result).await
    }

    async fn make_platform_admin(&self, email: &str) -> Result<User, DomainError> {
        let sql = format!(
            "UPDATE users SET role = 'platform_admin', studio_id = NULL, updated_at = $2 \
             WHERE lower(email) = lower($1) AND {LIVE} RETURNING {USER_COLUMNS}"
        );
        let values = [email.into(), self.wall_clock()];
        self.write_returning(&sql, values, DomainError::NotFound("user"), |row| row.user()).await
    }

    async fn create_studio(&self, studio: NewStudio) -> Result<Studio, DomainError> {
        let sql = format!(
            "INSERT INTO studios (name, address, timezone, maps_url, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {STUDIO_COLUMNS}"
        );
        let values: [Value; 5] = [
            studio.name.into(),
            studio.address.into(),
            studio.timezone.into(),
            studio.maps_url.into(),
            self.wall_clock(),
        ];
        self.write_returning(&sql, values, returned(), |row| row.studio()).await
    }

    async fn find_studio(&self, id: StudioId) -> Result<Option<Studio>, DomainError> {
        let sql = format!("SELECT {STUDIO_COLUMNS} FROM studios WHERE id = $1");
        self.one(&self.db, &sql, [id.0.into()]).await?.map(|row| self.read(&row).studio()).transpose()
    }

    async fn list_studios(&self, limit: u32, after: Option<StudioId>) -> Result<Vec<Studio>, DomainError> {
        let sql = format!("SELECT {STUDIO_COLUMNS} FROM studios WHERE id > $1 ORDER BY id LIMIT $2");
        let values: [Value; 2] = [after.map_or(0, |s| s.0).into(), i64::from(limit).into()];
        self.all(&self.db, &sql, values).await?.iter().map(|row| self.read(row).studio()).collect()
    }

    async fn update_studio<F>(&self, id: StudioId, change: F) -> Result<Studio, DomainError>
    where
        F: FnOnce(&Studio) -> Result<NewStudio, DomainError> + Send,
    {
        let write = self.write().await?;
        let result = async {
            let lock = self.d().lock_clause(RowLock::Update(LockMode::Wait));
            let sql = format!("SELECT {STUDIO_COLUMNS} FROM studios WHERE id = $1 {lock}");
            let row = self.one(write.conn(), &sql, [id.0.into()]).await?.ok_or(DomainError::NotFound("studio"))?;
            let studio = change(&self.read(&row).studio()?)?;
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
                self.wall_clock(),
            ];
            let row = self.one(write.conn(), &sql, values).await?.ok_or_else(returned)?;
            self.read(&row).studio()
        }
        .await;
        self.finish(write, result).await
    }

    async fn record_audit(&self, entry: AuditEntry) -> Result<(), DomainError> {
        let write = self.write().await?;
        let result = async {
            // Not every database says which foreign key failed: a missing
            // studio is told apart from a missing actor by looking first.
            if let Some(studio) = entry.studio_id {
                let sql = "SELECT 1 AS present FROM studios WHERE id = $1";
                if self.one(write.conn(), sql, [studio.0.into()]).await?.is_none() {
                    return Err(DomainError::NotFound("studio"));
                }
            }
            self.insert_audit(write.conn(), entry).await
        }
        .await;
        self.finish(write, result).await
    }

    async fn list_studio_admins(
        &self,
        studio: StudioId,
        limit: u32,
        after: Option<UserId>,
    ) -> Result<Vec<User>, DomainError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE role = 'studio_admin' AND studio_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        );
        let values: [Value; 3] = [studio.0.into(), after.map_or(0, |u| u.0).into(), i64::from(limit).into()];
        self.all(&self.db, &sql, values).await?.iter().map(|row| self.read(row).user()).collect()
    }

    async fn remove_studio_admin(&self, studio: StudioId, user: UserId) -> Result<User, DomainError> {
        let sql = format!(
            "UPDATE users SET role = 'user', studio_id = NULL, updated_at = $3 \
             WHERE id = $1 AND role = 'studio_admin' AND studio_id = $2 RETURNING {USER_COLUMNS}"
        );
        let values = [user.0.into(), studio.0.into(), self.wall_clock()];
        self.write_returning(&sql, values, DomainError::NotFound("admin"), |row| row.user()).await
    }

    async fn assign_studio_admin(&self, studio: StudioId, email: &str) -> Result<User, DomainError> {
        let write = self.write().await?;
        let result = async {
            let lock = self.d().lock_clause(RowLock::Update(LockMode::Wait));
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1) AND {LIVE} {lock}");
            let user = self.one(write.conn(), &sql, [email.into()]).await?.ok_or(DomainError::NotFound("user"))?;
            let user = self.read(&user).user()?;
            self.appoint_locked(write.conn(), user, studio).await
        }
        .await;
        self.finish(write, result).await
    }
}
