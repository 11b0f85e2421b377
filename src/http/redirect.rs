//! `--redirect-http ADDR`: a plain-HTTP listener that sends pages to HTTPS and refuses the API.
//!
//! A browser that types the bare address gets a permanent redirect (308, which keeps the method)
//! to the same host, path and query over HTTPS. A request to the API is refused instead: it has
//! already sent its credentials or body in clear, and a redirect would teach clients that doing
//! so works (OWASP ASVS 5, 4.1.2). Nothing here reads a cookie, a body or the database.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error_response;
use crate::error::ErrorCode;

/// The redirecting service. `public_url` (`https://wms.example:8443`) is where pages go; without
/// it, the host the request named, on HTTPS's standard port.
pub fn app(public_url: Option<String>) -> Router {
    Router::new().fallback(move |request: Request| {
        let public_url = public_url.clone();
        async move { answer(public_url.as_deref(), &request) }
    })
}

pub(super) fn answer(public_url: Option<&str>, request: &Request) -> Response {
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    let is_page = matches!(*request.method(), Method::GET | Method::HEAD)
        && !request.uri().path().starts_with("/graphql");
    if !is_page {
        return error_response(
            StatusCode::FORBIDDEN,
            ErrorCode::BadUserInput,
            "the API answers over HTTPS only: what this request sent in clear (a session \
             cookie, a password) should be treated as exposed; send it again over https://",
        );
    }
    let base = match public_url {
        Some(url) => url.to_owned(),
        None => match super::security_txt::plain_host(request.headers()) {
            Some(host) => format!("https://{}", host_without_port(host)),
            None => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    "a Host header naming this service is required",
                );
            }
        },
    };
    let Ok(location) = HeaderValue::from_str(&format!("{base}{path_and_query}")) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "unusable request target",
        );
    };
    (
        StatusCode::PERMANENT_REDIRECT,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
    )
        .into_response()
}

/// `wms.example:8080` → `wms.example`; `[::1]:8080` → `[::1]`.
fn host_without_port(host: &str) -> &str {
    match host.rfind(':') {
        Some(colon)
            if !host[colon..].contains(']')
                && (host.starts_with('[') || host.matches(':').count() == 1) =>
        {
            &host[..colon]
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::host_without_port;

    #[test]
    fn the_port_goes_and_the_host_stays() {
        assert_eq!(host_without_port("wms.example:8080"), "wms.example");
        assert_eq!(host_without_port("wms.example"), "wms.example");
        assert_eq!(host_without_port("[::1]:8080"), "[::1]");
        assert_eq!(host_without_port("[::1]"), "[::1]");
        assert_eq!(host_without_port("127.0.0.1:80"), "127.0.0.1");
    }
}
