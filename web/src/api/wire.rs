//! Bodies as the console sends and reads them. What the API declares in
//! `model::wire` (`SessionTokens`, `Me`, ...) is shared with it and read
//! with serde; the rest is read here ([`FromJson`]) with only the fields
//! the console shows (unknown fields are ignored, so the API may grow),
//! and times stay RFC 3339 text.

pub use model::wire::{Me, SessionTokens, TenantMembership};
pub use model::{ProjectStatus, Role};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the API should put the refresh token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenDelivery {
    /// The `HttpOnly` cookie: out of reach of scripts (the console).
    Cookie,
    /// The JSON body (clients that keep it themselves).
    Body,
}

/// `POST /api/auth/login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Credentials {
    pub email: String,
    pub password: String,
    /// Slug of the tenant; without it, the last used or only one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub token_delivery: TokenDelivery,
}

impl Credentials {
    /// Email and password, the refresh token in the cookie, the tenant the
    /// API chooses.
    pub fn new(email: impl Into<String>, password: impl Into<String>) -> Self {
        Self { email: email.into(), password: password.into(), tenant: None, token_delivery: TokenDelivery::Cookie }
    }
}

/// `POST /api/auth/refresh` and `/logout`: the token comes from the cookie
/// when the body does not carry one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RefreshRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// `POST /api/auth/switch-tenant`: the refresh token comes from the cookie.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SwitchTenant {
    pub tenant: String,
}

/// What the console reads from the API's answers, field by field from
/// parsed JSON: one parser for every type, where a derived `Deserialize`
/// per type costs the download several kilobytes each. A required field
/// that is missing or of another type makes the whole answer unreadable.
pub trait FromJson: Sized {
    fn from_json(value: &Value) -> Option<Self>;
}

impl FromJson for Value {
    fn from_json(value: &Value) -> Option<Self> {
        Some(value.clone())
    }
}

/// Any answer, read as nothing (a 204).
impl FromJson for () {
    fn from_json(_: &Value) -> Option<Self> {
        Some(())
    }
}

/// The API's own types, declared in `model`, keep serde.
impl FromJson for Me {
    fn from_json(value: &Value) -> Option<Self> {
        Self::deserialize(value).ok()
    }
}

impl FromJson for SessionTokens {
    fn from_json(value: &Value) -> Option<Self> {
        Self::deserialize(value).ok()
    }
}

fn text(value: &Value, field: &str) -> Option<String> {
    value.get(field)?.as_str().map(str::to_owned)
}

/// A field that may be absent or null.
fn optional_text(value: &Value, field: &str) -> Option<Option<String>> {
    match value.get(field) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => None,
    }
}

fn int(value: &Value, field: &str) -> Option<i64> {
    value.get(field)?.as_i64()
}

fn role(value: &Value, field: &str) -> Option<Role> {
    value.get(field)?.as_str()?.parse().ok()
}

/// A page of a list: its items and the cursor of the next page.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T: FromJson> FromJson for Page<T> {
    fn from_json(value: &Value) -> Option<Self> {
        let items = value.get("items")?.as_array()?.iter().map(T::from_json).collect::<Option<Vec<T>>>()?;
        Some(Self { items, next: optional_text(value, "next")? })
    }
}

/// `GET /api/overview`: each count present when the role may read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    /// Admins, users, viewers.
    pub members: Option<[i64; 3]>,
    pub pending_invitations: Option<i64>,
    pub active_api_keys: Option<i64>,
    /// Active, archived.
    pub projects: Option<[i64; 2]>,
}

impl FromJson for Overview {
    fn from_json(value: &Value) -> Option<Self> {
        let members = value.get("members").map(|m| Some([int(m, "admins")?, int(m, "users")?, int(m, "viewers")?]));
        let projects = value.get("projects").map(|p| Some([int(p, "active")?, int(p, "archived")?]));
        Some(Self {
            members: members.flatten(),
            pending_invitations: int(value, "pending_invitations"),
            active_api_keys: int(value, "active_api_keys"),
            projects: projects.flatten(),
        })
    }
}

/// A member of the tenant (`GET /api/users`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub joined_at: String,
}

impl FromJson for Member {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            user_id: text(v, "user_id")?,
            email: text(v, "email")?,
            display_name: text(v, "display_name")?,
            role: role(v, "role")?,
            joined_at: text(v, "joined_at")?,
        })
    }
}

/// `POST /api/invitations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invite {
    pub email: String,
    pub role: Role,
}

/// `PATCH /api/users/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleChange {
    pub role: Role,
}

/// An invitation (`GET /api/invitations`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: Role,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: String,
    pub expires_at: String,
}

impl FromJson for Invitation {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            id: text(v, "id")?,
            email: text(v, "email")?,
            role: role(v, "role")?,
            status: text(v, "status")?,
            expires_at: text(v, "expires_at")?,
        })
    }
}

/// An API key (`GET /api/api-keys`); never its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub role: Role,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub created_at: String,
}

impl FromJson for ApiKey {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            id: text(v, "id")?,
            name: text(v, "name")?,
            prefix: text(v, "prefix")?,
            role: role(v, "role")?,
            expires_at: optional_text(v, "expires_at")?,
            last_used_at: optional_text(v, "last_used_at")?,
            created_at: text(v, "created_at")?,
        })
    }
}

/// `POST /api/api-keys`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewApiKey {
    pub name: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// A key just created: its secret, shown once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedApiKey {
    pub key: String,
    pub details: ApiKey,
}

