//! Values of the API's vocabulary that have rules, as types built only by a
//! parse that checks them: in a request body a field of one of these types
//! is refused with its rule (`details: [{ field, message }]`) before any
//! handler runs, and the spec states the same rule (length, pattern), so a
//! generated client does not send what the server refuses.
//!
//! Ids and roles are shared with the database layer and the console and
//! live in the `model` crate; the types here exist only on the server.

mod project_text;
mod text;

pub use model::{
    ApiKeyId, FileId, FileStatus, InvitationId, ProjectId, ProjectStatus, Role, SessionId, TenantId, TenantStatus,
    UserId,
};
pub use project_text::{is_content_type, ContentType, FileName, ProjectDescription, ProjectName};
pub use text::{ApiKeyName, DisplayName, EmailAddress, NewPassword, Slug, TenantName};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_the_policys_roles() {
        let ours: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(ours, policies::ROLES);
    }
}
