//! Who is calling, and over what: the connection's own word, or a trusted proxy's.
//!
//! Behind nginx every request comes from the proxy's address over plain HTTP, so the caller's
//! address and scheme arrive as `X-Forwarded-For` and `X-Forwarded-Proto`. Those headers are
//! whatever the sender wrote, so they are believed only from the proxies named with
//! `--trust-proxy`; from anyone else they are removed before any handler runs. The result is one
//! [`Caller`] per request that lockouts, audit events, redirects and HSTS all read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::OverHttps;

const X_FORWARDED_FOR: &str = "x-forwarded-for";
const X_FORWARDED_PROTO: &str = "x-forwarded-proto";

/// Two years, subdomains included: what browsers' preload lists ask for.
const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000; includeSubDomains";

/// Whose forwarded headers count, and where pages go when a proxy reports plain HTTP.
#[derive(Clone, Debug, Default)]
pub struct ProxyRules {
    /// The reverse proxies (addresses and ranges) whose forwarded headers are believed.
    pub trusted: Vec<ipnet::IpNet>,
    /// The service's public HTTPS address (`--public-url`), for redirects; without it, the host
    /// the request named.
    pub public_url: Option<String>,
}

impl ProxyRules {
    fn trusts(&self, address: IpAddr) -> bool {
        self.trusted.iter().any(|range| range.contains(&address))
    }
}

/// The request's caller as the service believes it.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    /// The client's address: the TCP peer, or the address a trusted proxy appended last to
    /// `X-Forwarded-For`. `None` when a trusted proxy's own entry is no address: never an earlier
    /// entry, which is only what the client claimed.
    pub address: Option<IpAddr>,
    /// The client reached us over HTTPS: the built-in TLS listener, or a trusted proxy that
    /// says `X-Forwarded-Proto: https`.
    pub https: bool,
}

/// Works out the [`Caller`], answers a trusted proxy's plain-HTTP request as the redirect
/// listener would (pages to HTTPS, the API refused), and sets HSTS on every answer over HTTPS.
pub async fn resolve(
    State(rules): State<Arc<ProxyRules>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let over_tls = request.extensions().get::<OverHttps>().is_some();
    let caller = match peer {
        Some(peer) if rules.trusts(peer) => {
            let headers = request.headers();
            let scheme = last_entry(headers, X_FORWARDED_PROTO);
            if !over_tls && scheme.is_some_and(|scheme| scheme.eq_ignore_ascii_case("http")) {
                return super::redirect::answer(rules.public_url.as_deref(), &request);
            }
            Caller {
                address: last_entry(headers, X_FORWARDED_FOR)
                    .map_or(Some(peer), |entry| entry.parse().ok()),
                https: over_tls
                    || scheme.is_some_and(|scheme| scheme.eq_ignore_ascii_case("https")),
            }
        }
        _ => {
            // Not a proxy we know: its forwarded headers are its own claims, and no handler
            // should ever be able to read them as anything else.
            request.headers_mut().remove(X_FORWARDED_FOR);
            request.headers_mut().remove(X_FORWARDED_PROTO);
            Caller {
                address: peer,
                https: over_tls,
            }
        }
    };
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    // Never over plain HTTP, where a browser ignores it anyway.
    if caller.https {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
    response
}

/// The last comma-separated entry of the last `name` header: the one the nearest proxy wrote.
/// A header that is present but whose last entry is empty or unreadable is `Some("")`, so that a
/// proxy's unusable entry is never mistaken for no entry at all.
fn last_entry<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let value = headers.get_all(name).iter().next_back()?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|value| value.rsplit(',').next())
            .map_or("", str::trim),
    )
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::last_entry;

    #[test]
    fn the_nearest_proxys_entry_is_the_last_one() {
        let mut headers = HeaderMap::new();
        assert_eq!(last_entry(&headers, "x-forwarded-for"), None);
        headers.append("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("10.0.0.1, 198.51.100.7 "),
        );
        assert_eq!(
            last_entry(&headers, "x-forwarded-for"),
            Some("198.51.100.7")
        );
        headers.append("x-forwarded-for", HeaderValue::from_static("203.0.113.9, "));
        assert_eq!(last_entry(&headers, "x-forwarded-for"), Some(""));
    }
}
