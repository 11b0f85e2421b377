//! Integration tests: the real service and the real databases, SQLite and PostgreSQL.

mod support;

mod audit;
mod backup;
mod carriers;
mod cli;
mod conventions;
mod disclosure;
mod fuzz;
mod hardening;
mod http;
mod identity;
mod kit;
mod ledger;
mod login;
mod parties;
mod permissions;
mod proxy;
mod purchasing;
mod putaway;
mod receiving;
mod redirect;
mod request_cost;
mod returns;
mod schema;
mod security_txt;
mod selling;
mod session;
mod shipping;
mod stock;
mod stock_edges;
mod tenancy;
mod tls;
mod unique_keys;
mod value_sets;
mod walkthrough;
