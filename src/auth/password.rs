//! PBKDF2-HMAC-SHA256 password hashing, always off the async runtime.

use pbkdf2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use pbkdf2::{Algorithm, Params, Pbkdf2};

use crate::error::{AppError, AppResult};

/// OWASP's 2023 figure for PBKDF2-HMAC-SHA256, and the `pbkdf2` crate's default.
pub const DEFAULT_ROUNDS: u32 = 600_000;

/// Shortest password accepted when it is the only factor (NIST SP 800-63B-4).
pub const MIN_LENGTH: usize = 15;
/// Longest password accepted; longer input is refused, never truncated.
pub const MAX_LENGTH: usize = 128;

/// Hashes and verifies passwords with a fixed round count.
#[derive(Clone, Copy, Debug)]
pub struct PasswordHasher {
    rounds: u32,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self {
            rounds: DEFAULT_ROUNDS,
        }
    }
}

impl PasswordHasher {
    pub fn with_rounds(rounds: u32) -> Self {
        Self { rounds }
    }

    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    /// Checks the length rules (counted in characters, as NIST asks).
    pub fn check_policy(password: &str) -> AppResult<()> {
        let length = password.chars().count();
        if length < MIN_LENGTH {
            return Err(AppError::bad_input(
                "password",
                format!("password must be at least {MIN_LENGTH} characters"),
            ));
        }
        if length > MAX_LENGTH {
            return Err(AppError::bad_input(
                "password",
                format!("password must be at most {MAX_LENGTH} characters"),
            ));
        }
        Ok(())
    }

    /// A PHC string with a fresh random 16-byte salt. Runs on the blocking pool: at 600,000 rounds
    /// one hash takes a core for a noticeable time.
    pub async fn hash(&self, password: String) -> AppResult<String> {
        let rounds = self.rounds;
        tokio::task::spawn_blocking(move || {
            let params = Params::new_with_output_len(rounds, 32)
                .map_err(|err| AppError::Internal(format!("pbkdf2 params: {err}")))?;
            let hasher = Pbkdf2::new(Algorithm::Pbkdf2Sha256, params);
            hasher
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|err| AppError::Internal(format!("pbkdf2: {err}")))
        })
        .await
        .map_err(|err| AppError::Internal(format!("hashing task: {err}")))?
    }

    /// Whether `password` matches the PHC string `stored` (constant-time comparison).
    pub async fn verify(&self, password: String, stored: String) -> AppResult<bool> {
        tokio::task::spawn_blocking(move || {
            let parsed = pbkdf2::phc::PasswordHash::new(&stored)
                .map_err(|err| AppError::Internal(format!("stored hash: {err}")))?;
            Ok(Pbkdf2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
        .map_err(|err| AppError::Internal(format!("hashing task: {err}")))?
    }
}
