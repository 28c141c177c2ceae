//! Prometheus metrics, served at `/metrics`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::AppState;

pub struct Metrics {
    registry: Registry,
    requests: HistogramVec,
    holds: IntCounterVec,
    grabs: IntCounterVec,
    ws_connections: IntGauge,
    ws_slow_consumers: IntGauge,
    ws_ticker_read_failures: IntGauge,
    hold_batches: IntGauge,
    holds_batched: IntGauge,
    hold_batches_across_events: IntGauge,
    reads_from_memory: IntGauge,
    reads_from_store: IntGauge,
    read_model_following: IntGauge,
    relay_leading: IntGauge,
    fanout_from_memory: IntGauge,
    fanout_read_back: IntGauge,
    payments: IntCounterVec,
    refunds: IntCounterVec,
    mail: IntCounterVec,
}

/// Counts this instance's committed payment outcomes from the events it
/// commits (each is stored for the owner's room and the studio's: counted
/// once, in the owner's).
#[derive(Clone)]
pub struct CommittedPayments {
    payments: IntCounterVec,
    refunds: IntCounterVec,
}

impl CommittedPayments {
    pub fn count(&self, events: &[hothour_domain::StoredEvent]) {
        for event in events.iter().filter(|event| event.room.starts_with("user:")) {
            match event.kind.as_str() {
                "payment_succeeded" => self.payments.with_label_values(&["succeeded"]).inc(),
                "payment_refunded" => self.refunds.with_label_values(&["refunded"]).inc(),
                _ => {}
            }
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = HistogramVec::new(
            HistogramOpts::new("hothour_http_request_duration_seconds", "HTTP request latency by route")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["method", "route", "status"],
        )
        .expect("valid histogram");
        let holds = IntCounterVec::new(Opts::new("hothour_holds_total", "Seat holds by outcome"), &["outcome"])
            .expect("valid counter");
        let grabs = IntCounterVec::new(Opts::new("hothour_grabs_total", "Auction grabs by outcome"), &["outcome"])
            .expect("valid counter");
        let ws_connections = IntGauge::new("hothour_ws_connections", "Open WebSocket connections on this instance")
            .expect("valid gauge");
        let ws_slow_consumers = IntGauge::new(
            "hothour_ws_slow_consumer_disconnects_total",
            "WebSocket connections closed because they fell behind",
        )
        .expect("valid gauge");
        let ws_ticker_read_failures = IntGauge::new(
            "hothour_ws_ticker_read_failures_total",
            "Times a price ticker could not read its auction (it retries with back-off)",
        )
        .expect("valid gauge");
        let hold_batches = IntGauge::new(
            "hothour_hold_batches_total",
            "Transactions that decided concurrent holds together (on one event or several)",
        )
        .expect("valid gauge");
        let hold_batches_across_events = IntGauge::new(
            "hothour_hold_batches_across_events_total",
            "Those of the transactions that decided holds on several events",
        )
        .expect("valid gauge");
        let holds_batched =
            IntGauge::new("hothour_holds_batched_total", "Holds decided in those transactions").expect("valid gauge");
        let reads_from_memory = IntGauge::new(
            "hothour_read_model_hits_total",
            "Auction and event reads answered from memory (the read model)",
        )
        .expect("valid gauge");
        let reads_from_store =
            IntGauge::new("hothour_read_model_misses_total", "Auction and event reads that went to the database")
                .expect("valid gauge");
        let read_model_following = IntGauge::new(
            "hothour_read_model_following",
            "1 while every commit is heard and reads may be answered from memory",
        )
        .expect("valid gauge");
        let relay_leading = IntGauge::new(
            "hothour_outbox_relay_leading",
            "1 while this instance's outbox relay announces the commits of every instance",
        )
        .expect("valid gauge");
        let fanout_from_memory = IntGauge::new(
            "hothour_fanout_events_from_memory_total",
            "Announced outbox events this instance committed itself and delivered without reading them back",
        )
        .expect("valid gauge");
        let fanout_read_back = IntGauge::new(
            "hothour_fanout_events_read_back_total",
            "Announced outbox events read back from the outbox (other instances' commits, and own ones no longer kept)",
        )
        .expect("valid gauge");
        let payments = IntCounterVec::new(
            Opts::new("hothour_payments_total", "Card payments by outcome (succeeded, declined)"),
            &["outcome"],
        )
        .expect("valid counter");
        let refunds = IntCounterVec::new(
            Opts::new("hothour_refunds_total", "Refunds by outcome (refunded; failed, to be retried)"),
            &["outcome"],
        )
        .expect("valid counter");
        let mail = IntCounterVec::new(
            Opts::new("hothour_mail_total", "Email by outcome (sent; retried, to be tried again; dead, given up)"),
            &["outcome"],
        )
        .expect("valid counter");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(mail.clone()),
            Box::new(payments.clone()),
            Box::new(refunds.clone()),
            Box::new(holds.clone()),
            Box::new(grabs.clone()),
            Box::new(ws_connections.clone()),
            Box::new(ws_slow_consumers.clone()),
            Box::new(ws_ticker_read_failures.clone()),
            Box::new(hold_batches.clone()),
            Box::new(holds_batched.clone()),
            Box::new(hold_batches_across_events.clone()),
            Box::new(reads_from_memory.clone()),
            Box::new(reads_from_store.clone()),
            Box::new(read_model_following.clone()),
            Box::new(relay_leading.clone()),
            Box::new(fanout_from_memory.clone()),
            Box::new(fanout_read_back.clone()),
        ] {
            registry.register(collector).expect("unique metric names");
        }
        Metrics {
            registry,
            requests,
            holds,
            grabs,
            ws_connections,
            ws_slow_consumers,
            ws_ticker_read_failures,
            hold_batches,
            holds_batched,
            hold_batches_across_events,
            reads_from_memory,
            reads_from_store,
            read_model_following,
            relay_leading,
            fanout_from_memory,
            fanout_read_back,
            payments,
            refunds,
            mail,
        }
    }

