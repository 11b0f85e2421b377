//! Identity: passwords, cookie sessions, permissions and the guards that check them.

pub mod guard;
pub mod password;
pub mod permission;
pub mod session;

use password::PasswordHasher;
use session::{LoginThrottle, SessionPolicy};

/// Everything configurable about signing in, handed to the request handlers.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuthSettings {
    pub hasher: PasswordHasher,
    pub sessions: SessionPolicy,
    pub throttle: LoginThrottle,
}
