//! API keys of the tenant, managed by its admins: create (the key is shown
//! once), list (never the secret), revoke.

use super::ApiTags;
use crate::auth::access::{Access, Principal};
use crate::domain::{ApiKeyId, ApiKeyName, Role};
use crate::error::{error_json, ApiError, Body, ErrorBody, Fail, FieldProblem, Params, Tenant};
use crate::payload::JsonBody;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use policies::{Action, Object};

#[derive(Debug)]
pub struct ApiKeysApi {
    pub state: AppState,
}

/// A new key.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// 1–100 characters, no control characters, unique in the tenant.
    pub name: ApiKeyName,
    pub role: Role,
    /// When the key stops working (in the future); never, when absent.
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key as listed: never its secret.
#[derive(Debug, Object)]
pub struct ApiKeyView {
    pub id: ApiKeyId,
    pub name: String,
    /// The key's public prefix (`tnt_<prefix>_…`), to recognise it.
    pub prefix: String,
    pub role: Role,
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
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

/// A page of the tenant's keys, oldest first.
#[derive(Debug, Object)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

#[derive(Debug, ApiResponse)]
pub enum CreateKeyResponse {
    #[oai(status = 201)]
    Created(Json<CreatedApiKey>),
    /// The name is taken in this tenant.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum ListKeysResponse {
    #[oai(status = 200)]
    List(Json<ApiKeyList>),
}

#[derive(Debug, ApiResponse)]
pub enum RevokeKeyResponse {
    /// Revoked.
    #[oai(status = 204)]
    Revoked,
    /// No such key in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
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
    ) -> Result<CreateKeyResponse, Fail<(Tenant, Body)>> {
        let CreateApiKey { name, role, expires_at } = body.0;
        if expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(ApiError::validation(vec![FieldProblem::new("expires_at", "must be in the future")]).into());
        }
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::ApiKeys, Action::Create).await?;
        // A leaked admin key must not be able to mint the next admin key
        // (and so outlive its own revocation): admin keys are made by people.
        if matches!(scope.principal(), Principal::Key(_)) && role == Role::Admin {
            return Err(
                ApiError::forbidden("an API key cannot create admin keys; sign in as an admin to create one").into()
            );
        }
        let new = crate::auth::api_key::generate();
        let created = match db::api_keys::create(
            scope.tx(),
            name.as_str(),
            &new.prefix,
            &new.secret_hash,
            role,
            expires_at,
        )
        .await
        {
            Ok(created) => created,
            Err(db::DbError::Conflict) => {
                return Ok(CreateKeyResponse::Conflict(error_json("conflict", "a key of that name exists")))
            }
            Err(err) => return Err(err.into()),
        };
        scope.audit(req, "api_key.created", &created.id.to_string()).await?;
        scope.commit().await?;
        Ok(CreateKeyResponse::Created(Json(CreatedApiKey { key: new.key, details: view(created) })))
    }

    /// List API keys
    #[oai(path = "/api/api-keys", method = "get", operation_id = "listApiKeys")]
    async fn list(
        &self,
        auth: Access,
        /// The previous page's `next`.
        cursor: Query<Option<String>>,
        /// Page size, 1–100.
        #[oai(default = "super::paging::default_limit", validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<i64>,
    ) -> Result<ListKeysResponse, Fail<(Tenant, Params)>> {
        let after = super::paging::decode(cursor.0.as_deref())?;
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::ApiKeys, Action::Read).await?;
        let page = db::api_keys::list(scope.tx(), after, limit.0).await?;
        scope.commit().await?;
        let items = page.items.into_iter().map(view).collect();
        Ok(ListKeysResponse::List(Json(ApiKeyList { items, next: page.next.map(super::paging::encode) })))
    }

    /// Revoke an API key
    ///
    /// The key stops working with the next request, on every replica.
    #[oai(path = "/api/api-keys/:id", method = "delete", operation_id = "revokeApiKey")]
    async fn revoke(
        &self,
        req: &Request,
        auth: Access,
        /// The key's id.
        id: Path<ApiKeyId>,
    ) -> Result<RevokeKeyResponse, Fail<(Tenant, Params)>> {
        let id = id.0;
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::ApiKeys, Action::Delete).await?;
        let Some(prefix) = db::api_keys::revoke(scope.tx(), id).await? else {
            return Ok(RevokeKeyResponse::NotFound(error_json("not_found", "no such key")));
        };
        scope.audit(req, "api_key.revoked", &id.to_string()).await?;
        scope.invalidate_on_commit(crate::auth::access_cache::Invalidation::Key(prefix));
        scope.commit().await?;
        Ok(RevokeKeyResponse::Revoked)
    }
}
