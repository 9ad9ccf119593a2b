//! API keys of the tenant, managed by its admins: create (the key is shown
//! once), list (never the secret), revoke.

use chrono::{DateTime, Utc};
use db::TenantTx;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use crate::auth::access::{Access, Principal};
use crate::auth::authorize::{require, Denied};
use crate::error::{ApiError, ErrorBody, FieldProblem};
use crate::payload::JsonBody;
use crate::state::AppState;

#[derive(Debug)]
pub struct ApiKeysApi {
    pub state: AppState,
}

/// A new key.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// 1–100 characters, unique in the tenant.
    pub name: String,
    /// `admin`, `user` or `viewer`: what the key may do.
    pub role: String,
    /// When the key stops working; never, when absent.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key as listed: never its secret.
#[derive(Debug, Object)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    /// The key's public prefix (`tnt_<prefix>_…`), to recognise it.
    pub prefix: String,
    pub role: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A created key, with its secret: shown this once.
#[derive(Debug, Object)]
pub struct CreatedApiKey {
    /// Send as `X-API-Key`. Not stored; it cannot be shown again.
    pub key: String,
    #[oai(flatten)]
    pub details: ApiKeyView,
}

/// The tenant's keys.
#[derive(Debug, Object)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyView>,
}

#[derive(Debug, ApiResponse)]
pub enum ApiKeyResponse {
    #[oai(status = 200)]
    List(Json<ApiKeyList>),
    #[oai(status = 201)]
    Created(Json<CreatedApiKey>),
    /// Revoked.
    #[oai(status = 204)]
    Revoked,
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such key in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The name is taken in this tenant.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

fn denied(denied: Denied) -> ApiKeyResponse {
    match denied {
        Denied::NotMember => ApiKeyResponse::Unauthorized(denied.body()),
        Denied::Forbidden => ApiKeyResponse::Forbidden(denied.body()),
    }
}

fn view(k: db::api_keys::ApiKey) -> ApiKeyView {
    ApiKeyView {
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        role: k.role,
        expires_at: k.expires_at,
        last_used_at: k.last_used_at,
        created_at: k.created_at,
    }
}

#[OpenApi(tag = "ApiTags::ApiKeys")]
impl ApiKeysApi {
    /// Create an API key
    #[oai(path = "/api/api-keys", method = "post", operation_id = "createApiKey")]
    async fn create(
        &self,
        req: &Request,
        auth: Access,
        body: JsonBody<CreateApiKey>,
    ) -> Result<ApiKeyResponse, ApiError> {
        let caller = auth.principal();
        let CreateApiKey { name, role, expires_at } = body.0;
        let name = name.trim().to_owned();
        let mut problems = Vec::new();
        if !(1..=100).contains(&name.chars().count()) {
            problems.push(FieldProblem::new("name", "must be 1–100 characters"));
        }
        if !policies::ROLES.contains(&role.as_str()) {
            problems.push(FieldProblem::new("role", "must be admin, user or viewer"));
        }
        if expires_at.is_some_and(|at| at <= Utc::now()) {
            problems.push(FieldProblem::new("expires_at", "must be in the future"));
        }
        if !problems.is_empty() {
            return Err(ApiError::validation(problems));
        }
        let mut tx = TenantTx::begin(&self.state.db, caller.tenant(), caller.user()).await?;
        if let Err(d) = require(&self.state, &mut tx, &caller, "api_keys", "create").await? {
            return Ok(denied(d));
        }
        // A leaked admin key must not be able to mint the next admin key
        // (and so outlive its own revocation): admin keys are made by people.
        if matches!(caller, Principal::Key(_)) && role == "admin" {
            return Ok(ApiKeyResponse::Forbidden(ErrorBody::json(
                "forbidden",
                "an API key cannot create admin keys; sign in as an admin to create one",
            )));
        }
        let new = crate::auth::api_key::generate();
        let created = match db::api_keys::create(&mut tx, &name, &new.prefix, &new.secret_hash, &role, expires_at).await
        {
            Ok(created) => created,
            Err(db::DbError::Conflict) => {
                return Ok(ApiKeyResponse::Conflict(ErrorBody::json("conflict", "a key of that name exists")))
            }
            Err(err) => return Err(err.into()),
        };
        let origin = crate::auth::session::origin_of(req, &self.state);
        db::auth::audit(&mut tx, "api_key.created", &created.id.to_string(), &origin).await?;
        tx.commit().await?;
        Ok(ApiKeyResponse::Created(Json(CreatedApiKey { key: new.key, details: view(created) })))
    }

    /// List API keys
    #[oai(path = "/api/api-keys", method = "get", operation_id = "listApiKeys")]
    async fn list(&self, auth: Access) -> Result<ApiKeyResponse, ApiError> {
        let caller = auth.principal();
        let mut tx = TenantTx::begin(&self.state.db, caller.tenant(), caller.user()).await?;
        if let Err(d) = require(&self.state, &mut tx, &caller, "api_keys", "read").await? {
            return Ok(denied(d));
        }
        let keys = db::api_keys::list(&mut tx).await?;
        tx.commit().await?;
        Ok(ApiKeyResponse::List(Json(ApiKeyList { items: keys.into_iter().map(view).collect() })))
    }

    /// Revoke an API key
    ///
    /// The key stops working with the next request, on every replica.
    #[oai(path = "/api/api-keys/:id", method = "delete", operation_id = "revokeApiKey")]
    async fn revoke(
        &self,
        req: &Request,
        auth: Access,
        /// The key's id (a UUID).
        id: Path<String>,
    ) -> Result<ApiKeyResponse, ApiError> {
        let caller = auth.principal();
        let id = crate::payload::parse_path_id(&id.0)?;
        let mut tx = TenantTx::begin(&self.state.db, caller.tenant(), caller.user()).await?;
        if let Err(d) = require(&self.state, &mut tx, &caller, "api_keys", "delete").await? {
            return Ok(denied(d));
        }
        let Some(prefix) = db::api_keys::revoke(&mut tx, id).await? else {
            return Ok(ApiKeyResponse::NotFound(ErrorBody::json("not_found", "no such key")));
        };
        let origin = crate::auth::session::origin_of(req, &self.state);
        db::auth::audit(&mut tx, "api_key.revoked", &id.to_string(), &origin).await?;
        tx.commit().await?;
        self.state.access_cache.publish(&self.state.redis, crate::auth::access_cache::Invalidation::Key(prefix)).await;
        Ok(ApiKeyResponse::Revoked)
    }
}
