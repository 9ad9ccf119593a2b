//! PASETO tokens. Access tokens are `v4.public`, signed with one current key
//! and verified with any key of the verification set (so keys rotate without
//! signing anyone out), short-lived (at most 15 minutes), with `iss`, `aud`,
//! `exp`, `nbf`, `iat` and a token type checked, and the key id in the
//! footer (the key's PASERK id, `k4.pid.…`, derived from the key itself). Refresh tokens are `v4.local` (encrypted: the client cannot read
//! or forge the id and family inside); their state lives in Redis.
//!
//! Every failure is a [`TokenError`]; callers answer all of them with 401.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use db::{SessionId, TenantId, UserId};
use pasetors::claims::{Claims, ClaimsValidationRules};
use pasetors::errors::{ClaimValidationError, Error as PasetoError};
use pasetors::footer::Footer;
use pasetors::keys::{AsymmetricKeyPair, AsymmetricPublicKey, AsymmetricSecretKey, Generate, SymmetricKey};
use pasetors::paserk::{FormatAsPaserk, Id};
use pasetors::token::UntrustedToken;
use pasetors::version4::{self, V4};
use pasetors::{local, Local, Public};
use uuid::Uuid;

/// The `kid` of a token footer (`{"kid":"k4.pid.…"}`), read with serde:
/// pasetors' `Footer::parse_bytes` compiles a regular expression on every
/// call, which was an eighth of an authenticated request's CPU.
pub fn footer_key_id(footer: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct KeyId {
        kid: String,
    }
    // serde would also take `["…"]` for the struct; a footer is an object.
    if footer.trim_ascii_start().first() != Some(&b'{') {
        return None;
    }
    serde_json::from_slice::<KeyId>(footer).ok().map(|f| f.kid)
}

/// The longest an access token may live.
pub const MAX_ACCESS_TTL: Duration = Duration::from_secs(15 * 60);

const ACCESS: &str = "access";
const REFRESH: &str = "refresh";

/// Why a token was refused. None of these is shown to clients in detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a token of the expected version and purpose")]
    Malformed,
    #[error("the key id is unknown")]
    UnknownKey,
    #[error("the signature or encryption does not verify")]
    BadSignature,
    #[error("expired")]
    Expired,
    #[error("not valid yet")]
    NotYetValid,
    #[error("wrong issuer")]
    WrongIssuer,
    #[error("wrong audience")]
    WrongAudience,
    #[error("wrong token type")]
    WrongType,
    #[error("claim `{0}` is missing or malformed")]
    BadClaim(&'static str),
    #[error("key material is unusable: {0}")]
    Key(String),
}

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user: UserId,
    pub tenant: TenantId,
    /// The session (refresh-token family) the token was issued for.
    pub session: SessionId,
    pub expires_at: DateTime<Utc>,
}

/// What a refresh token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshClaims {
    /// Random, 256 bits, hex: the key of its state in Redis.
    pub id: String,
    pub family: SessionId,
}

/// The keys and rules for issuing and checking tokens.
pub struct TokenKeys {
    issuer: String,
    audience: String,
    access_ttl: Duration,
    signing_kid: String,
    signing: AsymmetricSecretKey<V4>,
    verifying: HashMap<String, AsymmetricPublicKey<V4>>,
    refresh: SymmetricKey<V4>,
    /// Access tokens this process has verified, by their exact text, with
    /// their claims ([`TokenKeys::verify_access_cached`]).
    verified: moka::future::Cache<String, AccessClaims>,
}

/// How many verified access tokens are remembered (about 300 bytes each).
const VERIFIED_CAPACITY: u64 = 50_000;

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<&String> = self.verifying.keys().collect();
        kids.sort();
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("signing_kid", &self.signing_kid)
            .field("verifying_kids", &kids)
            .finish_non_exhaustive()
    }
}

/// Key material as configured: hex strings.
#[derive(Debug, Clone)]
pub struct KeyMaterial<'a> {
    /// Ed25519 seed followed by the public key (64 bytes), hex.
    pub signing_key_hex: &'a str,
    /// Public keys of earlier signing keys, still accepted (32 bytes, hex).
    pub previous_keys: &'a [&'a str],
    /// 32-byte symmetric key for refresh tokens, hex.
    pub refresh_key_hex: &'a str,
}

/// The PASERK id (`k4.pid.…`) of a public key: the footer's `kid`.
pub fn key_id(key: &AsymmetricPublicKey<V4>) -> String {
    let mut id = String::new();
    // Writing into a String cannot fail.
    let _ = Id::from(key).fmt(&mut id);
    id
}

