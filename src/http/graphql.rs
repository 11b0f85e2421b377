//! `POST /graphql` and `GET /graphql`.
//!
//! Transport rules: POST bodies must be `application/json` (with SameSite=Strict cookies this is
//! the CSRF defence: a cross-site form cannot send JSON), one operation per request (no batches),
//! and GET may carry queries only.

use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::forwarded::Caller;
use super::{AppState, error_response};
use tower_cookies::Cookies;

use crate::auth::session::{Authenticated, RequestKind};
use crate::error::ErrorCode;
use crate::graphql::loaders::Loaders;
use crate::graphql::{RequestServices, field_order};

pub(super) async fn post(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    cookies: Cookies,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_json(&headers) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "POST /graphql takes a JSON body: send Content-Type: application/json",
        );
    }
    if body.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[') {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "batched requests are not accepted: send one operation per request",
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &format!("not a GraphQL request: {err}"),
            );
        }
    };
    execute(&state, caller, &headers, cookies, request, Transport::Post).await
}

pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    cookies: Cookies,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or("")) {
        Ok(request) if !request.query.trim().is_empty() => request,
        Ok(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "GET /graphql takes the document in a `query` parameter",
            );
        }
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "GET /graphql takes `query`, and optionally `operationName` and `variables` (JSON)",
            );
        }
    };
    execute(&state, caller, &headers, cookies, request, Transport::Get).await
}

/// How the request arrived: GET may only read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Get,
    Post,
}

/// Whether the operation `request` would run is a query (a document that does not parse is
/// treated as one: its errors are reported by execution, in the usual shape).
fn runs_a_query(request: &mut async_graphql::Request) -> bool {
    let operation_name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return true;
    };
    match &document.operations {
        DocumentOperations::Single(operation) => operation.node.ty == OperationType::Query,
        DocumentOperations::Multiple(operations) => match &operation_name {
            Some(name) => operations
                .get(name.as_str())
                .is_none_or(|operation| operation.node.ty == OperationType::Query),
            None => operations
                .values()
                .all(|operation| operation.node.ty == OperationType::Query),
        },
    }
}

/// The answer for a document refused before execution: the GraphQL error shape, as execution
/// would give it.
fn refused(error: async_graphql::ServerError) -> Response {
    let mut response = Json(async_graphql::Response::from_errors(vec![error])).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// Most errors one response lists.
const MAX_ERRORS: usize = 50;

async fn execute(
    state: &AppState,
    caller: Caller,
    headers: &HeaderMap,
    cookies: Cookies,
    mut request: async_graphql::Request,
    transport: Transport,
) -> Response {
    // Before anything else is done for it (no session lookup, no parse by the engine).
    if let Err(error) = state.schemas.admit(&mut request) {
        return refused(error);
    }
    let kind = if runs_a_query(&mut request) {
        RequestKind::Read
    } else {
        RequestKind::Write
    };
    if transport == Transport::Get && kind == RequestKind::Write {
        let mut response = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    let origin = super::request_origin(&caller, headers);
    let authenticated = match super::session_of(state, &cookies, origin.clone(), kind).await {
        Ok(authenticated) => authenticated,
        Err(response) => return response,
    };
    let services = RequestServices {
        db: state.db.clone(),
        auth: state.auth,
        backups: state.backups.clone(),
        origin,
        cookies,
    };
    // Kept to write the response in the order the fields were asked for (see `field_order`):
    // admission parsed the document, and the engine executes that parse.
    let ordering = request.parsed_query().ok().cloned().map(|document| {
        (
            document,
            request.variables.clone(),
            request.operation_name.clone(),
        )
    });
    let mut request = request.data(services);
    let (schema, after_request) = match authenticated {
        Some(Authenticated {
            signed_in,
            after_request,
        }) => {
            let caching = kind == RequestKind::Read;
            request = request
                .data(Loaders::new(&signed_in.db, caching))
                .data(signed_in);
            (&state.schemas.signed_in, Some(after_request))
        }
        None => (&state.schemas.anonymous, None),
    };
    let mut response = schema.execute(request).await;
    if let Some((document, variables, operation_name)) = &ordering {
        field_order::reorder(
            &mut response.data,
            document,
            operation_name.as_deref(),
            variables,
        );
    }
    if let Some(after_request) = after_request {
        // The response is complete; a failure here (a commit of reads, a last-seen time) does
        // not change it.
        if let Err(err) = after_request.run().await {
            tracing::error!(error = %err, "ending the request's transaction failed");
        }
    }
    if response.errors.len() > MAX_ERRORS {
        // Validation reports every fault it finds; the first ones say what is wrong, and a
        // small document must not buy a response many times its size.
        let omitted = response.errors.len() - MAX_ERRORS;
        response.errors.truncate(MAX_ERRORS);
        response.errors.push(async_graphql::ServerError::new(
            format!("{omitted} more errors left out"),
            None,
        ));
    }
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|extensions| extensions.get("code").is_some());
        if !has_code {
            // What reaches here without a code was raised by the GraphQL engine itself (syntax,
            // validation, limits, input coercion): all the caller's to fix.
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::BadUserInput.as_str());
        }
    }
    let mut http_response = Json(response).into_response();
    // Answers are per user and may carry personal data: never cache them.
    http_response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    http_response
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}
