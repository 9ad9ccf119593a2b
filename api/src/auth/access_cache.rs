//! In-process caches of what every authenticated request checks: whether a
//! session is open, a member's role in a tenant (none when removed or the
//! tenant is suspended), and an API key's record. Each replica keeps its own
//! (moka); a change made through the API is published on a Redis channel and
//! every replica drops the entry at once. Out-of-band changes (SQL by hand)
//! count when the entry expires: `APP_ACCESS_CACHE_TTL_MS`, one second by
//! default.
//!
//! The cache is used only while this replica is subscribed to the channel:
//! without the subscription it could miss an invalidation, so every check
//! goes to Redis or PostgreSQL until the subscription is back (and the cache
//! starts empty again).

use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use db::{ApiKeyId, Role, SessionId, TenantId, UserId};
use futures_util::StreamExt;
use moka::future::Cache;

use crate::redis_conn::Redis;

/// What changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// A session (refresh family) ended.
    Session(SessionId),
    /// A membership changed: role, removal or a new membership.
    Member(TenantId, UserId),
    /// An API key was revoked (by its prefix).
    Key(String),
    /// A tenant changed status: all of its members and keys.
    Tenant(TenantId),
}

impl Invalidation {
    /// What precedes a session's id in its message; the Lua scripts that
    /// end sessions are given it, so the format is written here only.
    pub const SESSION_TAG: &'static str = "session:";

    pub fn encode(&self) -> String {
        match self {
            Self::Session(family) => format!("{}{family}", Self::SESSION_TAG),
            Self::Member(tenant, user) => format!("member:{tenant}:{user}"),
            Self::Key(prefix) => format!("key:{prefix}"),
            Self::Tenant(tenant) => format!("tenant:{tenant}"),
        }
    }

    pub fn decode(message: &str) -> Option<Self> {
        let (kind, rest) = message.split_once(':')?;
        Some(match kind {
            "session" => Self::Session(rest.parse().ok()?),
            "member" => {
                let (tenant, user) = rest.split_once(':')?;
                Self::Member(TenantId::new(tenant.parse().ok()?), UserId::new(user.parse().ok()?))
            }
            "key" => Self::Key(rest.to_owned()),
            "tenant" => Self::Tenant(TenantId::new(rest.parse().ok()?)),
            _ => return None,
        })
    }
}

/// The Redis channel of the invalidations, under the key prefix.
pub fn channel(redis_prefix: &str) -> String {
    format!("{redis_prefix}invalidate")
}

/// The caches of one replica.
pub struct AccessCache {
    sessions: Cache<SessionId, bool>,
    roles: Cache<(TenantId, UserId), Option<Role>>,
    /// By (prefix, hash of the presented key): a wrong secret is its own
    /// entry and never reads the right one's.
    keys: Cache<(String, String), Option<db::api_keys::KeyRecord>>,
    /// Keys whose use this replica recorded in the last minute.
    key_uses: Cache<ApiKeyId, ()>,
    /// Bumped by every invalidation: a value loaded while one arrived is
    /// not stored (it may predate the change).
    generation: AtomicU64,
    /// Held while checking the generation and storing, and while applying
    /// an invalidation: an invalidation lands either before the check (the
    /// value is not stored) or after the store (the value is dropped).
    store: tokio::sync::Mutex<()>,
    subscribed: AtomicBool,
    channel: String,
    enabled: bool,
}

impl std::fmt::Debug for AccessCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessCache")
            .field("enabled", &self.enabled)
            .field("subscribed", &self.subscribed.load(Ordering::SeqCst))
            .finish()
    }
}