impl TokenKeys {
    pub fn new(issuer: &str, audience: &str, access_ttl: Duration, keys: &KeyMaterial<'_>) -> Result<Self, TokenError> {
        if access_ttl.is_zero() || access_ttl > MAX_ACCESS_TTL {
            return Err(TokenError::Key(format!("the access token lifetime must be 1 s to {MAX_ACCESS_TTL:?}")));
        }
        let secret = AsymmetricSecretKey::<V4>::from(&from_hex(keys.signing_key_hex, 64)?)
            .map_err(|e| TokenError::Key(format!("signing key: {e:?}")))?;
        let public =
            AsymmetricPublicKey::<V4>::try_from(&secret).map_err(|e| TokenError::Key(format!("signing key: {e:?}")))?;
        let signing_kid = key_id(&public);
        let mut verifying = HashMap::from([(signing_kid.clone(), public)]);
        for hex in keys.previous_keys {
            let key = AsymmetricPublicKey::<V4>::from(&from_hex(hex, 32)?)
                .map_err(|e| TokenError::Key(format!("previous key: {e:?}")))?;
            verifying.insert(key_id(&key), key);
        }
        let refresh = SymmetricKey::<V4>::from(&from_hex(keys.refresh_key_hex, 32)?)
            .map_err(|e| TokenError::Key(format!("refresh key: {e:?}")))?;
        Ok(Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            access_ttl,
            signing_kid,
            signing: secret,
            verifying,
            refresh,
            verified: moka::future::Cache::builder()
                .max_capacity(VERIFIED_CAPACITY)
                .time_to_live(MAX_ACCESS_TTL)
                .build(),
        })
    }

    /// Fresh keys, as hex: (signing key, its public key, refresh key). For
    /// `tenantry-api keygen` and tests.
    pub fn generate_hex() -> Result<(String, String, String), TokenError> {
        let pair = AsymmetricKeyPair::<V4>::generate().map_err(|e| TokenError::Key(format!("{e:?}")))?;
        let refresh = SymmetricKey::<V4>::generate().map_err(|e| TokenError::Key(format!("{e:?}")))?;
        Ok((to_hex(pair.secret.as_bytes()), to_hex(pair.public.as_bytes()), to_hex(refresh.as_bytes())))
    }

    /// Signs an access token for `user` acting in `tenant`.
    pub fn issue_access(&self, user: UserId, tenant: TenantId, session: SessionId) -> Result<String, TokenError> {
        let now = Utc::now();
        let expires = now + chrono::Duration::from_std(self.access_ttl).map_err(|e| TokenError::Key(e.to_string()))?;
        let mut claims = self.base_claims(now, expires, ACCESS)?;
        claims.subject(&user.to_string()).map_err(claim("sub"))?;
        claims.add_additional("tid", tenant.to_string()).map_err(claim("tid"))?;
        claims.add_additional("sid", session.to_string()).map_err(claim("sid"))?;
        self.sign(&claims)
    }

    /// [`TokenKeys::verify_access`], remembering tokens that passed: a
    /// client sends the same access token for its whole life, and the
    /// Ed25519 check is most of what checking it costs. Only the exact text
    /// of a token that passed is found again, and its expiry is checked on
    /// every use; the session behind it is checked by the caller each time.
    pub async fn verify_access_cached(&self, token: &str) -> Result<AccessClaims, TokenError> {
        if let Some(claims) = self.verified.get(token).await {
            if claims.expires_at > Utc::now() {
                return Ok(claims);
            }
        }
        let claims = self.verify_access(token)?;
        self.verified.insert(token.to_owned(), claims.clone()).await;
        Ok(claims)
    }

    /// Verifies an access token and reads its claims.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let untrusted = UntrustedToken::<Public, V4>::try_from(token).map_err(|_| TokenError::Malformed)?;
        // The key id is read from the untrusted footer only to pick a key;
        // the signature covers the footer, so a changed footer fails below.
        let kid = footer_key_id(untrusted.untrusted_footer()).ok_or(TokenError::UnknownKey)?;
        let key = self.verifying.get(&kid).ok_or(TokenError::UnknownKey)?;
        let trusted = version4::PublicToken::verify(key, &untrusted, Some(untrusted.untrusted_footer()), None)
            .map_err(|_| TokenError::BadSignature)?;
        let claims = Claims::from_string(trusted.payload()).map_err(|_| TokenError::Malformed)?;
        self.validate(&claims, ACCESS)?;
        let uuid = |name: &'static str| -> Result<Uuid, TokenError> {
            claims
                .get_claim(name)
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse().ok())
                .ok_or(TokenError::BadClaim(name))
        };
        let expires_at = claims
            .get_claim("exp")
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .ok_or(TokenError::BadClaim("exp"))?
            .with_timezone(&Utc);
        Ok(AccessClaims {
            user: UserId::new(uuid("sub")?),
            tenant: TenantId::new(uuid("tid")?),
            session: SessionId::new(uuid("sid")?),
            expires_at,
        })
    }

    /// Encrypts a refresh token carrying its id and family.
    pub fn seal_refresh(&self, claims: &RefreshClaims, lifetime: Duration) -> Result<String, TokenError> {
        let now = Utc::now();
        let expires = now + chrono::Duration::from_std(lifetime).map_err(|e| TokenError::Key(e.to_string()))?;
        let mut paseto = self.base_claims(now, expires, REFRESH)?;
        paseto.token_identifier(&claims.id).map_err(claim("jti"))?;
        paseto.add_additional("fam", claims.family.to_string()).map_err(claim("fam"))?;
        local::encrypt(&self.refresh, &paseto, None, None).map_err(|e| TokenError::Key(format!("{e:?}")))
    }

    /// Decrypts a refresh token and reads its id and family. Whether it is
    /// still valid is for its state in Redis to say.
    pub fn open_refresh(&self, token: &str) -> Result<RefreshClaims, TokenError> {
        let untrusted = UntrustedToken::<Local, V4>::try_from(token).map_err(|_| TokenError::Malformed)?;
        let trusted = local::decrypt(&self.refresh, &untrusted, &ClaimsValidationRules::new(), None, None)
            .map_err(map_paseto_error)?;
        let claims = trusted.payload_claims().ok_or(TokenError::Malformed)?;
        self.validate(claims, REFRESH)?;
        let id = claims.get_claim("jti").and_then(|v| v.as_str()).ok_or(TokenError::BadClaim("jti"))?;
        if id.len() < 64 {
            return Err(TokenError::BadClaim("jti"));
        }
        let family = claims
            .get_claim("fam")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse().ok())
            .ok_or(TokenError::BadClaim("fam"))?;
        Ok(RefreshClaims { id: id.to_owned(), family })
    }

    fn base_claims(&self, now: DateTime<Utc>, expires: DateTime<Utc>, kind: &str) -> Result<Claims, TokenError> {
        let mut claims = Claims::new().map_err(claim("iat"))?;
        let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        claims.issued_at(&stamp(now)).map_err(claim("iat"))?;
        claims.not_before(&stamp(now)).map_err(claim("nbf"))?;
        claims.expiration(&stamp(expires)).map_err(claim("exp"))?;
        claims.issuer(&self.issuer).map_err(claim("iss"))?;
        claims.audience(&self.audience).map_err(claim("aud"))?;
        claims.add_additional("typ", kind).map_err(claim("typ"))?;
        Ok(claims)
    }

    pub(crate) fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        let footer = self.footer();
        pasetors::public::sign(&self.signing, claims, Some(&footer), None)
            .map_err(|e| TokenError::Key(format!("{e:?}")))
    }

    /// The footer of our tokens: the signing key's id.
    pub(crate) fn footer(&self) -> Footer {
        let mut footer = Footer::new();
        footer.key_id(&Id::from(&self.verifying[&self.signing_kid]));
        footer
    }

    fn validate(&self, claims: &Claims, kind: &str) -> Result<(), TokenError> {
        let mut rules = ClaimsValidationRules::new();
        rules.validate_issuer_with(&self.issuer);
        rules.validate_audience_with(&self.audience);
        rules.validate_claims(claims).map_err(map_paseto_error)?;
        match claims.get_claim("typ").and_then(|v| v.as_str()) {
            Some(t) if t == kind => Ok(()),
            _ => Err(TokenError::WrongType),
        }
    }

    #[cfg(test)]
    pub(crate) fn signing_kid(&self) -> &str {
        &self.signing_kid
    }
}

fn claim(name: &'static str) -> impl Fn(PasetoError) -> TokenError {
    move |_| TokenError::BadClaim(name)
}

fn map_paseto_error(err: PasetoError) -> TokenError {
    match err {
        PasetoError::ClaimValidation(ClaimValidationError::Exp) => TokenError::Expired,
        PasetoError::ClaimValidation(ClaimValidationError::Nbf | ClaimValidationError::Iat) => TokenError::NotYetValid,
        PasetoError::ClaimValidation(ClaimValidationError::Iss) => TokenError::WrongIssuer,
        PasetoError::ClaimValidation(ClaimValidationError::Aud) => TokenError::WrongAudience,
        PasetoError::ClaimValidation(_) => TokenError::BadClaim("registered claims"),
        PasetoError::TokenValidation => TokenError::BadSignature,
        _ => TokenError::Malformed,
    }
}

fn from_hex(hex: &str, len: usize) -> Result<Vec<u8>, TokenError> {
    let hex = hex.trim();
    if hex.len() != len * 2 {
        return Err(TokenError::Key(format!("expected {len} bytes ({} hex digits)", len * 2)));
    }
    (0..len)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| TokenError::Key("not hex".into())))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
