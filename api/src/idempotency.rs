//! `Idempotency-Key` on POSTs that create something. A client that cannot
//! tell whether its request went through sends it again with the same key:
//! the same caller, operation and body replay the first answer (status and
//! body) instead of creating a second thing; the same key with anything
//! else is 422. Keys are kept per tenant for 24 hours (`db::idempotency`
//! says how concurrent requests with one key are kept to one creation).

use poem::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::access::Principal;
use crate::auth::authorize::TenantScope;
use crate::error::ApiError;

/// A request's claim on its key, to be completed with [`Claimed::remember`].
#[derive(Debug)]
pub struct Claimed {
    key: Option<String>,
}

/// What the key says about this request.
#[derive(Debug)]
pub enum Idempotency<T> {
    /// Do the work, then [`Claimed::remember`] its answer in the same
    /// transaction.
    Fresh(Claimed),
    /// Answered before: this body, with its status.
    Replay(T),
}

/// Claims `key` (when the request has one) for `operation` with `request`
/// (the parsed body and path) in the scope's transaction. The key's syntax
/// (1–255 visible ASCII characters) is the header's pattern in the spec,
/// checked before the route runs; the table's CHECK holds it too.
pub async fn claim<T: DeserializeOwned>(
    scope: &mut TenantScope,
    key: Option<String>,
    operation: &str,
    request: &impl Serialize,
) -> Result<Idempotency<T>, ApiError> {
    let Some(key) = key else { return Ok(Idempotency::Fresh(Claimed { key: None })) };
    let caller = match scope.principal() {
        Principal::User(user) => format!("user:{}", user.user),
        Principal::Key(api_key) => format!("key:{}", api_key.key),
    };
    let mut hash = Sha256::new();
    for part in [caller.as_bytes(), operation.as_bytes(), &serde_json::to_vec(request).map_err(ApiError::internal)?] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    let fingerprint = hash.finalize();
    match db::idempotency::claim(scope.tx(), &key, &fingerprint).await? {
        db::idempotency::Claim::Fresh => Ok(Idempotency::Fresh(Claimed { key: Some(key) })),
        db::idempotency::Claim::Replay { response, .. } => {
            let body = serde_json::from_str(&response).map_err(ApiError::internal)?;
            Ok(Idempotency::Replay(body))
        }
        db::idempotency::Claim::Mismatch => Err(ApiError::refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used for another request in the last 24 hours",
        )),
    }
}

impl Claimed {
    /// Stores the answer under the key, in the transaction that did the
    /// work (so both commit, or neither).
    pub async fn remember(
        self,
        scope: &mut TenantScope,
        status: StatusCode,
        body: &impl Serialize,
    ) -> Result<(), ApiError> {
        if let Some(key) = self.key {
            let body = serde_json::to_string(body).map_err(ApiError::internal)?;
            db::idempotency::store(scope.tx(), &key, status.as_u16(), &body).await?;
        }
        Ok(())
    }
}
