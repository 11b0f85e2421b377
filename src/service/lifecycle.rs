//! Documents that move through fixed states (purchase orders now; sales orders, shipments and
//! returns next). Each state lists the states it may go to; every change of state goes through
//! [`Lifecycle::ensure_can_become`], so an illegal transition is one CONFLICT that names where the
//! document stands and where it could go, whichever mutation asked.

use crate::error::{AppError, AppResult};

pub trait Lifecycle: Copy + PartialEq + 'static {
    /// What the document is called in messages, e.g. "purchase order".
    const DOCUMENT: &'static str;

    /// The state as the API names it (the GraphQL enum value), e.g. `PARTIALLY_RECEIVED`.
    fn label(self) -> &'static str;

    /// The states this one may go to; empty for a final state.
    fn next(self) -> &'static [Self];

    /// CONFLICT unless the document, now in `self`, may go to `to`. `which` names the document
    /// (its number).
    fn ensure_can_become(self, to: Self, which: &str) -> AppResult<()> {
        if self.next().contains(&to) {
            return Ok(());
        }
        Err(AppError::Conflict(format!(
            "{} {which} is {}: it cannot become {}; {}",
            Self::DOCUMENT,
            self.label(),
            to.label(),
            self.allowed_next()
        )))
    }

    /// "from here it can become ORDERED or CANCELLED", or that it is final.
    fn allowed_next(self) -> String {
        let next: Vec<&str> = self.next().iter().map(|state| state.label()).collect();
        match next.as_slice() {
            [] => "that is final".to_owned(),
            [only] => format!("from there it can only become {only}"),
            [first @ .., last] => {
                format!("from there it can become {} or {last}", first.join(", "))
            }
        }
    }
}
