//! Studios and their admins.

use actix_web::{delete, get, patch, post, web};
use hothour_domain::account::Audited;
use hothour_domain::{StudioId, UserId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Reply, State, created, no_content, ok};
use crate::auth::Caller;
use crate::dto::{StudioAdminOut, StudioAdminPage, StudioIn, StudioOut, StudioPage, StudioPatchIn};
use crate::json::StrictJson;
use crate::openapi::rules;
use crate::pagination::{Cursor, PageSize, encode_id_cursor, limit, split_page};
use crate::problem::ProblemCode as C;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_studio)
        .service(list_studios)
        .service(get_studio)
        .service(update_studio)
        .service(list_admins)
        .service(remove_admin);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StudioQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(inline)]
    pub(super) limit: Option<PageSize>,
    /// `next_cursor` of the previous page.
    #[param(inline)]
    pub(super) cursor: Option<Cursor>,
}

/// Creates a studio (platform admins only).
#[utoipa::path(
    tag = "studios", operation_id = "createStudio", request_body = StudioIn,
    responses((status = 201, description = "The new studio", body = StudioOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden])))),
)]
#[post("/studios")]
async fn create_studio(state: State, caller: Caller, body: StrictJson<StudioIn>) -> Reply {
    let StudioIn { name, address, timezone, maps_url } = body.0;
    let audited = state.studios.create(&caller.actor, &name, &address, &timezone, maps_url.as_deref()).await?;
    created(&StudioOut::of(&logged(audited, "studio.create")))
}

/// Lists studios (public).
#[utoipa::path(
    tag = "studios", operation_id = "listStudios", params(StudioQuery),
    responses((status = 200, description = "One page of studios", body = StudioPage)),
    extensions(("x-hothour" = json!(rules::public(&[])))),
)]
#[get("/studios")]
async fn list_studios(state: State, query: web::Query<StudioQuery>) -> Reply {
    let limit = limit(query.limit)?;
    let after = query.cursor.as_ref().map(Cursor::id).transpose()?.map(StudioId);
    let (studios, next_cursor) =
        split_page(state.studios.list(limit + 1, after).await?, limit, |s| encode_id_cursor(s.id.0));
    ok(&StudioPage { items: studios.iter().map(StudioOut::of).collect(), next_cursor })
}

/// One studio (public).
#[utoipa::path(
    tag = "studios", operation_id = "getStudio", params(("id" = i64, Path, description = "Studio id")),
    responses((status = 200, description = "The studio", body = StudioOut)),
    extensions(("x-hothour" = json!(rules::public(&[])))),
)]
#[get("/studios/{id}")]
async fn get_studio(state: State, id: web::Path<i64>) -> Reply {
    ok(&StudioOut::of(&state.studios.get(StudioId(*id)).await?))
}

/// Changes a studio (its admins and platform admins).
#[utoipa::path(
    tag = "studios", operation_id = "updateStudio", request_body = StudioPatchIn,
    params(("id" = i64, Path, description = "Studio id")),
    responses((status = 200, description = "The studio", body = StudioOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[patch("/studios/{id}")]
async fn update_studio(state: State, caller: Caller, id: web::Path<i64>, body: StrictJson<StudioPatchIn>) -> Reply {
    let updated = state.studios.update(&caller.actor, StudioId(*id), body.0.into_patch()).await;
    // Forgotten whatever the outcome: a failure may follow a commit.
    state.studio_summaries.changed(StudioId(*id));
    ok(&StudioOut::of(&logged(updated?, "studio.update")))
}

/// The studio's admins (its own admins and platform admins may read them).
#[utoipa::path(
    tag = "studios", operation_id = "listStudioAdmins",
    params(("id" = i64, Path, description = "Studio id"), StudioQuery),
    responses((status = 200, description = "One page of the studio's admins, by id", body = StudioAdminPage)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/studios/{id}/admins")]
async fn list_admins(state: State, caller: Caller, id: web::Path<i64>, query: web::Query<StudioQuery>) -> Reply {
    let limit = limit(query.limit)?;
    let after = query.cursor.as_ref().map(Cursor::id).transpose()?.map(UserId);
    let admins = state.studios.admins(&caller.actor, StudioId(*id), limit + 1, after).await?;
    let (admins, next_cursor) = split_page(admins, limit, |u| encode_id_cursor(u.id.0));
    ok(&StudioAdminPage { items: admins.iter().map(StudioAdminOut::of).collect(), next_cursor })
}

/// Makes the studio's admin a plain user again (platform admins only). It
/// takes effect at once on every instance: their next request acts as a
/// user, and their live sockets lose the studio's rooms (`session_ended`,
/// `role_changed`).
#[utoipa::path(
    tag = "studios", operation_id = "removeStudioAdmin",
    params(("id" = i64, Path, description = "Studio id"), ("user_id" = i64, Path, description = "The admin's user id")),
    responses((status = 204, description = "Removed: the user's role is `user` now")),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden])))),
)]
#[delete("/studios/{id}/admins/{user_id}")]
async fn remove_admin(state: State, caller: Caller, path: web::Path<(i64, i64)>) -> Reply {
    let (studio, user) = path.into_inner();
    let removed = state.studios.remove_admin(&caller.actor, StudioId(studio), UserId(user)).await?;
    let user = logged(removed, "studio.remove_admin");
    // This instance acts on the new role at once; the others when they hear it.
    state.actors.changed(user.id);
    no_content()
}

/// The change, once a failure to audit it is logged (it is not answered: the change stands).
pub(super) fn logged<T>(audited: Audited<T>, action: &str) -> T {
    if let Some(error) = audited.audit_failure {
        tracing::error!(%error, action, "could not write the audit log");
    }
    audited.value
}
