//! The HTTP edge: routes, request limits, and the GraphQL transport rules.

mod backups;
mod body;
pub mod forwarded;
mod graphiql;
mod graphql;
pub mod redirect;
pub mod security_txt;
pub mod server;
pub mod tls;

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{from_fn_with_state, map_request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, extract::State};
use serde_json::json;
use tower::ServiceBuilder;
use tower_cookies::CookieManagerLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::AuthSettings;
use crate::error::ErrorCode;
use crate::graphql::Schemas;
use crate::tenancy::Database;

/// The request id header, set on every request and echoed on every response.
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// Largest request body accepted, in bytes (1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// No page of the service uses a browser feature that needs a grant: every powerful one is
/// switched off, for the page and anything it could embed.
const PERMISSIONS_POLICY_NONE: &str = "accelerometer=(), ambient-light-sensor=(), autoplay=(), \
     battery=(), bluetooth=(), camera=(), display-capture=(), encrypted-media=(), \
     fullscreen=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), \
     magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), \
     publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), \
     web-share=(), xr-spatial-tracking=()";

/// Another site's window may not hold a reference to ours (`window.opener`), nor load our
/// responses as resources: both keep a signed-in page out of cross-origin reach.
const PERMISSIONS_POLICY: header::HeaderName =
    header::HeaderName::from_static("permissions-policy");
const CROSS_ORIGIN_OPENER_POLICY: header::HeaderName =
    header::HeaderName::from_static("cross-origin-opener-policy");
const CROSS_ORIGIN_RESOURCE_POLICY: header::HeaderName =
    header::HeaderName::from_static("cross-origin-resource-policy");

/// Responses that are not pages load nothing and may not be framed.
const API_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Marks a request that arrived over the built-in TLS listener.
#[derive(Clone, Copy, Debug)]
pub struct OverHttps;

/// Everything a request handler may use.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    pub schemas: Schemas,
    pub auth: AuthSettings,
    /// The reverse proxies (addresses and ranges) whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto` are believed (see [`forwarded`]); from anyone else they are ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a client has to send a request body (the headers' limit is the server's).
    pub client_timeout: std::time::Duration,
    /// What `/.well-known/security.txt` says.
    pub security_txt: security_txt::SecurityTxt,
    /// Where and with which key backups are written.
    pub backups: Arc<crate::service::backup::requests::BackupSettings>,
}

/// The whole service as a router, so tests run exactly what production runs.
pub fn app(state: AppState) -> Router {
    let client_timeout = state.client_timeout;
    let proxy_rules = Arc::new(forwarded::ProxyRules {
        trusted: state.trusted_proxies.clone(),
        public_url: state.security_txt.public_url.clone(),
    });
    let state = Arc::new(state);
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphiql", get(graphiql::page))
        .route("/graphiql/assets/{file}", get(graphiql::asset))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(security_txt::PATH, get(security_txt::serve))
        .route("/backups/{handle}", get(backups::download))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(CookieManagerLayer::new())
        .layer(
            // Outermost first. Every response, refusals included, passes through the request id
            // and security header layers: nothing that answers early sits outside them.
            ServiceBuilder::new()
                .layer(map_request(drop_unusable_request_id))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(API_CONTENT_SECURITY_POLICY),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    PERMISSIONS_POLICY,
                    HeaderValue::from_static(PERMISSIONS_POLICY_NONE),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    CROSS_ORIGIN_OPENER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    CROSS_ORIGIN_RESOURCE_POLICY,
                    HeaderValue::from_static("same-origin"),
                ))
                // Inside the header layers, so its early answers (a proxy's plain-HTTP request)
                // carry them too; outside the rest, so HSTS reaches every answer over HTTPS.
                .layer(from_fn_with_state(proxy_rules, forwarded::resolve))
                .layer(CatchPanicLayer::custom(|_| {
                    error_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        ErrorCode::Internal,
                        "internal error",
                    )
                }))
                .layer(from_fn_with_state(client_timeout, body::read_within_limit)),
        )
}

/// A request id from the client (or nginx) is kept for correlation only if it is short and plain;
/// anything else is dropped so a fresh one is made, and never reaches the logs or the audit log.
async fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = request.headers().get(REQUEST_ID).map(|value| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 64
            && bytes
                .iter()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:".contains(byte))
    });
    if usable == Some(false) {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

/// The span every request's logs sit in: method, path (never the query string, which can carry
/// GraphQL variables) and request id.
fn request_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

/// A GraphQL-shaped error document for failures outside GraphQL execution.
pub(crate) fn error_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(body),
    )
        .into_response()
}

/// Where a request came from, for the audit log: the caller's address and the request id.
pub(crate) fn request_origin(
    caller: &forwarded::Caller,
    headers: &axum::http::HeaderMap,
) -> crate::tenancy::RequestOrigin {
    crate::tenancy::RequestOrigin {
        client_addr: caller.address.map(|address| address.to_string()),
        request_id: headers
            .get(REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    }
}

/// The session the request's cookie names, if it is live (None without a cookie or with a dead
/// one); a 503 answer when the check itself failed.
pub(crate) async fn session_of(
    state: &AppState,
    cookies: &tower_cookies::Cookies,
    origin: crate::tenancy::RequestOrigin,
    kind: crate::auth::session::RequestKind,
) -> Result<Option<crate::auth::session::Authenticated>, Response> {
    let Some(cookie) = cookies.get(crate::auth::session::SESSION_COOKIE) else {
        return Ok(None);
    };
    crate::auth::session::authenticate(
        &state.db,
        cookie.value(),
        &state.auth.sessions,
        origin,
        kind,
    )
    .await
    .map_err(|err| {
        tracing::error!(error = %err, "session check failed");
        error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal,
            "internal error",
        )
    })
}

/// Unknown paths answer in the same shape as everything else.
async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such path")
}

/// A known path asked with a method it does not take.
async fn method_not_allowed() -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::BadUserInput,
        "this path does not take that method",
    )
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
