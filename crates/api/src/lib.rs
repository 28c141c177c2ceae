//! HotHour's HTTP adapter: routes, problem+json errors, authentication,
//! OpenAPI, configuration and start-up. `main.rs` only parses the command line.

// `Problem` is every handler's error; it is built once per failed request and
// sent over the network, so boxing it would cost more than it saves.
#![allow(clippy::result_large_err)]

pub mod asyncapi;
pub mod auth;
pub mod calendar;
pub mod client_ip;
pub mod clock;
pub mod commands;
pub mod config;
pub mod csv_export;
pub mod device;
pub mod dto;
pub mod etag;
pub mod idempotency;
pub mod jobs;
pub mod json;
pub mod limits;
pub mod live;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod payments;
pub mod problem;
pub mod query_date;
pub mod request_span;
pub mod routes;
pub mod security_headers;
pub mod spa;
pub mod store;
pub mod summaries;
pub mod unsubscribe;

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServiceResponse};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, HttpServer, ResponseError, web};
use chrono::{DateTime, Utc};
use hothour_domain::account::invitations::Invitations;
use hothour_domain::account::{Accounts, Studios};
use hothour_domain::memory::fresh_cache::FreshCache;
use hothour_domain::ports::{AuctionRecord, EventRecord};
use hothour_domain::{AuctionId, AuctionView, DomainError, EventId, Services, SystemClock, UserId};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{Bcrypt, RandomRefreshTokens, TokenKeys};
use crate::clock::LiveClock;
use crate::limits::Limits;
use crate::live::hub::Hub;
use crate::live::sessions::OutboxSessions;
use crate::problem::{Problem, ProblemCode};

pub use config::Config;

pub use hothour_infra_stripe::install_crypto_provider;
pub use store::{AppStore, connect_and_migrate};
/// The clock the API reads and waits on (tests substitute one they move).
pub type AppClock = Arc<dyn LiveClock>;
pub type AppServices = Services<AppStore, AppClock, live::local_commits::InstancePublisher>;
pub type AppAccounts = Accounts<AppStore, AppClock, Bcrypt, RandomRefreshTokens, OutboxSessions<AppStore>>;
pub type AppStudios = Studios<AppStore, AppClock, OutboxSessions<AppStore>>;
pub type AppInvitations = Invitations<AppStore, AppClock, RandomRefreshTokens, OutboxSessions<AppStore>>;

/// What every handler shares.
pub struct AppState {
    pub store: AppStore,
    pub services: AppServices,
    pub accounts: AppAccounts,
    pub studios: AppStudios,
    /// Invitations to administer a studio.
    pub invitations: AppInvitations,
    pub clock: AppClock,
    pub keys: TokenKeys,
    /// Device tokens, signed with the same secret.
    pub devices: device::DeviceTokens,
    pub limits: Limits,
    pub config: Config,
    /// This instance's live rooms.
    pub hub: Arc<Hub>,
    /// Identifies the event stream (the database it lives in); sent with every event.
    pub epoch: i64,
    pub metrics: metrics::Metrics,
    /// Whom each signed-in user acts as (role and studio) and their session
    /// generation, kept until a change of role or a revocation is heard, and
    /// at most [`auth::ACTOR_TTL`].
    pub actors: FreshCache<UserId, auth::KnownUser>,
    /// Makes sure reads from memory follow every instance's earlier commits.
    pub syncs: live::sync::Syncs,
    /// The studios' names, addresses and zones that answers carry.
    pub studio_summaries: summaries::StudioSummaries,
    /// What the Content-Security-Policy admits beyond this origin (the payment provider's script).
    pub csp_sources: security_headers::Sources,
    /// Where email leaves, and what every message carries.
    pub mail: mail::MailSetup,
    /// The runtime holds and grabs are decided on: the one the instance
    /// started on, not the HTTP worker that took the request, so that a
    /// batch's round trips to the database are not queued behind the
    /// worker's parsing of other requests (BENCHMARKS.md, issue 25).
    pub decisions: tokio::runtime::Handle,
    /// What this instance committed, until its fan-out delivers it.
    pub local_commits: Arc<live::local_commits::LocalCommits>,
}

