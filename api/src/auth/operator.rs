//! Platform operators: the operator bearer token (`APP_OPERATOR_TOKEN`) as a
//! security scheme, checked in constant time while the request is read;
//! refusals reach the security log.

use poem_openapi::auth::Bearer;
use poem_openapi::SecurityScheme;

use crate::error::ApiError;
use crate::state::AppState;

/// Platform operator token, sent as `Authorization: Bearer <token>`.
/// Checked while the request is read, before its body is looked at.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer", rename = "OperatorToken", checker = "check_operator")]
pub struct OperatorToken(pub Operator);

/// Proof that the request carries the operator token.
#[derive(Debug)]
pub struct Operator;

async fn check_operator(req: &poem::Request, bearer: Bearer) -> poem::Result<Operator> {
    let state = req.data::<AppState>().ok_or_else(|| ApiError::internal("no application state on the request"))?;
    if is_operator_token(state, &bearer.token) {
        return Ok(Operator);
    }
    let origin = crate::request_meta::origin_of(req, state);
    db::auth::record_security_event(&state.platform, "operator.token_refused", req.uri().path(), &origin)
        .await
        .map_err(ApiError::from)?;
    Err(ApiError::unauthenticated("a valid operator token is required").into())
}

/// Whether `token` is the operator token (none is, when it is not set).
pub fn is_operator_token(state: &AppState, token: &str) -> bool {
    state
        .settings
        .operator_token
        .as_ref()
        .is_some_and(|expected| constant_time_eq(token.as_bytes(), expected.expose().as_bytes()))
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
