//! `GET /backups/{handle}`: the download of a backup `exportBackup` asked for.
//!
//! The handle alone is not enough: the request must carry a session of the same organisation
//! whose user holds BACKUPS_DOWNLOAD now (a handle leaked from a browser's history is useless
//! without one, and a revoked permission stops downloads at once). Another organisation's handle
//! answers exactly like one that does not exist. The file is streamed from disk, never held in
//! memory, as `application/json` with `Cache-Control: no-store` and `Content-Disposition:
//! attachment` named after the organisation and the time of the request.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncReadExt;
use tower_cookies::Cookies;

use super::forwarded::Caller;
use super::{AppState, error_response};
use crate::auth::permission::Permission;
use crate::auth::session::{Authenticated, RequestKind, SignedIn};
use crate::error::{AppError, ErrorCode};
use crate::service::backup::requests::{self, DownloadRefused};
use crate::service::organisations;

/// How much of the file one chunk of the response carries.
const CHUNK: usize = 256 * 1024;

pub(super) async fn download(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    cookies: Cookies,
    headers: axum::http::HeaderMap,
    Path(handle): Path<String>,
) -> Response {
    let origin = super::request_origin(&caller, &headers);
    let authenticated = match super::session_of(&state, &cookies, origin, RequestKind::Read).await {
        Ok(authenticated) => authenticated,
        Err(response) => return response,
    };
    let Some(Authenticated {
        signed_in,
        after_request,
    }) = authenticated
    else {
        return error_response(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "sign in first: a backup is downloaded with a session of its organisation",
        );
    };
    let response = answer(&state, &signed_in, &handle).await;
    if let Err(err) = after_request.run().await {
        tracing::error!(error = %err, "ending the request's transaction failed");
    }
    response
}

async fn answer(state: &AppState, signed_in: &SignedIn, handle: &str) -> Response {
    if let Err(err) = signed_in.require(Permission::BackupsDownload) {
        return failure(&err);
    }
    // Only what a handle can look like reaches the database.
    if handle.len() != 64 || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
        return failure(&AppError::NotFound { entity: "backup" });
    }
    let backup = match requests::for_download(&signed_in.db, handle).await {
        Ok(Ok(backup)) => backup,
        Ok(Err(refused)) => {
            let status = match refused {
                DownloadRefused::NotReady | DownloadRefused::Failed => StatusCode::CONFLICT,
                DownloadRefused::Expired(_) => StatusCode::GONE,
            };
            return error_response(status, ErrorCode::Conflict, &refused.to_string());
        }
        Err(err) => return failure(&err),
    };
    let organisation = match organisations::current(&signed_in.db).await {
        Ok(organisation) => organisation,
        Err(err) => return failure(&err),
    };
    let path = requests::file_of(&state.backups.dir, &backup);
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(err) => {
            tracing::error!(path = %path.display(), error = %err, "a READY backup's file is missing");
            return error_response(
                StatusCode::GONE,
                ErrorCode::Conflict,
                "this backup's file is no longer on the server; ask for a new one",
            );
        }
    };
    if let Err(err) = requests::record_download(&signed_in.db, &backup).await {
        return failure(&err);
    }
    let name = format!(
        "vaskem-{}-{}.json",
        organisation.slug,
        backup.requested_at.format("%Y%m%dT%H%M%SZ")
    );
    let stream = futures_util::stream::try_unfold(file, |mut file| async move {
        let mut buffer = vec![0_u8; CHUNK];
        let read = file.read(&mut buffer).await?;
        if read == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        buffer.truncate(read);
        Ok(Some((Bytes::from(buffer), file)))
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    if let Some(size) = backup.byte_size
        && let Ok(length) = HeaderValue::from_str(&size.to_string())
    {
        headers.insert(header::CONTENT_LENGTH, length);
    }
    response
}

/// An error as the API's other answers give it, with the matching HTTP status.
fn failure(err: &AppError) -> Response {
    let status = match err.code() {
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::BadUserInput => StatusCode::BAD_REQUEST,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Internal => {
            tracing::error!(error = %err, "backup download failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    error_response(status, err.code(), &err.public_message())
}