impl AccessCache {
    /// `ttl` zero turns caching off.
    pub fn new(redis_prefix: &str, ttl: Duration) -> Self {
        fn cache<K, V>(ttl: Duration) -> Cache<K, V>
        where
            K: Hash + Eq + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            Cache::builder().max_capacity(100_000).time_to_live(ttl.max(Duration::from_millis(1))).build()
        }
        Self {
            sessions: cache(ttl),
            roles: cache(ttl),
            keys: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .support_invalidation_closures()
                .build(),
            key_uses: cache(Duration::from_secs(60)),
            generation: AtomicU64::new(0),
            store: tokio::sync::Mutex::new(()),
            subscribed: AtomicBool::new(false),
            channel: channel(redis_prefix),
            enabled: !ttl.is_zero(),
        }
    }

    /// The Redis channel of invalidations.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Whether cached answers are used now (enabled and subscribed).
    pub fn in_use(&self) -> bool {
        self.enabled && self.subscribed.load(Ordering::SeqCst)
    }

    async fn through<K, V, E>(
        &self,
        cache: &Cache<K, V>,
        key: K,
        load: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E>
    where
        K: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        if !self.in_use() {
            return load.await;
        }
        if let Some(hit) = cache.get(&key).await {
            return Ok(hit);
        }
        let before = self.generation.load(Ordering::SeqCst);
        let value = load.await?;
        let _store = self.store.lock().await;
        if self.in_use() && self.generation.load(Ordering::SeqCst) == before {
            cache.insert(key, value.clone()).await;
        }
        Ok(value)
    }

    /// Whether the session is open, from the cache or `load`.
    pub async fn session_open<E>(
        &self,
        family: SessionId,
        load: impl Future<Output = Result<bool, E>>,
    ) -> Result<bool, E> {
        self.through(&self.sessions, family, load).await
    }

    /// The member's role in the tenant, from the cache or `load`.
    pub async fn role<E>(
        &self,
        tenant: TenantId,
        user: UserId,
        load: impl Future<Output = Result<Option<Role>, E>>,
    ) -> Result<Option<Role>, E> {
        self.through(&self.roles, (tenant, user), load).await
    }

    /// The API key of this prefix, from the cache or `load`.
    pub async fn key<E>(
        &self,
        prefix: &str,
        presented_hash: &str,
        load: impl Future<Output = Result<Option<db::api_keys::KeyRecord>, E>>,
    ) -> Result<Option<db::api_keys::KeyRecord>, E> {
        self.through(&self.keys, (prefix.to_owned(), presented_hash.to_owned()), load).await
    }

    /// Whether this is the key's first use on this replica in a minute (its
    /// last use is worth recording); a plain local record, no invalidation.
    pub async fn first_use_this_minute(&self, key: ApiKeyId) -> bool {
        let entry = self.key_uses.entry(key).or_insert(()).await;
        entry.is_fresh()
    }

    /// Drops what `change` makes stale, in this replica.
    pub async fn apply(&self, change: &Invalidation) {
        let _store = self.store.lock().await;
        self.generation.fetch_add(1, Ordering::SeqCst);
        match change {
            Invalidation::Session(family) => self.sessions.invalidate(family).await,
            Invalidation::Member(tenant, user) => self.roles.invalidate(&(*tenant, *user)).await,
            Invalidation::Key(prefix) => {
                let prefix = prefix.clone();
                if let Err(err) = self.keys.invalidate_entries_if(move |(p, _), _| *p == prefix) {
                    tracing::error!(error = %err, "access cache: key invalidation failed; flushing keys");
                    self.keys.invalidate_all();
                }
            }
            // Rare: everything a tenant status could change.
            Invalidation::Tenant(_) => {
                self.roles.invalidate_all();
                self.keys.invalidate_all();
            }
        }
    }

    fn flush(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.sessions.invalidate_all();
        self.roles.invalidate_all();
        self.keys.invalidate_all();
    }

    /// Applies `change` here and tells every other replica. Call it after
    /// the change is committed, or a replica could reload the old value.
    pub async fn publish(&self, redis: &Redis, change: Invalidation) {
        self.apply(&change).await;
        let sent = async {
            let mut conn = redis.conn().await?;
            redis::cmd("PUBLISH").arg(&self.channel).arg(change.encode()).query_async::<i64>(&mut conn).await
        }
        .await;
        if let Err(err) = sent {
            // Replicas still subscribed keep their cached answer until it
            // expires (the TTL): the bound for a change we cannot announce.
            tracing::warn!(error = %err, change = %change.encode(), "invalidation not published");
        }
    }

    /// Keeps this replica subscribed to the channel, reconnecting after a
    /// loss; runs until the process ends.
    pub fn spawn_subscriber(self: &Arc<Self>, client: redis::Client) {
        if !self.enabled {
            return;
        }
        let cache = self.clone();
        tokio::spawn(async move {
            loop {
                cache.listen(&client).await;
                cache.subscribed.store(false, Ordering::SeqCst);
                cache.flush();
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }

    async fn listen(&self, client: &redis::Client) {
        let mut pubsub = match client.get_async_pubsub().await {
            Ok(pubsub) => pubsub,
            Err(err) => {
                tracing::debug!(error = %err, "access cache: cannot subscribe; checks go uncached");
                return;
            }
        };
        if let Err(err) = pubsub.subscribe(&self.channel).await {
            tracing::warn!(error = %err, "access cache: subscribing failed; checks go uncached");
            return;
        }
        self.flush();
        self.subscribed.store(true, Ordering::SeqCst);
        tracing::debug!(channel = %self.channel, "access cache: subscribed");
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            match message.get_payload::<String>().ok().as_deref().and_then(Invalidation::decode) {
                Some(change) => self.apply(&change).await,
                None => tracing::warn!("access cache: unreadable invalidation"),
            }
        }
        tracing::warn!("access cache: subscription lost; checks go uncached until it is back");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidations_survive_the_wire() {
        let tenant = TenantId::random();
        let user = UserId::random();
        for change in [
            Invalidation::Session(SessionId::random()),
            Invalidation::Member(tenant, user),
            Invalidation::Key("0123456789ab".into()),
            Invalidation::Tenant(tenant),
        ] {
            assert_eq!(Invalidation::decode(&change.encode()), Some(change));
        }
        for junk in ["", "session:", "member:x:y", "what:ever", "session:not-a-uuid"] {
            assert_eq!(Invalidation::decode(junk), None, "{junk}");
        }
    }
}
