//! The one error type of the service, and its single mapping to GraphQL errors.
//!
//! Services return [`AppError`]; the GraphQL edge turns it into an error whose `extensions.code` is
//! one of [`ErrorCode`]. Internal causes are logged with their context and shown to clients only as
//! "internal error", so no SQL, path or stack trace ever reaches a response.

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

/// The fixed set of `extensions.code` values clients can script against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
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
            Self::Internal => "INTERNAL",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    Unauthenticated,
    /// Wrong email, wrong password, unknown or deactivated account: one answer for all.
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("missing permission {permission}")]
    Forbidden { permission: &'static str },
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
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("{0}")]
    Internal(String),
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
            Self::Unauthenticated | Self::InvalidCredentials => ErrorCode::Unauthenticated,
            Self::Forbidden { .. } => ErrorCode::Forbidden,
            Self::NotFound { .. } => ErrorCode::NotFound,
            Self::BadUserInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) => ErrorCode::Conflict,
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
                AppError::BadUserInput {
                    field: Some(field), ..
                } => ext.set("field", *field),
                _ => {}
            }
        })
    }
}

pub type AppResult<T> = Result<T, AppError>;
