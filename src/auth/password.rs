//! PBKDF2-HMAC-SHA256 password hashing, always off the async runtime, and the password rules.
//!
//! Rules follow NIST SP 800-63B-4 and OWASP ASVS 5: a minimum length (15 by default for a password
//! used alone, never below 8), up to 128 characters accepted and nothing truncated, no composition
//! rules, a refusal list of common passwords shipped with the code, and a strength estimate
//! (zxcvbn): at the 15-character minimum the list alone catches almost nothing, while
//! `aaaaaaaaaaaaaaa` or `qwertyuiopasdfgh` are guessed at once by pattern.

use std::collections::HashSet;
use std::sync::LazyLock;

use pbkdf2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use pbkdf2::{Algorithm, Params, Pbkdf2};

use crate::error::{AppError, AppResult};

/// OWASP's 2023 figure for PBKDF2-HMAC-SHA256, and the `pbkdf2` crate's default.
pub const DEFAULT_ROUNDS: u32 = 600_000;

/// Shortest password accepted when it is the only factor (NIST SP 800-63B-4).
pub const DEFAULT_MIN_LENGTH: usize = 15;
/// No configuration may go below this.
pub const LOWEST_MIN_LENGTH: usize = 8;
/// Salt length for new hashes, in bytes.
pub const SALT_BYTES: usize = 16;
/// Longest password accepted; longer input is refused, never truncated.
pub const MAX_LENGTH: usize = 128;
/// Lowest zxcvbn score accepted by default (0 to 4; 3 is "safely unguessable: moderate
/// protection from offline slow-hash scenario").
pub const DEFAULT_MIN_SCORE: u8 = 3;

static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

/// Hashes and verifies passwords, and applies the password rules.
#[derive(Clone, Copy, Debug)]
pub struct PasswordHasher {
    rounds: u32,
    min_length: usize,
    min_score: u8,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self {
            rounds: DEFAULT_ROUNDS,
            min_length: DEFAULT_MIN_LENGTH,
            min_score: DEFAULT_MIN_SCORE,
        }
    }
}

impl PasswordHasher {
    /// `min_length` is raised to [`LOWEST_MIN_LENGTH`] if set lower.
    pub fn new(rounds: u32, min_length: usize) -> Self {
        Self {
            rounds,
            min_length: min_length.max(LOWEST_MIN_LENGTH),
            min_score: DEFAULT_MIN_SCORE,
        }
    }

    /// The lowest zxcvbn score (0 to 4) a new password must reach.
    pub fn with_min_score(self, min_score: u8) -> Self {
        Self {
            min_score: min_score.min(4),
            ..self
        }
    }

    pub fn with_rounds(rounds: u32) -> Self {
        Self::new(rounds, DEFAULT_MIN_LENGTH)
    }

    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    /// Checks a new password against the rules (length counted in characters, as NIST asks).
    pub fn check_policy(&self, password: &str, email: &str) -> AppResult<()> {
        let length = password.chars().count();
        let min_length = self.min_length;
        if length < min_length {
            return Err(AppError::bad_input(
                "password",
                format!("password must be at least {min_length} characters"),
            ));
        }
        if length > MAX_LENGTH {
            return Err(AppError::bad_input(
                "password",
                format!("password must be at most {MAX_LENGTH} characters"),
            ));
        }
        let lowered = password.to_lowercase();
        if COMMON_PASSWORDS.contains(lowered.as_str()) {
            return Err(AppError::bad_input(
                "password",
                "this password is on the list of commonly used passwords; choose another",
            ));
        }
        let local_part = email.split('@').next().unwrap_or_default().to_lowercase();
        if lowered == email.to_lowercase() || (local_part.len() >= 4 && lowered == local_part) {
            return Err(AppError::bad_input(
                "password",
                "the password must not be the email address",
            ));
        }
        self.check_strength(password, email)
    }

    /// Refuses a password zxcvbn scores below the minimum, passing on its advice. The email and
    /// its parts count as known to an attacker.
    fn check_strength(&self, password: &str, email: &str) -> AppResult<()> {
        let hints: Vec<&str> = email
            .split(['@', '.', '-', '_', '+'])
            .filter(|part| !part.is_empty())
            .chain(std::iter::once(email))
            .collect();
        let estimate = zxcvbn::zxcvbn(password, &hints);
        let score = u8::from(estimate.score());
        if score >= self.min_score {
            return Ok(());
        }
        let mut message = format!(
            "this password is too easy to guess (strength {score} of 4, at least {} needed)",
            self.min_score
        );
        if let Some(feedback) = estimate.feedback() {
            if let Some(warning) = feedback.warning() {
                message.push_str(&format!(": {warning}"));
            }
            for suggestion in feedback.suggestions() {
                message.push_str(&format!(" {suggestion}"));
            }
        }
        Err(AppError::bad_input("password", message))
    }

