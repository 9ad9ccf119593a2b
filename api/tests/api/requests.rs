//! Requests to the app under test, one method per way the tests call it
//! (anonymous, with a bearer token, with an API key, as the operator) and
//! per thing many tests ask for (a list, an invitation, a sign-in), so a
//! test reads as what it asks rather than how a request is built.

use api::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{TestApp, OPERATOR_TOKEN};

/// The tokens of a session opened with `token_delivery: body`.
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// `GET path` with no credentials.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    /// `POST path` with a JSON body and no credentials.
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client.post(self.url(path)).json(&body).send().await.expect("request sent")
    }

    /// `GET path` with a bearer token (an access token, or the operator's).
    pub async fn bearer_get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request sent")
    }

    /// `POST path` with a bearer token and a JSON body.
    pub async fn bearer_post(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.client.post(self.url(path)).bearer_auth(token).json(&body).send().await.expect("request sent")
    }

    /// `PATCH path` with a bearer token and a JSON body.
    pub async fn bearer_patch(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.client.patch(self.url(path)).bearer_auth(token).json(&body).send().await.expect("request sent")
    }

    /// `DELETE path` with a bearer token.
    pub async fn bearer_delete(&self, path: &str, token: &str) -> reqwest::Response {
        self.client.delete(self.url(path)).bearer_auth(token).send().await.expect("request sent")
    }

    /// `GET path` with an API key in `X-API-Key`.
    pub async fn key_get(&self, path: &str, key: &str) -> reqwest::Response {
        self.client.get(self.url(path)).header("x-api-key", key).send().await.expect("request sent")
    }

    /// `GET path` with a bearer token; the JSON body, whatever the status.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        self.bearer_get(path, token).await.json().await.expect("a JSON body")
    }

    /// `POST path` with the operator token and a JSON body.
    pub async fn operator_post(&self, path: &str, body: Value) -> reqwest::Response {
        self.bearer_post(path, OPERATOR_TOKEN, body).await
    }

    /// The members of the tenant of `token`, which must be listed (200).
    pub async fn list_members(&self, token: &str) -> Vec<Value> {
        self.items("/api/users", token).await
    }

    /// The API keys of the tenant of `token`, which must be listed (200).
    pub async fn list_api_keys(&self, token: &str) -> Vec<Value> {
        self.items("/api/api-keys", token).await
    }

    /// The invitations of the tenant of `token`, which must be listed (200).
    pub async fn list_invitations(&self, token: &str) -> Vec<Value> {
        self.items("/api/invitations", token).await
    }

    /// Every item of the list at `path`, all pages (of 100).
    pub async fn items(&self, path: &str, token: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor = String::new();
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let page = format!("{path}{separator}limit=100{cursor}");
            let response = self.bearer_get(&page, token).await;
            assert_eq!(response.status(), 200, "GET {page}");
            let body: Value = response.json().await.expect("a JSON body");
            all.extend(body["items"].as_array().unwrap_or_else(|| panic!("no items in {body}")).iter().cloned());
            match body["next"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return all,
            }
        }
    }

    /// Invites `email` as `role` to the tenant of `token`.
    pub async fn invite(&self, token: &str, email: &str, role: Role) -> reqwest::Response {
        self.bearer_post("/api/invitations", token, json!({ "email": email, "role": role.as_str() })).await
    }

    /// Creates an API key as the holder of `bearer`: the key, shown once.
    pub async fn api_key(&self, bearer: &str, name: &str, role: Role) -> String {
        let response = self.bearer_post("/api/api-keys", bearer, json!({ "name": name, "role": role.as_str() })).await;
        let created: Value = response.json().await.expect("a JSON body");
        created["key"].as_str().unwrap_or_else(|| panic!("no key created: {created}")).to_owned()
    }

    /// Signs in with the tokens in the body; the answer, whatever it is.
    pub async fn log_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.post("/api/auth/login", json!({ "email": email, "password": password, "token_delivery": "body" })).await
    }

    /// Signs in, which must succeed: the session's tokens.
    pub async fn sign_in(&self, email: &str, password: &str) -> Session {
        let body: Value = self.log_in(email, password).await.json().await.expect("a JSON body");
        let token = |name: &str| -> String {
            body[name].as_str().unwrap_or_else(|| panic!("{email} could not sign in: {body}")).to_owned()
        };
        Session { access_token: token("access_token"), refresh_token: token("refresh_token") }
    }
}
