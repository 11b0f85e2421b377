//! Request bodies: read whole, at most [`MAX_BODY_BYTES`], before any handler runs.
//!
//! A client that sends too much must be able to read the 413. Closing the connection while it is
//! still writing makes the kernel reset it, and the client sees a broken pipe instead of the
//! answer; so the rest of an oversized body is read and thrown away, up to [`MAX_DRAINED_BYTES`]
//! and [`DRAIN_TIME`], before the 413 goes out. A body declared larger than that is refused at once,
//! unread, and the connection closed. A body that does not arrive within the client timeout is a
//! 408.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;

use super::{MAX_BODY_BYTES, error_response};
use crate::error::ErrorCode;

/// How much of an oversized body is read and discarded so its sender can read the refusal.
pub const MAX_DRAINED_BYTES: u64 = 8 * 1024 * 1024;

/// How long a sender of an oversized body is given to finish sending it.
const DRAIN_TIME: Duration = Duration::from_secs(10);

pub(super) async fn read_within_limit(
    State(client_timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_DRAINED_BYTES) {
        return too_large(true);
    }
    let (parts, mut body) = request.into_parts();
    // A body sent a byte at a time would hold its connection for ever.
    let read = tokio::time::timeout(client_timeout, read(&mut body)).await;
    match read {
        Ok(Read::Whole(kept)) => next.run(Request::from_parts(parts, Body::from(kept))).await,
        Ok(Read::TooLarge(received)) => {
            let drained = tokio::time::timeout(DRAIN_TIME, drain(&mut body, received)).await;
            too_large(!matches!(drained, Ok(true)))
        }
        Ok(Read::Broken) => error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the request body could not be read",
        ),
        Err(_) => {
            let mut response = error_response(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::BadUserInput,
                "the request body did not arrive in time",
            );
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// What reading a body up to the limit found.
enum Read {
    Whole(Vec<u8>),
    /// Over the limit after this many bytes; the rest is unread.
    TooLarge(u64),
    Broken,
}

async fn read(body: &mut Body) -> Read {
    let mut kept = Vec::new();
    let mut received = 0_u64;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Read::Broken;
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        received += data.len() as u64;
        if received > MAX_BODY_BYTES as u64 {
            return Read::TooLarge(received);
        }
        kept.extend_from_slice(&data);
    }
    Read::Whole(kept)
}

/// Reads and discards the rest of `body`; whether it ended within [`MAX_DRAINED_BYTES`].
async fn drain(body: &mut Body, mut received: u64) -> bool {
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return false;
        };
        if let Ok(data) = frame.into_data() {
            received += data.len() as u64;
            if received > MAX_DRAINED_BYTES {
                return false;
            }
        }
    }
    true
}

fn too_large(close: bool) -> Response {
    let mut response = error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::BadUserInput,
        "request body is larger than 1 MiB",
    );
    if close {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
