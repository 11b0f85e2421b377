//! VasKem: a multi-tenant warehouse-management backend.
//!
//! `main.rs` parses the command line and calls [`cli::run`]; tests build the same router with
//! [`http::app`] and talk HTTP to it.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod error;
pub mod graphql;
pub mod http;
pub mod service;
pub mod tenancy;

pub use http::{AppState, app};
