//! API keys for integrators: `tnt_<12 hex prefix>_<64 hex secret>`, sent as
//! `X-API-Key`. Only a SHA-256 of the whole key is stored; the key is shown
//! once. The database authenticates a presented key (prefix and hash
//! together, on the platform path; the stored hash never leaves it), so
//! revocation and expiry count at once on every replica; each use is
//! limited per key and recorded as the key's last use. Refusals reach the
//! security log.

use chrono::Utc;
use db::{ApiKeyId, Role, TenantId};
use poem::Request;
use poem_openapi::auth::ApiKey;
use poem_openapi::SecurityScheme;

use crate::auth::secrets;
use crate::error::ApiError;
use crate::state::AppState;

const SCHEME: &str = "tnt";

/// A freshly made key: what to store and what to show once.
#[derive(Debug)]
pub struct NewKey {
    pub prefix: String,
    pub secret_hash: String,
    /// The whole key, shown to its creator once.
    pub key: String,
}

pub fn generate() -> NewKey {
    let hex = secrets::random_hex(38);
    let (prefix, secret) = hex.split_at(12);
    let key = format!("{SCHEME}_{prefix}_{secret}");
    NewKey { prefix: prefix.to_owned(), secret_hash: hash(&key), key }
}

pub fn hash(key: &str) -> String {
    secrets::sha256_hex(key)
}

/// The prefix of a well-formed key.
fn prefix_of(key: &str) -> Option<&str> {
    let mut parts = key.split('_');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(SCHEME), Some(prefix), Some(secret), None)
            if prefix.len() == 12
                && secret.len() == 64
                && prefix.bytes().chain(secret.bytes()).all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Some(prefix)
        }
        _ => None,
    }
}

/// A request authenticated by an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCaller {
    pub key: ApiKeyId,
    pub tenant: TenantId,
    pub role: Role,
    /// The key is over its limit (or the limit could not be counted): the
    /// route answers that, once authorization starts ([`crate::auth::authorize::require`]).
    /// Carried rather than raised here, so that it is not lost when the
    /// security scheme goes on to try a bearer token.
    pub throttled: Option<Throttled>,
}

/// Why a key's request may not proceed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    RetryAfter(u64),
    Unavailable,
}

/// `X-API-Key: tnt_…`, an integrator's key.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-API-Key", key_in = "header", rename = "ApiKey", checker = "check_key")]
pub struct ApiKeyAccess(pub KeyCaller);

async fn check_key(req: &Request, api_key: ApiKey) -> poem::Result<KeyCaller> {
    let state = req.data::<AppState>().ok_or_else(|| ApiError::internal("no application state on the request"))?;
    let presented_key = &api_key.key;
    let refused = |why: &'static str| async move {
        let origin = crate::request_meta::origin_of(req, state);
        // Only the public prefix is kept: a mistyped key is half a secret.
        let subject = prefix_of(presented_key).unwrap_or("malformed");
        match db::auth::record_security_event(&state.platform, why, subject, &origin).await {
            Ok(()) => poem::Error::from(ApiError::unauthenticated("the API key is not valid")),
            Err(err) => ApiError::from(err).into(),
        }
    };
    let Some(prefix) = prefix_of(&api_key.key) else {
        return Err(refused("api_key.malformed").await);
    };
    let presented = hash(&api_key.key);
    let record = state
        .access_cache
        .key(prefix, &presented, db::api_keys::authenticate(&state.platform, prefix, &presented))
        .await
        .map_err(ApiError::from)?;
    let Some(record) = record else {
        return Err(refused("api_key.refused").await);
    };
    if !record.tenant_active {
        return Err(refused("api_key.tenant_suspended").await);
    }
    if record.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(refused("api_key.expired").await);
    }
    let budget = state.settings.api_key_limit_per_minute;
    let throttled = match crate::rate_limit::hit_or_refuse(state, &format!("key:{}", record.id), budget).await {
        Ok(None) => None,
        Ok(Some(retry)) => Some(Throttled::RetryAfter(retry)),
        Err(_) => Some(Throttled::Unavailable),
    };
    // The database keeps one use a minute per key anyway: skip the
    // transaction when this replica recorded one less than a minute ago.
    if throttled.is_none() && state.access_cache.first_use_this_minute(record.id).await {
        let mut tx = db::TenantTx::begin(&state.db, record.tenant, None).await.map_err(ApiError::from)?;
        db::api_keys::touch(&mut tx, record.id).await.map_err(ApiError::from)?;
        tx.commit().await.map_err(ApiError::from)?;
    }
    Ok(KeyCaller { key: record.id, tenant: record.tenant, role: record.role, throttled })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_recognisable_and_only_their_hash_is_kept() {
        let new = generate();
        assert!(new.key.starts_with("tnt_"));
        assert_eq!(prefix_of(&new.key), Some(new.prefix.as_str()));
        assert_eq!(hash(&new.key), new.secret_hash);
        assert!(!new.secret_hash.contains(&new.key[17..]));
        for bad in [
            "",
            "tnt_",
            "tnt_abc_def",
            "xyz_0123456789ab_00",
            &new.key.replace("tnt_", "TNT_"),
            &format!("{}_x", new.key),
        ] {
            assert_eq!(prefix_of(bad), None, "{bad}");
        }
    }
}