    /// Whether a stored hash is weaker than what this hasher makes now (fewer rounds, another
    /// algorithm, a shorter salt or output), so it should be replaced at the next sign-in.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(parsed) = pbkdf2::phc::PasswordHash::new(stored) else {
            return true;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        parsed.algorithm.as_str() != "pbkdf2-sha256"
            || params.rounds() < self.rounds
            || params.output_len() < 32
            || parsed
                .salt
                .is_none_or(|salt| salt.as_ref().len() < SALT_BYTES)
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

/// A random password for first sign-in (24 characters from a 56-letter alphabet without
/// look-alikes: about 139 bits). Shown once, to the person who must pass it on.
pub fn generate() -> AppResult<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut password = String::with_capacity(24);
    while password.len() < 24 {
        let mut byte = [0_u8; 1];
        getrandom::fill(&mut byte)
            .map_err(|err| AppError::Internal(format!("no randomness: {err}")))?;
        // Rejection sampling keeps every letter equally likely.
        let index = usize::from(byte[0]);
        if index < ALPHABET.len() * (256 / ALPHABET.len()) {
            password.push(char::from(ALPHABET[index % ALPHABET.len()]));
        }
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_follow_nist() {
        let hasher = PasswordHasher::default();
        let email = "ops@acme.example";
        assert!(hasher.check_policy("fourteen chars", email).is_err());
        assert!(hasher.check_policy("fifteen chars!!", email).is_ok());
        // No composition rules: a long lower-case phrase is fine; spaces count.
        assert!(
            hasher
                .check_policy("correct horse battery staple", email)
                .is_ok()
        );
        let long: String = "violet tractor umbrella ".repeat(6);
        assert!(hasher.check_policy(&long[..128], email).is_ok());
        assert!(hasher.check_policy(&"x".repeat(129), email).is_err());
        // Length is in characters, not bytes.
        let lenient = PasswordHasher::default().with_min_score(0);
        assert!(lenient.check_policy(&"é".repeat(15), email).is_ok());
        assert!(lenient.check_policy(&"é".repeat(14), email).is_err());
        assert!(hasher.check_policy("ops@acme.example", email).is_err());
    }

    #[test]
    fn common_passwords_are_refused() {
        let hasher = PasswordHasher::new(1_000, 8);
        assert!(COMMON_PASSWORDS.len() > 5_000);
        assert!(hasher.check_policy("password123", "a@b.example").is_err());
        assert!(hasher.check_policy("PassWord123", "a@b.example").is_err());
        assert!(
            hasher
                .check_policy("1q2w3e4r5t6y7u8i9o0p", "a@b.example")
                .is_err()
        );
        assert!(
            hasher
                .check_policy("violet tractor umbrella", "a@b.example")
                .is_ok()
        );
    }

    #[test]
    fn guessable_passwords_of_full_length_are_refused() {
        let hasher = PasswordHasher::default();
        for weak in [
            "aaaaaaaaaaaaaaa",
            "123456789012345",
            "passwordpassword",
            "qwertyuiopasdfgh",
        ] {
            let err = hasher
                .check_policy(weak, "ops@acme.example")
                .expect_err(weak);
            let AppError::BadUserInput { field, message } = err else {
                panic!("{weak}: not a validation failure");
            };
            assert_eq!(field, Some("password"));
            assert!(message.contains("too easy to guess"), "{weak}: {message}");
        }
        // The score is configurable: at 0 only the length and list rules remain.
        assert!(
            PasswordHasher::default()
                .with_min_score(0)
                .check_policy("aaaaaaaaaaaaaaa", "ops@acme.example")
                .is_ok()
        );
    }

    #[test]
    fn minimum_length_never_below_eight() {
        let hasher = PasswordHasher::new(1_000, 4);
        assert!(hasher.check_policy("seven77", "a@b.example").is_err());
    }

    #[tokio::test]
    async fn default_is_pbkdf2_sha256_600k_with_16_byte_salt() {
        let hasher = PasswordHasher::default();
        assert_eq!(hasher.rounds(), 600_000);
        let stored = hasher
            .hash("violet tractor umbrella".into())
            .await
            .expect("hash");
        assert!(
            stored.starts_with("$pbkdf2-sha256$i=600000,l=32$"),
            "{stored}"
        );
        let parsed = pbkdf2::phc::PasswordHash::new(&stored).expect("phc");
        assert_eq!(parsed.salt.expect("salt").as_ref().len(), SALT_BYTES);
        assert!(
            hasher
                .verify("violet tractor umbrella".into(), stored.clone())
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("violet tractor umbrellA".into(), stored.clone())
                .await
                .expect("verify")
        );
        assert!(!hasher.needs_rehash(&stored));
        let weak = PasswordHasher::with_rounds(1_000)
            .hash("violet tractor umbrella".into())
            .await
            .expect("hash");
        assert!(hasher.needs_rehash(&weak));
    }
}
