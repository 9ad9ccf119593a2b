//! Route-level authorization: the caller's role is read from their
//! membership in the same tenant transaction as the work (so a role change or
//! removal counts from the next request, on every replica), and the Casbin
//! policy in `policies/` decides what the role may do.

use db::TenantTx;

use crate::auth::access::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Why a request was refused.
#[derive(Debug)]
pub enum Denied {
    /// Not (or no longer) a member of the token's tenant: the session is
    /// not valid for it.
    NotMember,
    /// A member whose role does not allow it.
    Forbidden,
}

impl Denied {
    /// The error body of the refusal (401 or 403, by variant).
    pub fn body(&self) -> poem_openapi::payload::Json<crate::error::ErrorBody> {
        match self {
            Denied::NotMember => {
                crate::error::ErrorBody::json("unauthenticated", "the session is not valid for this tenant")
            }
            Denied::Forbidden => crate::error::ErrorBody::json("forbidden", "your role does not allow this"),
        }
    }
}

/// Checks that `caller` may perform `action` on `object` in its tenant;
/// returns the role. A member's role is read from the membership; an API
/// key's is the key's own (checked when the key was).
pub async fn require(
    state: &AppState,
    tx: &mut TenantTx,
    caller: &Principal,
    object: &str,
    action: &str,
) -> Result<Result<String, Denied>, ApiError> {
    let role = match caller {
        Principal::User(user) => {
            match state.access_cache.role(user.tenant, user.user, db::members::role_of(tx, user.user)).await? {
                Some(role) => role,
                None => return Ok(Err(Denied::NotMember)),
            }
        }
        Principal::Key(key) => match key.throttled {
            None => key.role.clone(),
            Some(crate::auth::api_key::Throttled::RetryAfter(secs)) => return Err(ApiError::rate_limited(secs)),
            Some(crate::auth::api_key::Throttled::Unavailable) => {
                return Err(ApiError::unavailable("the API key's limit cannot be counted"))
            }
        },
    };
    let allowed = state
        .authorizer
        .role_allows(&role, &caller.tenant().to_string(), object, action, false)
        .map_err(ApiError::internal)?;
    Ok(if allowed { Ok(role) } else { Err(Denied::Forbidden) })
}
