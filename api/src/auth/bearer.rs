//! The bearer access token as a security scheme: verified while the request
//! is read, with its session checked in Redis, so a revoked session's access
//! tokens stop working at once on every replica.

use db::{SessionId, TenantId, UserId};
use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::SecurityScheme;

use crate::error::ApiError;
use crate::state::AppState;

/// Who is calling, from a verified access token of an open session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub tenant: TenantId,
    pub session: SessionId,
}

/// `Authorization: Bearer <PASETO v4.public access token>`.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer", rename = "BearerToken", checker = "check_access")]
pub struct BearerAccess(pub Caller);

/// A bearer access token when the request carries one; anonymous otherwise
/// (an invalid token counts as none). For routes that anyone may call but
/// that do more for a signed-in caller.
#[derive(Debug, SecurityScheme)]
pub enum OptionalBearer {
    Bearer(BearerAccess),
    #[oai(fallback)]
    Anonymous,
}

impl OptionalBearer {
    pub fn caller(&self) -> Option<Caller> {
        match self {
            Self::Bearer(BearerAccess(caller)) => Some(*caller),
            Self::Anonymous => None,
        }
    }
}

async fn check_access(req: &Request, bearer: Bearer) -> poem::Result<Caller> {
    let state = req.data::<AppState>().ok_or_else(|| ApiError::internal("no application state on the request"))?;
    let claims = state
        .tokens
        .verify_access_cached(&bearer.token)
        .await
        .map_err(|_| ApiError::unauthenticated("the access token is not valid"))?;
    let open = state.access_cache.session_open(claims.session, state.refresh.is_active(&state.redis, claims.session));
    match open.await {
        Ok(true) => Ok(Caller { user: claims.user, tenant: claims.tenant, session: claims.session }),
        Ok(false) => Err(ApiError::unauthenticated("the session has ended").into()),
        Err(err) => Err(ApiError::unavailable(format_args!("session check: {err}")).into()),
    }
}