impl FromJson for CreatedApiKey {
    fn from_json(v: &Value) -> Option<Self> {
        // The key's fields sit beside the secret.
        Some(Self { key: text(v, "key")?, details: ApiKey::from_json(v)? })
    }
}

/// An audit entry (`GET /api/audit`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: String,
    pub actor_user_id: Option<String>,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub user_agent: String,
    pub created_at: String,
}

impl FromJson for AuditEntry {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            id: text(v, "id")?,
            actor_user_id: optional_text(v, "actor_user_id")?,
            action: text(v, "action")?,
            target: text(v, "target")?,
            ip: text(v, "ip")?,
            user_agent: text(v, "user_agent")?,
            created_at: text(v, "created_at")?,
        })
    }
}

/// An open session of the signed-in user (`GET /api/auth/sessions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub tenant_id: String,
    pub ip: String,
    pub user_agent: String,
    pub last_used_at: String,
    pub current: bool,
}

impl FromJson for SessionInfo {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            id: text(v, "id")?,
            tenant_id: text(v, "tenant_id")?,
            ip: text(v, "ip")?,
            user_agent: text(v, "user_agent")?,
            last_used_at: text(v, "last_used_at")?,
            current: v.get("current")?.as_bool()?,
        })
    }
}

/// `POST /api/auth/password`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// `PATCH /api/auth/me`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileChange {
    pub display_name: String,
}

/// A project (`GET /api/projects`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: String,
    pub status: ProjectStatus,
    pub owner_id: Option<String>,
    pub updated_at: String,
    pub version: i64,
}

impl FromJson for Project {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            id: text(v, "id")?,
            name: text(v, "name")?,
            description: text(v, "description")?,
            status: v.get("status")?.as_str()?.parse().ok()?,
            owner_id: optional_text(v, "owner_id")?,
            updated_at: text(v, "updated_at")?,
            version: int(v, "version")?,
        })
    }
}

/// `POST /api/projects`, and the changes of `PATCH /api/projects/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProjectChange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ProjectStatus>,
}

/// A file of a project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectFile {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// `pending` or `ready`.
    pub status: String,
    pub created_at: String,
}

impl FromJson for ProjectFile {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            id: text(v, "id")?,
            name: text(v, "name")?,
            content_type: text(v, "content_type")?,
            size: int(v, "size")?,
            status: text(v, "status")?,
            created_at: text(v, "created_at")?,
        })
    }
}

/// `POST /api/projects/{id}/files`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewFile {
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

/// A request the browser sends to storage itself, as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
}

impl FromJson for StorageRequest {
    fn from_json(v: &Value) -> Option<Self> {
        let headers = match v.get("headers") {
            Some(Value::Object(map)) => {
                map.iter().map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect::<Option<Vec<_>>>()?
            }
            _ => Vec::new(),
        };
        Some(Self { method: text(v, "method")?, url: text(v, "url")?, headers })
    }
}

/// A file created, and where to upload its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileUpload {
    pub file: ProjectFile,
    pub upload: StorageRequest,
}

impl FromJson for FileUpload {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            file: ProjectFile::from_json(v.get("file")?)?,
            upload: StorageRequest::from_json(v.get("upload")?)?,
        })
    }
}

/// `GET /api/files/usage`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StorageUsage {
    pub bytes: i64,
    pub files: i64,
}

impl FromJson for StorageUsage {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self { bytes: int(v, "bytes")?, files: int(v, "files")? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_ask_for_the_cookie_and_omit_an_absent_tenant() {
        let json = serde_json::to_value(Credentials::new("a@b.test", "pw")).unwrap();
        assert_eq!(json, serde_json::json!({ "email": "a@b.test", "password": "pw", "token_delivery": "cookie" }));
        assert_eq!(serde_json::to_string(&RefreshRequest::default()).unwrap(), "{}");
    }

    #[test]
    fn answers_read_field_by_field_and_a_missing_field_fails() {
        let page = serde_json::json!({ "items": [{ "id": "k1", "name": "ci", "prefix": "0123456789ab", "role": "viewer",
            "expires_at": null, "created_at": "2026-12-05T10:00:00Z" }], "next": "abc" });
        let keys = Page::<ApiKey>::from_json(&page).unwrap();
        assert_eq!(keys.next.as_deref(), Some("abc"));
        assert_eq!(keys.items[0].role, Role::Viewer);
        assert_eq!(keys.items[0].last_used_at, None);
        let mut broken = page.clone();
        broken["items"][0]["role"] = serde_json::json!("owner");
        assert!(Page::<ApiKey>::from_json(&broken).is_none());
        let overview = Overview::from_json(&serde_json::json!({ "pending_invitations": 2 })).unwrap();
        assert_eq!((overview.members, overview.pending_invitations), (None, Some(2)));
    }

    #[test]
    fn me_reads_the_api_answer() {
        use model::Role;
        let tenant = r#"{"id":"6f1c2b1e-8a57-4c1b-9d1e-0e5f3c8a7b21","slug":"acme","name":"Acme","role":"admin"}"#;
        let body = format!(
            r#"{{"user_id":"0e5f3c8a-8a57-4c1b-9d1e-6f1c2b1e7b21","email":"a@acme.test","display_name":"",
                "tenant":{tenant},"permissions":["members:read","projects:update:own"],"tenants":[{tenant}]}}"#
        );
        let me: Me = serde_json::from_str(&body).unwrap();
        assert_eq!(me.role(), Role::Admin);
        assert_eq!(me.name(), "a@acme.test");
        assert!(me.may("members:read"));
        assert!(!me.may("projects:update"));
    }
}