impl AppState {
    /// Runs `decision` on [`AppState::decisions`], in the caller's span (so
    /// that what it logs names the request), and answers its outcome. A
    /// decision that panicked panics here too; one the runtime dropped (the
    /// instance is stopping) is `Unavailable`.
    pub async fn decide<T: Send + 'static>(
        &self,
        decision: impl Future<Output = Result<T, DomainError>> + Send + 'static,
    ) -> Result<T, DomainError> {
        match self.decisions.spawn(tracing::Instrument::in_current_span(decision)).await {
            Ok(outcome) => outcome,
            Err(stopped) if stopped.is_panic() => std::panic::resume_unwind(stopped.into_panic()),
            Err(_) => Err(DomainError::Unavailable),
        }
    }

    /// The state for a store, on the wall clock.
    pub async fn new(store: AppStore, config: Config) -> Result<AppState, String> {
        AppState::with_clock(store, config, Arc::new(SystemClock)).await
    }

    pub async fn with_clock(store: AppStore, config: Config, clock: AppClock) -> Result<AppState, String> {
        let epoch = store.stream_epoch().await.map_err(|e| format!("reading the stream epoch: {e}"))?;
        let csp_sources = security_headers::Sources::for_payments(&config.payments);
        let metrics = metrics::Metrics::new();
        let local_commits = Arc::new(live::local_commits::LocalCommits::default());
        let publisher = live::local_commits::InstancePublisher {
            payments: metrics.committed_payments(),
            local: local_commits.clone(),
        };
        let mail = config.mail.setup()?;
        Ok(AppState {
            decisions: tokio::runtime::Handle::current(),
            local_commits,
            mail,
            hub: Arc::new(Hub::new()),
            epoch,
            metrics,
            services: {
                let services = Services::new(store.clone(), clock.clone(), publisher, config.policy)
                    .with_hold_lanes(config.database.hold_lanes);
                match config.payments.setup(&config.currency)? {
                    Some(setup) => services.with_payments(setup),
                    None => services,
                }
            },
            accounts: Accounts::new(
                store.clone(),
                clock.clone(),
                Bcrypt { cost: config.sign_in.bcrypt_cost },
                RandomRefreshTokens,
                OutboxSessions(store.clone()),
                chrono::Duration::from_std(config.sign_in.refresh_token_ttl).unwrap_or(chrono::Duration::days(7)),
            ),
            studios: Studios::new(store.clone(), clock.clone(), OutboxSessions(store.clone())),
            invitations: Invitations::new(
                store.clone(),
                clock.clone(),
                RandomRefreshTokens,
                OutboxSessions(store.clone()),
            ),
            keys: TokenKeys::new(
                &config.sign_in.jwt_secret,
                config.sign_in.access_token_ttl,
                config.sign_in.refresh_token_ttl,
            ),
            devices: device::DeviceTokens::new(&config.sign_in.jwt_secret),
            limits: Limits::new(&config),
            store,
            clock,
            config,
            actors: FreshCache::default(),
            syncs: live::sync::Syncs::new(),
            studio_summaries: summaries::StudioSummaries::default(),
            csp_sources,
        })
    }

    /// Whether every committed event is heard from now on (what is kept in
    /// memory is then served), or some may be missed (nothing is).
    pub fn follow_commits(&self, following: bool) {
        self.services.follow_commits(following);
        self.actors.follow(following);
    }

    /// The auction as committed when this call began, on any instance.
    pub async fn read_auction(&self, id: AuctionId) -> Result<(AuctionRecord, AuctionView), DomainError> {
        if self.memory_may_be_behind().await? {
            return self.services.get_auction_from_store(id).await;
        }
        self.services.get_auction(id).await
    }

    /// The event as committed when this call began, on any instance.
    pub async fn read_event(&self, id: EventId) -> Result<EventRecord, DomainError> {
        if self.memory_may_be_behind().await? {
            return self.services.get_event_from_store(id).await;
        }
        self.services.get_event(id).await
    }

    /// Whether what is kept in memory may miss a commit made before this
    /// call (on any instance): true if the sync with the other instances was
    /// not heard in time. Memory not being served, there is nothing to sync.
    async fn memory_may_be_behind(&self) -> Result<bool, DomainError> {
        Ok(self.services.read_model().following() && !self.syncs.caught_up(&self.store).await?)
    }

    pub fn now(&self) -> DateTime<Utc> {
        hothour_domain::Clock::now(&self.clock)
    }
}

/// Turns any error answer that is not problem+json yet (an unknown route, a
/// wrong method, an oversized body) into one.
fn problem_json<B: 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (code, detail) = match status.as_u16() {
        404 => (ProblemCode::RouteNotFound, "no such route"),
        405 => (ProblemCode::MethodNotAllowed, "this route does not take that method"),
        413 => (ProblemCode::PayloadTooLarge, "the body is too large"),
        415 => (ProblemCode::UnsupportedMediaType, "send the body as application/json"),
        400..=499 => (ProblemCode::BadRequest, "the request could not be understood"),
        _ => (ProblemCode::Internal, "something went wrong on our side"),
    };
    let (req, _) = res.into_parts();
    let response = Problem::with_status(status, code, detail).error_response();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
}

