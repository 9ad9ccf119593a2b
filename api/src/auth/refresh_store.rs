//! Refresh-token state in Redis, shared by every replica.
//!
//! Allow-list semantics: a refresh token is valid only while its record
//! exists, so losing Redis's data signs everyone out rather than letting a
//! revoked token back in. Each use rotates the token atomically (one Lua
//! script): the old record is marked used and names its successor. A second
//! use within a short grace period (two tabs refreshing at once) gets the
//! same successor; any later use is a replay, and revokes the whole family.
//! A family ends at its absolute lifetime however often it is refreshed.
//!
//! Redis holds no usable token: records are keyed by the SHA-256 of the
//! token id, and a successor's id is derived from its predecessor's (so the
//! concurrent case can hand it out again without storing it). A copy of
//! Redis's data lets no one refresh a session.
//!
//! Keys (all with TTLs, so nothing grows without bound):
//! - `rt:{sha256(id)}`: hash `family`, `user`, `tenant`, `state`
//!   (active|used), `successor` (its hash), `used_at_ms`
//! - `fam:{family}`: hash `user`, `tenant`, `created_at_ms`: the session
//! - `fam:{family}:tokens`: set of the family's token hashes
//! - `user:{user}:families`: set of the user's families

use std::time::Duration;

use db::{SessionId, TenantId, UserId};
use uuid::Uuid;

use crate::auth::access_cache::Invalidation;
use crate::auth::secrets::{self, now_ms};
use crate::redis_conn::Redis;

/// What rotating a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: here is its successor.
    Rotated { successor: String, family: SessionId, user: UserId, tenant: TenantId },
    /// The token was rotated a moment ago (concurrent refresh): the same
    /// successor again.
    Concurrent { successor: String, family: SessionId, user: UserId, tenant: TenantId },
    /// The token had been used before: the family is now revoked.
    ReuseDetected { family: SessionId, user: UserId, tenant: TenantId },
    /// No such token (expired, revoked, or never issued).
    Unknown,
}

/// Where a session was opened from, shown in the sessions list.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub ip: String,
    pub user_agent: String,
}

/// One open session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub family: SessionId,
    pub tenant: TenantId,
    pub ip: String,
    pub user_agent: String,
    pub created_at_ms: u64,
    pub last_used_at_ms: u64,
}

/// The refresh-token store.
#[derive(Debug, Clone)]
pub struct RefreshStore {
    prefix: String,
    lifetime: Duration,
    grace: Duration,
    max_lifetime: Duration,
}

const ROTATE: &str = r#"
-- KEYS[1] = old token key; ARGV = prefix, successor hash, now ms, grace ms,
-- ttl s, max lifetime ms, invalidation channel, session tag
local old = redis.call('HGETALL', KEYS[1])
if #old == 0 then return {'unknown'} end
local t = {}
for i = 1, #old, 2 do t[old[i]] = old[i + 1] end
local prefix, new_id, now, grace, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local max_lifetime = tonumber(ARGV[6])
local channel, tag = ARGV[7], ARGV[8]
local fam_key = prefix .. 'fam:' .. t.family
local created = tonumber(redis.call('HGET', fam_key, 'created_at_ms'))
if not created then
  redis.call('DEL', KEYS[1])
  return {'unknown'}
end
local remaining = created + max_lifetime - now
if remaining <= 0 then
  -- Past its absolute lifetime: the session ends, used or not.
  local ids = redis.call('SMEMBERS', fam_key .. ':tokens')
  for _, id in ipairs(ids) do redis.call('DEL', prefix .. 'rt:' .. id) end
  redis.call('DEL', fam_key, fam_key .. ':tokens')
  redis.call('SREM', prefix .. 'user:' .. t.user .. ':families', t.family)
  redis.call('PUBLISH', channel, tag .. t.family)
  return {'expired'}
end
ttl = math.min(ttl, math.ceil(remaining / 1000))
if t.state == 'active' then
  local new_key = prefix .. 'rt:' .. new_id
  redis.call('HSET', new_key, 'family', t.family, 'user', t.user, 'tenant', t.tenant, 'state', 'active')
  redis.call('EXPIRE', new_key, ttl)
  redis.call('HSET', KEYS[1], 'state', 'used', 'successor', new_id, 'used_at_ms', now)
  redis.call('HSET', fam_key, 'last_used_at_ms', now)
  redis.call('SADD', fam_key .. ':tokens', new_id)
  redis.call('EXPIRE', fam_key, ttl)
  redis.call('EXPIRE', fam_key .. ':tokens', ttl)
  -- The user's index of sessions lives as long as the longest of them:
  -- never shortened to this session's remaining lifetime, or a younger
  -- session would drop out of it (and out of sign-out everywhere).
  local families = prefix .. 'user:' .. t.user .. ':families'
  redis.call('SADD', families, t.family)
  if redis.call('TTL', families) < ttl then redis.call('EXPIRE', families, ttl) end
  return {'rotated', t.family, t.user, t.tenant}
