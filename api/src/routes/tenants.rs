//! Tenant provisioning for platform operators: create and list tenants.
//! Authenticated by the operator bearer token (`APP_OPERATOR_TOKEN`); the
//! database side runs through the SECURITY DEFINER functions of the
//! migrations, the one narrow path across tenants.

use chrono::{DateTime, Utc};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::ApiTags;
use crate::auth::operator::{Operator, OperatorToken};
use crate::domain::{Slug, TenantId, TenantName, TenantStatus};
use crate::error::{error_json, Body, ErrorBody, Fail, Operators, Params};
use crate::payload::JsonBody;
use crate::state::AppState;

#[derive(Debug)]
pub struct TenantsApi {
    pub state: AppState,
}

/// A tenant's commercial plan; `free` when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Team,
    Enterprise,
}

impl Plan {
    fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Team => "team",
            Plan::Enterprise => "enterprise",
        }
    }
}

/// A new tenant.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// URL-safe identifier: 1–63 lowercase letters, digits and hyphens, not
    /// starting or ending with a hyphen. Unique across the platform.
    pub slug: Slug,
    /// Display name, 1–200 characters, no control characters.
    pub name: TenantName,
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub plan: Option<Plan>,
}

/// A tenant as operators see it.
#[derive(Debug, Object)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub status: TenantStatus,
    pub plan: String,
    pub created_at: DateTime<Utc>,
}

/// One page of tenants, oldest first.
#[derive(Debug, Object)]
pub struct TenantPage {
    pub items: Vec<Tenant>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

#[derive(Debug, ApiResponse)]
pub enum CreateTenantResponse {
    /// The tenant was created.
    #[oai(status = 201)]
    Created(Json<Tenant>),
    /// The slug is taken.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum ListTenantsResponse {
    /// A page of tenants, ordered by id.
    #[oai(status = 200)]
    Ok(Json<TenantPage>),
}

#[OpenApi(tag = "ApiTags::Tenants")]
impl TenantsApi {
    /// Create a tenant
    #[oai(path = "/api/tenants", method = "post", operation_id = "createTenant")]
    async fn create(
        &self,
        req: &poem::Request,
        auth: OperatorToken,
        body: JsonBody<CreateTenant>,
    ) -> Result<CreateTenantResponse, Fail<(Operators, Body)>> {
        let OperatorToken(Operator) = auth;
        let CreateTenant { slug, name, plan } = body.0;
        let state = &self.state;
        let plan = plan.unwrap_or(Plan::Free);
        match db::tenants::provision(&state.platform, &slug, &name, plan.as_str()).await {
            Ok(tenant) => {
                tracing::info!(tenant_id = %tenant.id, slug = %tenant.slug, "tenant provisioned");
                let origin = crate::request_meta::origin_of(req, state);
                let subject = format!("{}:{}", tenant.id, tenant.slug);
                db::auth::record_security_event(&state.platform, "operator.tenant_created", &subject, &origin).await?;
                Ok(CreateTenantResponse::Created(Json(tenant.into())))
            }
            Err(db::DbError::Conflict) => {
                Ok(CreateTenantResponse::Conflict(error_json("conflict", "the slug is not available")))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// List tenants
    #[oai(path = "/api/tenants", method = "get", operation_id = "listTenants")]
    async fn list(
        &self,
        auth: OperatorToken,
        /// The previous page's `next`.
        cursor: Query<Option<String>>,
        /// Page size, 1–100.
        #[oai(default = "super::paging::default_limit", validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<i64>,
    ) -> Result<ListTenantsResponse, Fail<(Operators, Params)>> {
        let OperatorToken(Operator) = auth;
        let after = super::paging::decode(cursor.0.as_deref())?;
        let page = db::tenants::list(&self.state.platform, after, limit.0).await?;
        let items = page.items.into_iter().map(Tenant::from).collect();
        Ok(ListTenantsResponse::Ok(Json(TenantPage { items, next: page.next.map(super::paging::encode) })))
    }
}

impl From<db::tenants::Tenant> for Tenant {
    fn from(t: db::tenants::Tenant) -> Self {
        Self { id: t.id, slug: t.slug, name: t.name, status: t.status, plan: t.plan, created_at: t.created_at }
    }
}