/// The application: ops routes, `/api/v1`, the OpenAPI document and Swagger UI.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = state.config.web.cors_origins.iter().fold(
        actix_cors::Cors::default()
            .allow_any_method()
            .allow_any_header()
            .expose_headers(["Retry-After", "Idempotent-Replayed"])
            .max_age(3600),
        |cors, origin| cors.allowed_origin(origin),
    );
    let app = App::new()
        .into_utoipa_app()
        .app_data(state)
        // Before the `/api/v1` scope, which answers everything under it.
        .route(OPENAPI_PATH, web::get().to(serve_openapi))
        .route("/api/v1/asyncapi.json", web::get().to(asyncapi::serve))
        .service(utoipa_actix_web::scope("/api/v1").configure(routes::configure))
        .into_app();
    app.configure(json::configure_extractors)
        .configure(routes::ops::configure)
        .route("/metrics", web::get().to(metrics::serve))
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                // The base layout has no top bar, whose logo carries an inline
                // style the Content-Security-Policy refuses; and no badge from
                // an outside validator.
                .config(utoipa_swagger_ui::Config::new([OPENAPI_PATH]).use_base_layout().validator_url("none")),
        )
        .route(
            "/docs",
            web::get().to(|| async { actix_web::HttpResponse::Found().insert_header(("Location", "/docs/")).finish() }),
        )
        .default_service(web::to(spa::serve))
        .wrap(actix_web::middleware::from_fn(limits::throttle_signed_in_writes))
        .wrap(ErrorHandlers::new().default_handler(problem_json))
        .wrap(actix_web::middleware::from_fn(security_headers::add))
        .wrap(actix_web::middleware::from_fn(metrics::track))
        .wrap(tracing_actix_web::TracingLogger::<request_span::RequestSpan>::new())
        .wrap(cors)
}

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// The OpenAPI document, as served at [`OPENAPI_PATH`] and committed in `openapi/openapi.json`.
pub fn openapi_document() -> &'static serde_json::Value {
    static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| openapi::finish(openapi::derived()))
}

/// The OpenAPI document as committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    serde_json::to_string_pretty(openapi_document()).expect("the OpenAPI document serialises")
}

async fn serve_openapi() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().content_type("application/json").body(openapi_json())
}

/// The methods the document lists for a concrete path (empty when no path matches).
pub fn allowed_methods(path: &str) -> Vec<String> {
    let matches = |template: &str| {
        let (mut t, mut p) = (template.split('/'), path.split('/'));
        loop {
            match (t.next(), p.next()) {
                (None, None) => return true,
                (Some(t), Some(p)) if t.starts_with('{') && !p.is_empty() => {}
                (Some(t), Some(p)) if t == p => {}
                _ => return false,
            }
        }
    };
    if path == OPENAPI_PATH {
        return vec!["GET".into()];
    }
    let paths = openapi_document()["paths"].as_object().expect("paths");
    // A literal segment beats a parameter, as in routing: `/auctions/batch`
    // is not `/auctions/{id}`.
    let parameters = |template: &str| template.split('/').filter(|segment| segment.starts_with('{')).count();
    let matching: Vec<_> = paths.iter().filter(|(template, _)| matches(template)).collect();
    let fewest = matching.iter().map(|(template, _)| parameters(template)).min();
    matching
        .into_iter()
        .filter(|(template, _)| Some(parameters(template)) == fewest)
        .flat_map(|(_, item)| item.as_object().expect("a path item").keys().map(|m| m.to_ascii_uppercase()))
        .collect()
}

/// A bound, not yet running, server and the port it listens on (`BIND` may ask for port 0).
pub struct Running {
    pub server: Server,
    pub port: u16,
    pub hub: Arc<Hub>,
    pub state: Arc<AppState>,
}

impl Running {
    /// Closes every WebSocket with 1001 (going away), then stops the server gracefully.
    pub async fn shut_down(hub: &Hub, handle: actix_web::dev::ServerHandle) {
        hub.shut_down();
        handle.stop(true).await;
    }
}

/// Starts serving on `listener` (signals are left to the caller, see
/// [`Running::shut_down`]) and the instance's background work: the outbox
/// fan-out, its part in the outbox relay and, unless configured off, the jobs.
pub fn start(listener: TcpListener, state: AppState) -> std::io::Result<Running> {
    let port = listener.local_addr()?.port();
    let state = web::Data::new(state);
    let shared = state.clone().into_inner();
    let hub = shared.hub.clone();
    tokio::spawn(live::fanout::run(shared.clone()));
    // Every instance campaigns; one at a time announces the commits of all.
    if let Some(relay) = shared.store.relay() {
        tokio::spawn(relay);
    }
    if shared.config.background_jobs {
        tracing::info!("email goes to {}", shared.mail.mailer.describe());
        tokio::spawn(jobs::run(shared.clone()));
    }
    let server =
        HttpServer::new(move || app(state.clone())).listen(listener)?.disable_signals().shutdown_timeout(5).run();
    Ok(Running { server, port, hub, state: shared })
}
