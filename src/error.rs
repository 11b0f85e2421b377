//! The one error type of the service, and its single mapping to GraphQL errors.
//!
//! Services return [`AppError`]; the GraphQL edge turns it into an error whose `extensions.code` is
//! one of [`ErrorCode`]. Internal causes are logged with their context and shown to clients only as
//! "internal error", so no SQL, path or stack trace ever reaches a response.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// The fixed set of `extensions.code` values clients can script against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    RateLimited,
    Internal,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::Internal => "INTERNAL",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    Unauthenticated,
    /// Unknown organisation or email, wrong password, deactivated account: one answer for all.
    #[error("invalid organisation, email or password")]
    InvalidCredentials,
    /// Too many failed sign-ins for this email or from this address.
    #[error("too many failed sign-ins: wait {retry_after_seconds} seconds and try again")]
    LockedOut { retry_after_seconds: i64 },
    #[error("missing permission {permission}")]
    Forbidden { permission: &'static str },
    /// After an administrator's reset, only `changePassword` (and `me`, `logout`) may run.
    #[error("password change required: call changePassword first")]
    PasswordChangeRequired,
    /// Also what another organisation's id produces: existence never leaks across tenants.
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    #[error("{message}")]
    BadUserInput {
        field: Option<&'static str>,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    /// An expensive operation asked for more often than its limit allows.
    #[error("{what}")]
    RateLimited {
        what: String,
        retry_after_seconds: i64,
    },
    /// Taking `requested` would leave less than is reserved at one place. A CONFLICT whose
    /// message names only what the caller may see: see [`InsufficientStock::message_for`].
    #[error("{}", .0.message_for(true, true, true))]
    InsufficientStock(Box<InsufficientStock>),
    #[error("database error: {0}")]
    Database(DbErr),
    #[error("{0}")]
    Internal(String),
}

impl From<DbErr> for AppError {
    /// Database errors are told apart by kind (the SQLSTATE or SQLite code the driver reports),
    /// never by their message text, which changes between versions and locales.
    fn from(err: DbErr) -> Self {
        // A unique key the service checked before inserting, taken by a request that won the
        // race between the check and the insert. Callers that know which key it is say so with
        // [`on_duplicate`]; this is the answer for any other.
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                return Self::Conflict(
                    "a record with the same key was written at the same time; try again".into(),
                );
            }
            // Every reference is checked before it is written, inside the organisation: what
            // still fails its foreign key was removed by a concurrent request.
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                return Self::Conflict(
                    "a record this refers to was changed at the same time; try again".into(),
                );
            }
            _ => {}
        }
        // Text PostgreSQL cannot store (a NUL byte, invalid encoding) is the caller's input, not
        // our failure: say so instead of logging an internal error anyone could trigger.
        if matches!(
            sqlstate(&err).as_deref(),
            Some(CHARACTER_NOT_IN_REPERTOIRE | UNTRANSLATABLE_CHARACTER)
        ) {
            return Self::BadUserInput {
                field: None,
                message: "text contains characters that cannot be stored".into(),
            };
        }
        Self::Database(err)
    }
}

/// SQLSTATE 22021: invalid byte sequence for the encoding (a NUL byte, broken UTF-8).
const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";
/// SQLSTATE 22P05: a character with no equivalent in the database's encoding.
const UNTRANSLATABLE_CHARACTER: &str = "22P05";

/// The error code the database reported (SQLSTATE on PostgreSQL, the extended result code on
/// SQLite), for the kinds [`DbErr::sql_err`] does not classify.
fn sqlstate(err: &DbErr) -> Option<String> {
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            inner
                .as_database_error()
                .and_then(|database| database.code())
                .map(|code| code.into_owned())
        }
        _ => None,
    }
}

/// For an insert or update guarded by a unique key the service has just checked: losing the
/// race to a concurrent request gets the same CONFLICT the check gives, by the key's name.
/// `.map_err(on_duplicate(|| format!("SKU {sku} is already used")))`
pub fn on_duplicate(message: impl FnOnce() -> String) -> impl FnOnce(DbErr) -> AppError {
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict(message()),
        _ => err.into(),
    }
}

impl AppError {
    pub fn bad_input(field: &'static str, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: Some(field),
            message: message.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated | Self::InvalidCredentials | Self::LockedOut { .. } => {
                ErrorCode::Unauthenticated
            }
            Self::Forbidden { .. } | Self::PasswordChangeRequired => ErrorCode::Forbidden,
            Self::NotFound { .. } => ErrorCode::NotFound,
            Self::BadUserInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) | Self::InsufficientStock(_) => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Database(_) | Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The message a client may see.
    pub fn public_message(&self) -> String {
        match self.code() {
            ErrorCode::Internal => "internal error".to_owned(),
            _ => self.to_string(),
        }
    }
}

impl AppError {
    /// The GraphQL error a client sees: public message plus `extensions.code`.
    pub fn into_graphql(self) -> async_graphql::Error {
        let err = self;
        if err.code() == ErrorCode::Internal {
            tracing::error!(error = %err, "internal error");
        }
        let code = err.code().as_str();
        async_graphql::Error::new(err.public_message()).extend_with(|_, ext| {
            ext.set("code", code);
            match &err {
                AppError::Forbidden { permission } => ext.set("permission", *permission),
                AppError::LockedOut {
                    retry_after_seconds,
                } => {
                    ext.set("reason", "LOCKED_OUT");
                    ext.set("retryAfterSeconds", *retry_after_seconds);
                }
                AppError::BadUserInput {
                    field: Some(field), ..
                } => ext.set("field", *field),
                AppError::RateLimited {
                    retry_after_seconds,
                    ..
                } => ext.set("retryAfterSeconds", *retry_after_seconds),
                // Not a missing permission: the client should send the user to changePassword.
                AppError::PasswordChangeRequired => ext.set("reason", "PASSWORD_CHANGE_REQUIRED"),
                _ => {}
            }
        })
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// What a shortfall is about. Moving stock is not seeing it: the SKU, the location and the
/// quantities are each named only to a caller who may view them, or the message would hand out
/// what the permissions hide (try to take a million, read how many there are).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsufficientStock {
    pub sku: String,
    pub location: String,
    pub available: i64,
    pub requested: i64,
}

impl InsufficientStock {
    pub fn message_for(&self, sees_product: bool, sees_location: bool, sees_stock: bool) -> String {
        let mut message = String::from("insufficient stock");
        if sees_product {
            message.push_str(&format!(" of {}", self.sku));
        }
        if sees_location {
            message.push_str(&format!(" at {}", self.location));
        }
        if sees_stock {
            message.push_str(&format!(
                ": {} available, {} requested",
                self.available, self.requested
            ));
        }
        message
    }
}
