//! Who may call a tenant route: a signed-in member (bearer access token) or
//! an integrator (API key). Either way the request acts in one tenant.

use db::{TenantId, UserId};
use poem_openapi::SecurityScheme;

use crate::auth::api_key::{ApiKeyAccess, KeyCaller};
use crate::auth::bearer::{BearerAccess, Caller};

/// An API key or a bearer access token. When neither is accepted, the
/// error answered is the bearer token's (tried last), so a signed-in caller
/// learns why (401, or 503 when sessions cannot be checked).
#[derive(Debug, SecurityScheme)]
pub enum Access {
    ApiKey(ApiKeyAccess),
    Bearer(BearerAccess),
}

/// The authenticated caller of a tenant route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User(Caller),
    Key(KeyCaller),
}

impl Access {
    pub fn principal(self) -> Principal {
        match self {
            Access::Bearer(BearerAccess(caller)) => Principal::User(caller),
            Access::ApiKey(ApiKeyAccess(key)) => Principal::Key(key),
        }
    }
}

impl Principal {
    pub fn tenant(&self) -> TenantId {
        match self {
            Principal::User(c) => c.tenant,
            Principal::Key(k) => k.tenant,
        }
    }

    /// The acting user; API keys act for no one.
    pub fn user(&self) -> Option<UserId> {
        match self {
            Principal::User(c) => Some(c.user),
            Principal::Key(_) => None,
        }
    }
}
