//! `GET /.well-known/security.txt` (RFC 9116): where to report a vulnerability, until when the
//! file holds, in which languages, where it canonically lives and under which policy.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, SecondsFormat, Utc};

use super::AppState;

/// Where reports go unless configured: the address the security page names.
pub const DEFAULT_CONTACT: &str = "mailto:hello@vaskem.com";
/// The published disclosure policy (the security page's "Responsible Disclosure").
pub const DEFAULT_POLICY: &str = "https://vaskem.com/security";
pub const DEFAULT_LANGUAGES: &str = "en";
/// RFC 9116 advises an Expires less than a year ahead; half a year keeps it well inside.
pub const DEFAULT_EXPIRES_DAYS: u32 = 180;

/// What the file says; every field configurable on `vaskem serve`.
#[derive(Clone, Debug, clap::Args)]
pub struct SecurityTxt {
    /// Where to report a vulnerability (RFC 9116 `Contact`): a `mailto:`, `https://` or `tel:`
    /// URI; several separated by commas, most preferred first.
    #[arg(
        long = "security-contact",
        env = "VASKEM_SECURITY_CONTACT",
        value_delimiter = ',',
        default_value = DEFAULT_CONTACT,
        value_parser = contact
    )]
    pub contacts: Vec<String>,
    /// The vulnerability disclosure policy's `https://` URL (RFC 9116 `Policy`).
    #[arg(
        long = "security-policy",
        env = "VASKEM_SECURITY_POLICY",
        default_value = DEFAULT_POLICY,
        value_parser = https_url
    )]
    pub policy: String,
    /// Languages a report may be written in (RFC 9116 `Preferred-Languages`), comma-separated
    /// language tags.
    #[arg(
        long = "security-languages",
        env = "VASKEM_SECURITY_LANGUAGES",
        default_value = DEFAULT_LANGUAGES,
        value_parser = languages
    )]
    pub languages: String,
    /// How many days ahead the file's `Expires` lies, counted from each request (1 to 364).
    #[arg(
        long = "security-expires-days",
        env = "VASKEM_SECURITY_EXPIRES_DAYS",
        default_value_t = DEFAULT_EXPIRES_DAYS,
        value_parser = clap::value_parser!(u32).range(1..=364)
    )]
    pub expires_days: u32,
    /// The service's public address (`https://wms.example.com`), which `Canonical` names;
    /// without it, the address the request was sent to (its Host), over HTTPS.
    #[arg(long = "public-url", env = "VASKEM_PUBLIC_URL", value_parser = https_url)]
    pub public_url: Option<String>,
}

impl Default for SecurityTxt {
    fn default() -> Self {
        Self {
            contacts: vec![DEFAULT_CONTACT.to_owned()],
            policy: DEFAULT_POLICY.to_owned(),
            languages: DEFAULT_LANGUAGES.to_owned(),
            expires_days: DEFAULT_EXPIRES_DAYS,
            public_url: None,
        }
    }
}

/// A value that fits on its field's one line: no control characters (a newline would add a
/// field of the caller's choosing), no spaces.
fn one_token(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must be one word: no spaces or control characters".into());
    }
    Ok(value.to_owned())
}

fn contact(value: &str) -> Result<String, String> {
    let value = one_token(value)?;
    if ["mailto:", "https://", "tel:"]
        .iter()
        .any(|scheme| value.starts_with(scheme) && value.len() > scheme.len())
    {
        Ok(value)
    } else {
        Err("a contact is a mailto:, https:// or tel: URI".into())
    }
}

fn https_url(value: &str) -> Result<String, String> {
    let value = one_token(value)?;
    match value.strip_prefix("https://") {
        Some(rest) if !rest.is_empty() => Ok(value.trim_end_matches('/').to_owned()),
        _ => Err("must be an https:// URL".into()),
    }
}

fn languages(value: &str) -> Result<String, String> {
    let tags: Vec<&str> = value.split(',').map(str::trim).collect();
    let valid = |tag: &str| {
        !tag.is_empty()
            && tag.len() <= 35
            && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if tags.iter().all(|tag| valid(tag)) {
        Ok(tags.join(", "))
    } else {
        Err("languages are comma-separated language tags, e.g. en, af".into())
    }
}

/// The path the file is served at.
pub const PATH: &str = "/.well-known/security.txt";

/// The request's host if it is a plain host name or address (with an optional port): anything
/// else is not repeated into the file.
pub(crate) fn plain_host(headers: &HeaderMap) -> Option<&str> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    plain.then_some(host)
}

impl SecurityTxt {
    /// The file's text for a request that arrived with `headers`.
    pub fn render(&self, headers: &HeaderMap) -> String {
        let mut text = String::new();
        for contact in &self.contacts {
            text.push_str(&format!("Contact: {contact}\n"));
        }
        let expires = Utc::now() + Duration::days(i64::from(self.expires_days));
        text.push_str(&format!(
            "Expires: {}\n",
            expires.to_rfc3339_opts(SecondsFormat::Secs, true)
        ));
        text.push_str(&format!("Preferred-Languages: {}\n", self.languages));
        let base = match &self.public_url {
            Some(url) => Some(url.clone()),
            None => plain_host(headers).map(|host| format!("https://{host}")),
        };
        if let Some(base) = base {
            text.push_str(&format!("Canonical: {base}{PATH}\n"));
        }
        text.push_str(&format!("Policy: {}\n", self.policy));
        text
    }
}

pub(super) async fn serve(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let mut response = state.security_txt.render(&headers).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    // Expires moves with every day; a day's caching keeps it well inside its year.
    response_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    // Canonical names the requested host when --public-url is not set: a shared cache must not
    // hand one host's file to another.
    response_headers.insert(header::VARY, HeaderValue::from_static("host"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_values_cannot_break_the_file() {
        assert!(contact("mailto:security@example.com").is_ok());
        assert!(contact("https://example.com/report").is_ok());
        assert!(contact("javascript:alert(1)").is_err());
        assert!(contact("mailto:").is_err());
        // A newline would add a field of the configurer's choosing.
        assert!(contact("mailto:a@b.c\nPolicy: https://evil.example").is_err());
        assert!(https_url("http://example.com").is_err());
        assert_eq!(
            https_url("https://wms.example/").as_deref(),
            Ok("https://wms.example")
        );
        assert_eq!(languages("en,af").as_deref(), Ok("en, af"));
        assert!(languages("en;q=1").is_err());
    }
}