end
if now - tonumber(t.used_at_ms) <= grace
   and redis.call('EXISTS', prefix .. 'rt:' .. t.successor) == 1 then
  return {'concurrent', t.family, t.user, t.tenant}
end
-- A replay: end the whole family.
local ids = redis.call('SMEMBERS', fam_key .. ':tokens')
for _, id in ipairs(ids) do redis.call('DEL', prefix .. 'rt:' .. id) end
redis.call('DEL', fam_key, fam_key .. ':tokens')
redis.call('SREM', prefix .. 'user:' .. t.user .. ':families', t.family)
redis.call('PUBLISH', channel, tag .. t.family)
return {'reuse', t.family, t.user, t.tenant}
"#;

const REVOKE_FAMILY: &str = r#"
-- ARGV = prefix, family, invalidation channel, session tag
local prefix, family, channel, tag = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local fam_key = prefix .. 'fam:' .. family
local user = redis.call('HGET', fam_key, 'user')
local ids = redis.call('SMEMBERS', fam_key .. ':tokens')
for _, id in ipairs(ids) do redis.call('DEL', prefix .. 'rt:' .. id) end
local open = redis.call('DEL', fam_key)
redis.call('DEL', fam_key .. ':tokens')
if user then redis.call('SREM', prefix .. 'user:' .. user .. ':families', family) end
-- Every replica drops its cached answer for this session.
redis.call('PUBLISH', channel, tag .. family)
return open
"#;

impl RefreshStore {
    /// `lifetime`: how long an unused refresh token lives; `grace`: how long
    /// a used one still yields its successor (concurrent refreshes);
    /// `max_lifetime`: when a session ends however often it is refreshed.
    pub fn new(prefix: &str, lifetime: Duration, grace: Duration, max_lifetime: Duration) -> Self {
        Self { prefix: prefix.to_owned(), lifetime, grace, max_lifetime }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime.min(self.max_lifetime)
    }

    /// Opens a session: a new family and its first token id.
    pub async fn start(
        &self,
        redis: &Redis,
        user: UserId,
        tenant: TenantId,
        device: &Device,
    ) -> redis::RedisResult<(SessionId, String)> {
        let family = SessionId::random();
        let id = random_id();
        let stored = stored_id(&id);
        let ttl = self.lifetime().as_secs() as i64;
        let fam_key = format!("{}fam:{family}", self.prefix);
        let token_key = format!("{}rt:{stored}", self.prefix);
        let families = format!("{}user:{user}:families", self.prefix);
        let now = now_ms();
        let mut conn = redis.conn().await?;
        redis::pipe()
            .atomic()
            .hset_multiple(
                &fam_key,
                &[
                    ("user", user.to_string()),
                    ("tenant", tenant.to_string()),
                    ("created_at_ms", now.to_string()),
                    ("last_used_at_ms", now.to_string()),
                    ("ip", device.ip.clone()),
                    ("user_agent", device.user_agent.clone()),
                ],
            )
            .expire(&fam_key, ttl)
            .hset_multiple(
                &token_key,
                &[
                    ("family", family.to_string()),
                    ("user", user.to_string()),
                    ("tenant", tenant.to_string()),
                    ("state", "active".to_owned()),
                ],
            )
            .expire(&token_key, ttl)
            .sadd(format!("{fam_key}:tokens"), &stored)
            .expire(format!("{fam_key}:tokens"), ttl)
            .sadd(&families, family.to_string())
            .expire(&families, ttl)
            .query_async::<()>(&mut conn)
            .await?;
        Ok((family, id))
    }

    /// Uses a refresh token: rotates it, hands out the same successor to a
    /// concurrent use, or detects a replay and revokes the family.
    pub async fn rotate(&self, redis: &Redis, id: &str) -> redis::RedisResult<Rotation> {
        let successor = successor_of(id);
        let mut conn = redis.conn().await?;
        let reply: Vec<String> = redis::Script::new(ROTATE)
            .key(format!("{}rt:{}", self.prefix, stored_id(id)))
            .arg(&self.prefix)
            .arg(stored_id(&successor))
            .arg(now_ms())
            .arg(self.grace.as_millis() as u64)
            .arg(self.lifetime.as_secs())
            .arg(self.max_lifetime.as_millis() as u64)
            .arg(crate::auth::access_cache::channel(&self.prefix))
            .arg(Invalidation::SESSION_TAG)
            .invoke_async(&mut conn)
            .await?;
        Ok(parse_rotation(&reply, successor))
    }

    /// Whether the session (family) is still open.
    pub async fn is_active(&self, redis: &Redis, family: SessionId) -> redis::RedisResult<bool> {
        let mut conn = redis.conn().await?;
        redis::cmd("EXISTS").arg(format!("{}fam:{family}", self.prefix)).query_async(&mut conn).await
    }

