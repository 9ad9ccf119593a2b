//! Request bodies of the sign-in routes as the console sends them. What it
//! reads back (`SessionTokens`, `Me`, ...) is in `model::wire`, shared with
//! the API; the API's own request types carry its parsing rules.

pub use model::wire::{Me, SessionTokens, TenantMembership};
use serde::Serialize;

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
