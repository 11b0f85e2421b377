//! `/.well-known/security.txt`, read as RFC 9116 reads it: every line a comment, blank or a
//! known field; `Contact` at least once, `Expires` exactly once (RFC 3339, in the future, less
//! than a year ahead); `Preferred-Languages`, `Canonical` and `Policy` at most once each; served
//! as `text/plain; charset=utf-8`. Each field follows the configuration.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use vaskem::http::security_txt::SecurityTxt;

use crate::on_both_databases;
use crate::support::app::TestOptions;
use crate::support::{Backend, TestApp, TestDatabase};

on_both_databases!(security_txt_follows_rfc_9116_and_its_configuration);

/// The fields RFC 9116 defines, with how often each may appear: (min, max).
const FIELDS: &[(&str, usize, usize)] = &[
    ("Acknowledgments", 0, usize::MAX),
    ("Canonical", 0, 1),
    ("Contact", 1, usize::MAX),
    ("Encryption", 0, usize::MAX),
    ("Expires", 1, 1),
    ("Hiring", 0, usize::MAX),
    ("Policy", 0, 1),
    ("Preferred-Languages", 0, 1),
];

/// Parses the file as RFC 9116 section 4 does and checks its fields' counts; returns each
/// field's values.
fn parse(text: &str) -> BTreeMap<String, Vec<String>> {
    assert!(text.ends_with('\n'), "lines end with a newline: {text:?}");
    let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("not a field line: {line:?}"));
        let known = FIELDS
            .iter()
            .find(|(field, ..)| field.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("not an RFC 9116 field: {name}"));
        assert!(!value.trim().is_empty(), "{name} is empty");
        assert!(!value.contains(char::is_control), "{name}: {value:?}");
        fields
            .entry(known.0.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    for (name, min, max) in FIELDS {
        let count = fields.get(*name).map_or(0, Vec::len);
        assert!(
            (*min..=*max).contains(&count),
            "{name} appears {count} times: {text}"
        );
    }
    fields
}

async fn fetch(app: &TestApp, host: Option<&str>) -> (String, String) {
    let mut request = app.client.get(app.url(vaskem::http::security_txt::PATH));
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let response = request.send().await.expect("security.txt");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["vary"], "host");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    (content_type, response.text().await.expect("text"))
}

async fn security_txt_follows_rfc_9116_and_its_configuration(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (content_type, text) = fetch(&app, Some("wms.example.com")).await;
    assert_eq!(content_type, "text/plain; charset=utf-8");
    let fields = parse(&text);
    assert_eq!(fields["Contact"], ["mailto:hello@vaskem.com"]);
    assert_eq!(fields["Preferred-Languages"], ["en"]);
    assert_eq!(
        fields["Canonical"],
        ["https://wms.example.com/.well-known/security.txt"]
    );
    assert_eq!(fields["Policy"], ["https://vaskem.com/security"]);
    let expires: DateTime<Utc> = DateTime::parse_from_rfc3339(&fields["Expires"][0])
        .expect("Expires is RFC 3339")
        .into();
    let ahead = expires - Utc::now();
    assert!(
        ahead > chrono::Duration::days(30) && ahead < chrono::Duration::days(365),
        "Expires is in the future and less than a year ahead: {expires}"
    );

    // A Host that is no plain host name is not repeated into the file.
    let (_, text) = fetch(&app, Some("evil.example\">")).await;
    assert!(!parse(&text).contains_key("Canonical"), "{text}");

    // Every field follows the configuration.
    let database = TestDatabase::new(backend).await;
    let configured = TestApp::start_configured(
        std::sync::Arc::new(database),
        TestOptions {
            security_txt: SecurityTxt {
                contacts: vec![
                    "mailto:security@wms.example".into(),
                    "https://wms.example/report".into(),
                ],
                policy: "https://wms.example/disclosure".into(),
                languages: "en, af".into(),
                expires_days: 30,
                public_url: Some("https://wms.example".into()),
            },
            ..TestOptions::default()
        },
    )
    .await;
    let (_, text) = fetch(&configured, Some("other.example")).await;
    let fields = parse(&text);
    assert_eq!(
        fields["Contact"],
        ["mailto:security@wms.example", "https://wms.example/report"]
    );
    assert_eq!(fields["Policy"], ["https://wms.example/disclosure"]);
    assert_eq!(fields["Preferred-Languages"], ["en, af"]);
    assert_eq!(
        fields["Canonical"],
        ["https://wms.example/.well-known/security.txt"]
    );
    let expires: DateTime<Utc> = DateTime::parse_from_rfc3339(&fields["Expires"][0])
        .expect("RFC 3339")
        .into();
    let ahead = expires - Utc::now();
    assert!(ahead > chrono::Duration::days(29) && ahead <= chrono::Duration::days(30));
}
