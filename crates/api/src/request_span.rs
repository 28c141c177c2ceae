//! Each request's root span: `tracing-actix-web`'s default fields (but the
//! OpenTelemetry name and trace id), with the route recorded once routing has
//! found it. The default builder resolves the route before routing, matching
//! the path against every route's pattern a second time on every request, and
//! does so even when the span is disabled (3 % of the server's CPU per hold in
//! a `perf` profile at `RUST_LOG=warn`). Lines logged during a request carry
//! every field but the route; the span's close carries the route too.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // The macro evaluates the fields only for an enabled span.
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = Empty,
            http.target = %request.uri().path_and_query().map_or("", |p| p.as_str()),
            http.client_ip = %request.connection_info().realip_remote_addr().unwrap_or(""),
            http.user_agent = request.headers().get("User-Agent").and_then(|agent| agent.to_str().ok()),
            http.status_code = Empty,
            otel.kind = "server",
            otel.status_code = Empty,
            request_id = request.extensions().get::<RequestId>().copied().map(display),
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        if span.is_disabled() {
            return;
        }
        if let Ok(response) = outcome
            && let Some(route) = response.request().match_pattern()
        {
            span.record("http.route", route);
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::{App, HttpResponse, test, web};
    use tracing::field::{Field, Visit};
    use tracing::span::{Id, Record};
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    use super::RequestSpan;

    /// Every `http.route` recorded on a span after it was created.
    #[derive(Clone, Default)]
    struct RecordedRoutes(Arc<Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> Layer<S> for RecordedRoutes {
        fn on_record(&self, _span: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
            values.record(&mut self.clone());
        }
    }

    impl Visit for RecordedRoutes {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "http.route" {
                self.0.lock().unwrap().push(value.to_owned());
            }
        }

        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.record_str(field, &format!("{value:?}"));
        }
    }

    #[actix_web::test]
    async fn the_route_is_recorded_once_routing_found_it() {
        let routes = RecordedRoutes::default();
        let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(routes.clone()));
        let app = test::init_service(
            App::new()
                .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
                .route("/events/{id}/holds", web::post().to(HttpResponse::Created)),
        )
        .await;

        let held = test::call_service(&app, test::TestRequest::post().uri("/events/7/holds").to_request()).await;
        let unknown = test::call_service(&app, test::TestRequest::get().uri("/nowhere").to_request()).await;

        assert_eq!(held.status(), 201);
        assert_eq!(unknown.status(), 404);
        assert_eq!(*routes.0.lock().unwrap(), ["/events/{id}/holds"]);
    }
}
