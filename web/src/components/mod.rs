//! Pieces the pages share: the frame around every page, links that
//! navigate without reloading, form fields with their errors, dialogs,
//! loading and empty states, pagination, the outcome line of the
//! email-link pages, the health card, and the guard of pages that need a
//! session.

mod copy_button;
mod dialog;
mod field;
mod form_error;
pub mod format;
mod frame;
mod health_card;
mod link;
mod load;
mod outcome;
mod pager;
mod role_select;
mod signed_in;
mod task;

pub use copy_button::CopyButton;
pub use dialog::{Confirm, Deleting, Dialog, Question};
pub use field::Field;
pub use form_error::FormError;
pub use frame::Frame;
pub use health_card::HealthCard;
pub use link::Link;
pub use load::{fetch, loaded, skeleton, Empty, ErrorPanel, Load};
pub use outcome::{report, Outcome, OutcomeLine};
pub use pager::{load_pages, Pager};
pub use role_select::RoleSelect;
pub use signed_in::signed_in;
pub use task::spawn;
