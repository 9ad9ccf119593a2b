//! Bodies the API sends that the console reads, declared once: the API
//! derives their schemas (feature `openapi`), the console deserialises them.

use crate::{Role, TenantId, UserId};

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ErrorDetail {
    /// Stable, machine-readable code such as `validation_failed`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The `X-Request-Id` of the failed request; quote it in support requests.
    pub request_id: String,
    /// Field-level problems, for validation failures.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FieldProblem>>,
}

/// One invalid field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct FieldProblem {
    /// The field, as named in the request (`slug`, `limit`, `owner.email`).
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Readiness of the process and its dependencies. Everything but `status`
/// is present only for the internal network or an operator.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct Health {
    /// `ok` when every dependency answered; `unavailable` when one did not;
    /// `draining` while the process shuts down.
    pub status: String,
    /// The API build version.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The commit the binary was built from (`unknown` outside CI builds).
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_seconds: Option<u64>,
    /// Newest applied database migration; absent if the database is down.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_version: Option<i64>,
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<HealthChecks>,
}

/// One entry per dependency.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct HealthChecks {
    /// The runtime role's pool.
    pub database: DependencyCheck,
    /// The platform role's pool.
    pub platform_database: DependencyCheck,
    pub redis: DependencyCheck,
    /// The bucket of project files; absent when files are off. Reported,
    /// not required: without storage only files are unavailable, so
    /// readiness does not depend on it.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<DependencyCheck>,
}

/// The outcome of one dependency check.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct DependencyCheck {
    /// `ok` or `error`.
    pub status: String,
    pub latency_ms: f64,
    /// What failed, in general terms (no addresses or credentials).
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A tenant and the caller's role in it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct TenantMembership {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub role: Role,
}

/// The tokens of a session just opened or refreshed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct SessionTokens {
    /// PASETO v4.public, for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Present when the refresh token is delivered in the body.
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub tenant: TenantMembership,
}

/// The signed-in user, the active tenant, the role there and what it allows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
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
    /// a client uses this only to choose what to offer.
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
