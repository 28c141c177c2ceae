//! The audit log of administrative actions.

use actix_web::{get, web};
use hothour_domain::StudioId;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Reply, State, ok};
use crate::auth::Caller;
use crate::dto::{AuditOut, AuditPage};
use crate::openapi::rules;
use crate::pagination::{Cursor, PageSize, encode_id_cursor, limit, split_page};
use crate::problem::ProblemCode as C;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(audit_log);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Platform admins may narrow to one studio.
    studio_id: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    #[param(inline)]
    limit: Option<PageSize>,
    /// `next_cursor` of the previous page.
    #[param(inline)]
    cursor: Option<Cursor>,
}

/// Administrative actions, newest first: a studio admin sees their studio's, a platform admin all.
#[utoipa::path(
    tag = "admin", operation_id = "listAuditLog", params(AuditQuery),
    responses((status = 200, description = "One page of the audit log", body = AuditPage)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden])))),
)]
#[get("/audit-log")]
async fn audit_log(state: State, caller: Caller, query: web::Query<AuditQuery>) -> Reply {
    let limit = limit(query.limit)?;
    let before = query.cursor.as_ref().map(Cursor::id).transpose()?;
    let entries = state.services.list_audit(&caller.actor, query.studio_id.map(StudioId), limit + 1, before).await?;
    let (entries, next_cursor) = split_page(entries, limit, |e| encode_id_cursor(e.id));
    ok(&AuditPage { items: entries.iter().map(AuditOut::of).collect(), next_cursor })
}
