//! Limits on numbers and dates from callers: what the database can store and the arithmetic can
//! sum without overflow. Anything outside is the caller's mistake (BAD_USER_INPUT), never an
//! internal error or a panic.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::error::{AppError, AppResult};

/// The most units one movement may move, and one place may hold of one product and lot. Far above
/// any real warehouse, small enough that no sum of them can overflow an `i64`, and within the
/// 32-bit GraphQL `Int` for every quantity of one place. (A product's total over many places can
/// exceed 2^31; it is still an exact JSON integer.)
pub const MAX_UNITS: i64 = 1_000_000_000;

/// Refuses a date no database column can hold (PostgreSQL's range is narrower than chrono's).
pub fn check_day(field: &'static str, day: NaiveDate) -> AppResult<()> {
    if (1..=9999).contains(&day.year()) {
        Ok(())
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} must be a date in the years 1 to 9999"),
        ))
    }
}

/// Refuses a quantity outside `low..=MAX_UNITS` as the caller's mistake.
pub fn check_quantity(field: &'static str, value: i64, low: i64) -> AppResult<()> {
    if (low..=MAX_UNITS).contains(&value) {
        Ok(())
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} must be {low} to {MAX_UNITS}"),
        ))
    }
}

/// Refuses a time no database column can hold.
pub fn check_time(field: &'static str, time: DateTime<Utc>) -> AppResult<()> {
    check_day(field, time.date_naive())
}
