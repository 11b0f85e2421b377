//! Identity: password hashing now; sessions, permissions and guards as the identity work lands.

pub mod password;
