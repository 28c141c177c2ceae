//! Studios and their admins.

use actix_web::{HttpResponse, get, patch, post, web};
use hothour_domain::account::NewStudio;
use hothour_domain::ports::AccountStore;
use hothour_domain::{DomainError, Role, StudioId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::auth::Caller;
use crate::dto::{AdminIn, StudioIn, StudioOut, StudioPage, StudioPatchIn, UserOut};
use crate::json::StrictJson;
use crate::live::sessions;
use crate::pagination::{decode_id_cursor, encode_id_cursor, limit, split_page};
use crate::problem::Problem;
use crate::routes::forbidden;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_studio).service(list_studios).service(get_studio).service(update_studio).service(assign_admin);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StudioQuery {
    /// Page size, 1 to 100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Creates a studio (platform admins only).
#[utoipa::path(
    tag = "studios", operation_id = "createStudio", request_body = StudioIn,
    responses(
        (status = 201, description = "The new studio", body = StudioOut),
    ),
    security(("bearer" = []))
)]
#[post("/studios")]
async fn create_studio(
    state: web::Data<AppState>,
    caller: Caller,
    body: StrictJson<StudioIn>,
) -> Result<HttpResponse, Problem> {
    if caller.actor.role != Role::PlatformAdmin {
        return Err(forbidden("only platform admins create studios"));
    }
    let b = body.0;
    let studio = NewStudio::new(&b.name, &b.address, &b.timezone, b.maps_url.as_deref()).map_err(DomainError::from)?;
    let studio = state.store.create_studio(studio).await?;
    state.audit_studio(&caller, studio.id, "studio.create").await;
    Ok(HttpResponse::Created().json(StudioOut::from(&studio)))
}

/// Lists studios (public).
#[utoipa::path(
    tag = "studios", operation_id = "listStudios", params(StudioQuery),
    responses(
        (status = 200, description = "One page of studios", body = StudioPage),
    )
)]
#[get("/studios")]
async fn list_studios(state: web::Data<AppState>, query: web::Query<StudioQuery>) -> Result<HttpResponse, Problem> {
    let limit = limit(query.limit)?;
    let after = query.cursor.as_deref().map(decode_id_cursor).transpose()?.map(StudioId);
    let studios = state.store.list_studios(limit + 1, after).await?;
    let (studios, next_cursor) = split_page(studios, limit, |s| encode_id_cursor(s.id.0));
    Ok(HttpResponse::Ok().json(StudioPage { items: studios.iter().map(StudioOut::from).collect(), next_cursor }))
}

/// One studio (public).
#[utoipa::path(
    tag = "studios", operation_id = "getStudio", params(("id" = i64, Path, description = "Studio id")),
    responses(
        (status = 200, description = "The studio", body = StudioOut),
    )
)]
#[get("/studios/{id}")]
async fn get_studio(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, Problem> {
    let studio = state.store.find_studio(StudioId(*id)).await?.ok_or(DomainError::NotFound("studio"))?;
    Ok(HttpResponse::Ok().json(StudioOut::from(&studio)))
}

/// Changes a studio (its admins and platform admins).
#[utoipa::path(
    tag = "studios", operation_id = "updateStudio", request_body = StudioPatchIn,
    params(("id" = i64, Path, description = "Studio id")),
    responses(
        (status = 200, description = "The studio", body = StudioOut),
    ),
    security(("bearer" = []))
)]
#[patch("/studios/{id}")]
async fn update_studio(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: StrictJson<StudioPatchIn>,
) -> Result<HttpResponse, Problem> {
    let id = StudioId(*id);
    if !caller.actor.manages(id) {
        return Err(DomainError::NotFound("studio").into());
    }
    let b = body.0;
    let studio = state
        .store
        .update_studio(id, |current| {
            NewStudio::new(
                b.name.as_deref().unwrap_or(&current.name),
                b.address.as_deref().unwrap_or(&current.address),
                b.timezone.as_deref().unwrap_or(&current.timezone),
                b.maps_url.unwrap_or_else(|| current.maps_url.clone()).as_deref(),
            )
            .map_err(DomainError::from)
        })
        .await?;
    state.audit_studio(&caller, id, "studio.update").await;
    Ok(HttpResponse::Ok().json(StudioOut::from(&studio)))
}

/// Makes an existing user this studio's admin (platform admins only).
#[utoipa::path(
    tag = "studios", operation_id = "assignStudioAdmin", request_body = AdminIn,
    params(("id" = i64, Path, description = "Studio id")),
    responses(
        (status = 200, description = "The user, now the studio's admin", body = UserOut),
    ),
    security(("bearer" = []))
)]
#[post("/studios/{id}/admins")]
async fn assign_admin(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: StrictJson<AdminIn>,
) -> Result<HttpResponse, Problem> {
    if caller.actor.role != Role::PlatformAdmin {
        return Err(forbidden("only platform admins assign studio admins"));
    }
    let id = StudioId(*id);
    state.store.find_studio(id).await?.ok_or(DomainError::NotFound("studio"))?;
    let email = body.0.email.trim();
    let before = state.store.find_login(&email.to_lowercase()).await?.map(|(user, _)| (user.role, user.studio_id));
    let user = state.store.assign_studio_admin(id, email).await?;
    if before != Some((user.role, user.studio_id)) {
        // Their live sockets join private rooms again, under the new role.
        sessions::announce_role_change(&state.store, user.id, state.now()).await?;
    }
    state.audit_studio(&caller, id, "studio.assign_admin").await;
    Ok(HttpResponse::Ok().json(UserOut::from(&user)))
}
