//! The HTTP surface: one `#[OpenApi]` struct per resource, combined into one
//! service in `startup`.

pub mod api_keys;
pub mod auth;
pub mod files;
pub mod health;
pub mod invitations;
pub mod members;
pub mod onboarding;
pub mod overview;
pub mod paging;
pub mod projects;
pub mod tenants;

use poem_openapi::Tags;

/// Groups in the API reference.
#[derive(Debug, Tags)]
pub enum ApiTags {
    /// Liveness and readiness of this process and its dependencies.
    Health,
    /// Tenant provisioning, for platform operators.
    Tenants,
    /// Sign-in and sessions.
    Auth,
    /// The tenant's members, its audit log and its overview.
    Members,
    /// API keys for integrators.
    ApiKeys,
    /// Projects, the example tenant resource.
    Projects,
    /// Files attached to projects, stored in S3 through presigned URLs.
    Files,
}
