//! Tenant provisioning for platform operators: create and list tenants.
//! Authenticated by the operator bearer token (`APP_OPERATOR_TOKEN`); the
//! database side runs through the SECURITY DEFINER functions of the
//! migrations, the one narrow path across tenants.

use chrono::{DateTime, Utc};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use crate::auth::operator::{Operator, OperatorToken};
use crate::error::{ApiError, Body, ErrorBody, Fail, FieldProblem, Operators, Params};
use crate::payload::valid_slug;
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
    #[oai(validator(max_length = 63, pattern = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"))]
    pub slug: String,
    /// Display name, 1–200 characters, no control characters.
    #[oai(validator(
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    ))]
    pub name: String,
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub plan: Option<Plan>,
}

/// A tenant as operators see it.
#[derive(Debug, Object)]
pub struct Tenant {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// `active` or `suspended`.
    pub status: String,
    pub plan: String,
    pub created_at: DateTime<Utc>,
}

/// One page of tenants.
#[derive(Debug, Object)]
pub struct TenantPage {
    pub items: Vec<Tenant>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_after: Option<Uuid>,
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
        let new = match body.0.validate() {
            Ok(new) => new,
            Err(problems) => return Err(ApiError::validation(problems).into()),
        };
        let state = &self.state;
        match db::tenants::provision(&state.platform, &new.slug, &new.name, new.plan.as_str()).await {
            Ok(tenant) => {
                tracing::info!(tenant_id = %tenant.id, slug = %tenant.slug, "tenant provisioned");
                let origin = crate::request_meta::origin_of(req, state);
                let subject = format!("{}:{}", tenant.id, tenant.slug);
                db::auth::record_security_event(&state.platform, "operator.tenant_created", &subject, &origin).await?;
                Ok(CreateTenantResponse::Created(Json(tenant.into())))
            }
            Err(db::DbError::Conflict) => {
                Ok(CreateTenantResponse::Conflict(ErrorBody::json("conflict", "the slug is not available")))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// List tenants
    #[oai(path = "/api/tenants", method = "get", operation_id = "listTenants")]
    async fn list(
        &self,
        auth: OperatorToken,
        /// Return tenants whose id sorts after this one (the previous page's `next_after`).
        after: Query<Option<Uuid>>,
        /// Page size, 1–200.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<i32>,
    ) -> Result<ListTenantsResponse, Fail<(Operators, Params)>> {
        let OperatorToken(Operator) = auth;
        let tenants = db::tenants::list(&self.state.platform, after.0.map(db::TenantId::new), limit.0).await?;
        let next_after = (tenants.len() == limit.0 as usize).then(|| tenants.last().map(|t| t.id.as_uuid())).flatten();
        let items = tenants.into_iter().map(Tenant::from).collect();
        Ok(ListTenantsResponse::Ok(Json(TenantPage { items, next_after })))
    }
}

fn default_limit() -> i32 {
    50
}

/// A tenant request that passed validation.
struct NewTenant {
    slug: String,
    name: String,
    plan: Plan,
}

impl CreateTenant {
    fn validate(self) -> Result<NewTenant, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let slug = self.slug.trim().to_owned();
        if !valid_slug(&slug) {
            problems.push(FieldProblem::new(
                "slug",
                "must be 1–63 lowercase letters, digits or hyphens, not starting or ending with a hyphen",
            ));
        }
        let name = self.name.trim().to_owned();
        if let Some(problem) = crate::payload::name_problem(&name, true) {
            problems.push(FieldProblem::new("name", problem));
        }
        if problems.is_empty() {
            Ok(NewTenant { slug, name, plan: self.plan.unwrap_or(Plan::Free) })
        } else {
            Err(problems)
        }
    }
}

impl From<db::tenants::Tenant> for Tenant {
    fn from(t: db::tenants::Tenant) -> Self {
        Self {
            id: t.id.as_uuid(),
            slug: t.slug,
            name: t.name,
            status: t.status,
            plan: t.plan,
            created_at: t.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_database_rule() {
        for good in ["a", "acme", "acme-2", "0x"] {
            assert!(valid_slug(good), "{good}");
        }
        for bad in ["", "-a", "a-", "Acme", "a_b", "a b", &"a".repeat(64)] {
            assert!(!valid_slug(bad), "{bad}");
        }
    }

    #[test]
    fn every_invalid_field_is_reported() {
        let problems = CreateTenant { slug: "Bad Slug".into(), name: " ".into(), plan: None }.validate().err().unwrap();
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["slug", "name"]);
    }
}
