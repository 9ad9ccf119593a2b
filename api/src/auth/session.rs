//! Opening sessions and answering with their tokens; shared by log-in and
//! refresh.

use db::auth::{MembershipView, Origin};
use db::{Role, TenantId, TenantStatus, TenantTx, UserId};
use poem_openapi::Enum;

use crate::auth::tokens::RefreshClaims;
use crate::error::ApiError;
use crate::state::AppState;

/// Where the refresh token goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum TokenDelivery {
    /// The `HttpOnly` cookie (browsers; the default).
    Cookie,
    /// The JSON body (clients that keep it themselves).
    Body,
}

pub use model::wire::{SessionTokens, TenantMembership};

/// A session just opened or refreshed: its tokens, and the `Set-Cookie`
/// value when the refresh token travels in the cookie.
#[derive(Debug)]
pub struct OpenedSession {
    pub tokens: SessionTokens,
    pub cookie: Option<String>,
}

/// The tenant to sign in to: the one asked for (by slug), else the last
/// used, else the first; active tenants only.
pub async fn choose_tenant(
    state: &AppState,
    user: UserId,
    slug: Option<&str>,
) -> Result<Option<MembershipView>, ApiError> {
    let active: Vec<MembershipView> = db::auth::memberships(&state.platform, user)
        .await?
        .into_iter()
        .filter(|m| m.status == TenantStatus::Active)
        .collect();
    if let Some(slug) = slug {
        return Ok(active.into_iter().find(|m| m.slug == slug));
    }
    let last: Option<String> = async {
        let mut conn = state.redis.conn().await.ok()?;
        redis::cmd("GET").arg(last_tenant_key(state, user)).query_async(&mut conn).await.ok()?
    }
    .await;
    let preferred = last.and_then(|id| active.iter().position(|m| m.tenant.to_string() == id));
    Ok(match preferred {
        Some(i) => Some(active[i].clone()),
        None => active.into_iter().next(),
    })
}

fn last_tenant_key(state: &AppState, user: UserId) -> String {
    format!("{}user:{user}:last_tenant", state.settings.redis_key_prefix)
}

/// Starts a session for `user` in `membership` and answers with its tokens.
pub async fn open(
    state: &AppState,
    user: UserId,
    membership: MembershipView,
    delivery: TokenDelivery,
    origin: &Origin,
) -> Result<OpenedSession, ApiError> {
    let device = crate::auth::refresh_store::Device { ip: origin.ip.clone(), user_agent: origin.user_agent.clone() };
    let (family, id) = match state.refresh.start(&state.redis, user, membership.tenant, &device).await {
        Ok(started) => started,
        Err(err) => return Err(ApiError::unavailable(err)),
    };
    audit(state, membership.tenant, Some(user), "login.succeeded", &family.to_string(), origin).await?;
    if let Ok(mut conn) = state.redis.conn().await {
        let ttl = state.settings.auth.refresh_ttl.as_secs();
        let key = last_tenant_key(state, user);
        let _: redis::RedisResult<()> = redis::cmd("SET")
            .arg(&key)
            .arg(membership.tenant.to_string())
            .arg("EX")
            .arg(ttl)
            .query_async(&mut conn)
            .await;
    }
    tokens_response(state, user, membership, RefreshClaims { id, family }, delivery)
}

/// A fresh access token and the (sealed) refresh token, delivered as asked.
pub fn tokens_response(
    state: &AppState,
    user: UserId,
    membership: MembershipView,
    refresh: RefreshClaims,
    delivery: TokenDelivery,
) -> Result<OpenedSession, ApiError> {
    let lifetime = state.refresh.lifetime();
    let access = state.tokens.issue_access(user, membership.tenant, refresh.family).map_err(ApiError::internal)?;
    let sealed = state.tokens.seal_refresh(&refresh, lifetime).map_err(ApiError::internal)?;
    let (body_token, set_cookie) = match delivery {
        TokenDelivery::Body => (Some(sealed), None),
        TokenDelivery::Cookie => (None, Some(state.settings.auth.refresh_cookie.set(&sealed, lifetime.as_secs()))),
    };
    Ok(OpenedSession {
        tokens: SessionTokens {
            access_token: access,
            token_type: "Bearer".into(),
            expires_in: state.settings.auth.access_ttl.as_secs(),
            refresh_token: body_token,
            tenant: membership_view(membership),
        },
        cookie: set_cookie,
    })
}

pub fn membership_view(m: MembershipView) -> TenantMembership {
    TenantMembership { id: m.tenant, slug: m.slug, name: m.name, role: m.role }
}

/// Appends to the tenant's audit log, as `actor`.
pub async fn audit(
    state: &AppState,
    tenant: TenantId,
    actor: Option<UserId>,
    action: &str,
    target: &str,
    origin: &Origin,
) -> Result<(), ApiError> {
    let mut tx = TenantTx::begin(&state.db, tenant, actor).await?;
    db::auth::audit(&mut tx, action, target, origin).await?;
    tx.commit().await?;
    Ok(())
}

/// `object:action` (`:own` when limited to owned objects) for a role, from
/// the policy in `policies/`.
pub fn permissions_of(role: Role) -> Vec<String> {
    static RULES: std::sync::OnceLock<Vec<policies::Permission>> = std::sync::OnceLock::new();
    let rules = RULES.get_or_init(|| policies::permissions(policies::POLICY).unwrap_or_default());
    rules
        .iter()
        .filter(|r| r.role == role.as_str())
        .map(|r| {
            if r.condition == "owner" {
                format!("{}:{}:own", r.object, r.action)
            } else {
                format!("{}:{}", r.object, r.action)
            }
        })
        .collect()
}