    /// What a round of the email sender did.
    pub fn mail_delivered(&self, report: &hothour_domain::mail::DeliveryReport) {
        for (outcome, count) in [("sent", report.sent), ("retried", report.retried), ("dead", report.dead)] {
            if count > 0 {
                self.mail.with_label_values(&[outcome]).inc_by(count as u64);
            }
        }
    }

    /// What counts the payments and refunds this instance commits.
    pub fn committed_payments(&self) -> CommittedPayments {
        CommittedPayments { payments: self.payments.clone(), refunds: self.refunds.clone() }
    }

    /// A card the provider declined.
    pub fn payment_declined(&self) {
        self.payments.with_label_values(&["declined"]).inc();
    }

    /// Refunds that failed (each is retried with back-off).
    pub fn refunds_failed(&self, count: usize) {
        self.refunds.with_label_values(&["failed"]).inc_by(count as u64);
    }

    /// `outcome`: `created` or a problem code, a closed set.
    pub fn hold(&self, outcome: &'static str) {
        self.holds.with_label_values(&[outcome]).inc();
    }

    /// `outcome`: `created` or a problem code, a closed set.
    pub fn grab(&self, outcome: &'static str) {
        self.grabs.with_label_values(&[outcome]).inc();
    }

    fn render(&self, state: &AppState) -> String {
        use std::sync::atomic::Ordering;
        self.ws_connections.set(state.hub.open_connections.load(Ordering::Relaxed) as i64);
        self.ws_slow_consumers.set(state.hub.slow_consumers_dropped.load(Ordering::Relaxed) as i64);
        self.ws_ticker_read_failures.set(state.hub.ticker_read_failures.load(Ordering::Relaxed) as i64);
        let (batches, holds) = state.services.hold_batches();
        self.hold_batches.set(batches as i64);
        self.holds_batched.set(holds as i64);
        self.hold_batches_across_events.set(state.services.hold_batches_across_events() as i64);
        let read_model = state.services.read_model();
        let (hits, misses) = read_model.counts();
        self.reads_from_memory.set(hits as i64);
        self.reads_from_store.set(misses as i64);
        self.read_model_following.set(i64::from(read_model.following()));
        self.relay_leading.set(i64::from(state.store.leads_relay()));
        let (from_memory, read_back) = state.local_commits.counts();
        self.fanout_from_memory.set(from_memory as i64);
        self.fanout_read_back.set(read_back as i64);
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer).expect("text encoding cannot fail");
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// `GET /metrics`
pub async fn serve(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render(&state))
}

/// The method as a label: the standard ones by name, any other `OTHER`
/// (anyone may send a method of their own making, and each label value is a
/// series kept in memory for good).
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN.iter().find(|known| *known == method).map_or("OTHER", Method::as_str)
}

/// Where no route matched: one label for every unrouted path.
const UNMATCHED: &str = "unmatched";

/// Times every request, labelled by a closed set of values: its method (see
/// [`method_label`]), its route pattern (not its raw path, so ids and
/// invented paths do not grow the label space) and its status.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let response = next.call(req).await?;
    if let Some(state) = state {
        let route = response.request().match_pattern().unwrap_or_else(|| UNMATCHED.to_owned());
        let status = response.status().as_u16().to_string();
        state.metrics.requests.with_label_values(&[method, &route, &status]).observe(started.elapsed().as_secs_f64());
    }
    Ok(response)
}
