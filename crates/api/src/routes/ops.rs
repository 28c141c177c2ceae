//! Health checks (outside `/api/v1`).

use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::problem::{Problem, ProblemCode};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live)).route("/health/ready", web::get().to(ready));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "live" }))
}

/// Ready while the database answers.
async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    match state.store.ping().await {
        Ok(()) => Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" }))),
        Err(_) => Err(Problem::new(ProblemCode::DatabaseUnavailable, "the database does not answer")),
    }
}
