//! What a client needs to know about this deployment.

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::dto::ConfigOut;
use crate::openapi::rules;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_config);
}

/// The currency of every amount, the booking rules' numbers and the server's clock.
#[utoipa::path(
    tag = "meta", operation_id = "getConfig",
    responses((status = 200, description = "This deployment's settings and the server time", body = ConfigOut)),
    extensions(("x-hothour" = json!(rules::public(&[]).without_database()))),
)]
#[get("/config")]
async fn get_config(state: web::Data<AppState>) -> HttpResponse {
    let config = &state.config;
    HttpResponse::Ok().json(ConfigOut {
        currency: config.currency.clone(),
        hold_ttl_seconds: config.policy.hold_ttl.num_seconds().unsigned_abs(),
        max_seats_per_hold: config.policy.max_seats_per_hold,
        cancellation_cutoff_seconds: config.policy.cancel_cutoff.num_seconds().unsigned_abs(),
        check_in_opens_before_seconds: config.policy.check_in_opens_before.num_seconds().unsigned_abs(),
        server_time: state.now(),
        payments: config.payments.out(),
    })
}
