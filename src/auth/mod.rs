//! Identity: passwords and cookie sessions.

pub mod password;
pub mod session;
