//! Bodies of the sign-in routes as the console sends and reads them. They
//! mirror `api/src/auth/session.rs` and `api/src/routes/auth/`; they belong
//! in `model::wire` beside `Health` and `ErrorBody`, where the API can
//! derive its schemas from the same definitions, and move there next.

use model::{Role, TenantId, UserId};
use serde::{Deserialize, Serialize};

/// A tenant and the caller's role in it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TenantMembership {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub role: Role,
}

/// A session just opened or refreshed. The console asks for the refresh
/// token in the `HttpOnly` cookie, so `refresh_token` is absent for it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SessionTokens {
    /// PASETO v4.public, for `Authorization: Bearer`.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    #[serde(default)]
    pub refresh_token: Option<String>,
    pub tenant: TenantMembership,
}

/// `GET /api/auth/me`: the signed-in user, the active tenant, the role
/// there and what it allows.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Me {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub tenant: TenantMembership,
    /// `object:action`, with `:own` where only owned objects qualify.
    pub permissions: Vec<String>,
    /// Every active tenant the user belongs to.
    pub tenants: Vec<TenantMembership>,
}

impl Me {
    /// The role in the active tenant.
    pub fn role(&self) -> Role {
        self.tenant.role
    }

    /// Whether the role allows `permission` (`members:read`) on every
    /// object, not only owned ones. The API decides again on each request;
    /// this only chooses what to offer.
    pub fn may(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// The name to show: the display name, else the email.
    pub fn name(&self) -> &str {
        if self.display_name.trim().is_empty() {
            &self.email
        } else {
            &self.display_name
        }
    }
}

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
    fn me_reads_the_api_answer() {
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