    /// The user and tenant of an open session.
    pub async fn session(&self, redis: &Redis, family: SessionId) -> redis::RedisResult<Option<(UserId, TenantId)>> {
        let mut conn = redis.conn().await?;
        let (user, tenant): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(format!("{}fam:{family}", self.prefix))
            .arg("user")
            .arg("tenant")
            .query_async(&mut conn)
            .await?;
        let parse = |s: Option<String>| s.and_then(|s| s.parse::<Uuid>().ok());
        Ok(match (parse(user), parse(tenant)) {
            (Some(user), Some(tenant)) => Some((UserId::new(user), TenantId::new(tenant))),
            _ => None,
        })
    }

    /// Ends one session: every token of the family stops working. Returns
    /// whether this call ended it (`false`: it had ended already).
    pub async fn revoke_family(&self, redis: &Redis, family: SessionId) -> redis::RedisResult<bool> {
        let mut conn = redis.conn().await?;
        redis::Script::new(REVOKE_FAMILY)
            .arg(&self.prefix)
            .arg(family.to_string())
            .arg(crate::auth::access_cache::channel(&self.prefix))
            .arg(Invalidation::SESSION_TAG)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|ended| ended > 0)
    }

    /// The user's open sessions, most recently used first.
    pub async fn sessions(&self, redis: &Redis, user: UserId) -> redis::RedisResult<Vec<SessionInfo>> {
        let mut conn = redis.conn().await?;
        let families: Vec<String> =
            redis::cmd("SMEMBERS").arg(format!("{}user:{user}:families", self.prefix)).query_async(&mut conn).await?;
        let mut open = Vec::new();
        for family in families.iter().filter_map(|f| f.parse::<SessionId>().ok()) {
            let fields: std::collections::HashMap<String, String> =
                redis::cmd("HGETALL").arg(format!("{}fam:{family}", self.prefix)).query_async(&mut conn).await?;
            let (Some(tenant), Some(owner)) = (fields.get("tenant"), fields.get("user")) else { continue };
            if owner != &user.to_string() {
                continue;
            }
            let Ok(tenant) = tenant.parse::<Uuid>() else { continue };
            let number = |k: &str| fields.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
            open.push(SessionInfo {
                family,
                tenant: TenantId::new(tenant),
                ip: fields.get("ip").cloned().unwrap_or_default(),
                user_agent: fields.get("user_agent").cloned().unwrap_or_default(),
                created_at_ms: number("created_at_ms"),
                last_used_at_ms: number("last_used_at_ms"),
            });
        }
        open.sort_by_key(|s| std::cmp::Reverse(s.last_used_at_ms));
        Ok(open)
    }

    /// Ends every session of the user; returns the families ended.
    pub async fn revoke_user(&self, redis: &Redis, user: UserId) -> redis::RedisResult<Vec<SessionId>> {
        let mut conn = redis.conn().await?;
        let families: Vec<String> =
            redis::cmd("SMEMBERS").arg(format!("{}user:{user}:families", self.prefix)).query_async(&mut conn).await?;
        let mut ended = Vec::new();
        for family in families.iter().filter_map(|f| f.parse().ok()) {
            self.revoke_family(redis, family).await?;
            ended.push(family);
        }
        Ok(ended)
    }
}

fn parse_rotation(reply: &[String], successor: String) -> Rotation {
    let uuid = |i: usize| reply.get(i).and_then(|s| s.parse::<Uuid>().ok());
    match reply.first().map(String::as_str) {
        Some(kind @ ("rotated" | "concurrent")) => match (uuid(1), uuid(2), uuid(3)) {
            (Some(family), Some(user), Some(tenant)) => {
                let (family, user, tenant) = (SessionId::new(family), UserId::new(user), TenantId::new(tenant));
                if kind == "rotated" {
                    Rotation::Rotated { successor, family, user, tenant }
                } else {
                    Rotation::Concurrent { successor, family, user, tenant }
                }
            }
            _ => Rotation::Unknown,
        },
        Some("reuse") => match (uuid(1), uuid(2), uuid(3)) {
            (Some(family), Some(user), Some(tenant)) => Rotation::ReuseDetected {
                family: SessionId::new(family),
                user: UserId::new(user),
                tenant: TenantId::new(tenant),
            },
            _ => Rotation::Unknown,
        },
        _ => Rotation::Unknown,
    }
}

/// What Redis keeps of a token id: its SHA-256, hex.
fn stored_id(id: &str) -> String {
    secrets::sha256_hex(id)
}

/// The id of the token that succeeds `id`: derived, so that a concurrent
/// refresh can be handed the same successor without Redis storing it. As
/// unguessable as `id` itself (256 random bits) to anyone who lacks it.
fn successor_of(id: &str) -> String {
    secrets::sha256_hex(&format!("tenantry-refresh-successor:{id}"))
}

/// 256 random bits, hex.
fn random_id() -> String {
    secrets::random_hex(32)
}
