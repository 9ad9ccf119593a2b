//! What the API, the database layer and the console say to each other:
//! typed ids, roles, and the response bodies the console reads. One
//! definition each, so a renamed field is a compile error on both sides of
//! the wire instead of a blank screen.

mod ids;
mod names;
#[cfg(feature = "openapi")]
mod openapi;
mod project_status;
mod role;
#[cfg(feature = "sqlx")]
mod sql;
mod tenant_status;
pub mod wire;

pub use ids::{ApiKeyId, FileId, InvitationId, ProjectId, SessionId, TenantId, UserId};
pub use project_status::{FileStatus, ProjectStatus, UnknownFileStatus, UnknownProjectStatus};
pub use role::{Role, UnknownRole};
pub use tenant_status::{TenantStatus, UnknownStatus};
