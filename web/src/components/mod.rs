//! Pieces the pages share: the frame around every page, links that
//! navigate without reloading, form fields with their errors, the
//! outcome line of the email-link pages, the health card, and the guard of
//! pages that need a session.

mod field;
mod form_error;
mod frame;
mod health_card;
mod link;
mod outcome;
mod signed_in;

pub use field::Field;
pub use form_error::FormError;
pub use frame::Frame;
pub use health_card::HealthCard;
pub use link::Link;
pub use outcome::{report, Outcome, OutcomeLine};
pub use signed_in::signed_in;
