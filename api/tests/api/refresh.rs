//! Refresh-token rotation and reuse detection against a real Redis.

use std::time::Duration;

use api::auth::refresh_store::{Device, RefreshStore, Rotation};
use api::redis_conn::Redis;
use db::{TenantId, UserId};

const GRACE: Duration = Duration::from_millis(300);

fn store() -> (RefreshStore, Redis, String) {
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let store = RefreshStore::new(&prefix, Duration::from_secs(3600), GRACE, Duration::from_secs(30 * 24 * 3600));
    (store, Redis::new(&testkit::redis_url()).unwrap(), prefix)
}

fn successor(rotation: &Rotation) -> String {
    match rotation {
        Rotation::Rotated { successor, .. } | Rotation::Concurrent { successor, .. } => successor.clone(),
        other => panic!("expected a successor, got {other:?}"),
    }
}

#[tokio::test]
async fn replaying_a_used_token_revokes_the_whole_family() {
    let (store, redis, _) = store();
    let (user, tenant) = (UserId::random(), TenantId::random());
    let (family, r1) = store.start(&redis, user, tenant, &Device::default()).await.unwrap();
    let rotation = store.rotate(&redis, &r1).await.unwrap();
    assert!(
        matches!(rotation, Rotation::Rotated { family: f, user: u, tenant: t, .. } if f == family && u == user && t == tenant)
    );
    let r2 = successor(&rotation);
    let r3 = successor(&store.rotate(&redis, &r2).await.unwrap());
    tokio::time::sleep(GRACE + Duration::from_millis(100)).await;

    assert_eq!(store.rotate(&redis, &r1).await.unwrap(), Rotation::ReuseDetected { family, user, tenant });
    assert_eq!(store.rotate(&redis, &r3).await.unwrap(), Rotation::Unknown, "R3 died with its family");
    assert!(!store.is_active(&redis, family).await.unwrap());
}

#[tokio::test]
async fn two_tabs_refreshing_at_once_get_the_same_successor() {
    let (store, redis, _) = store();
    let (_, r1) = store.start(&redis, UserId::random(), TenantId::random(), &Device::default()).await.unwrap();
    let (a, b) = tokio::join!(store.rotate(&redis, &r1), store.rotate(&redis, &r1));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(successor(&a), successor(&b));
    let kinds = [matches!(a, Rotation::Rotated { .. }), matches!(b, Rotation::Rotated { .. })];
    assert_eq!(kinds.iter().filter(|k| **k).count(), 1, "exactly one of them rotated: {a:?} {b:?}");
    // The session goes on with the shared successor.
    assert!(matches!(store.rotate(&redis, &successor(&a)).await.unwrap(), Rotation::Rotated { .. }));
}

#[tokio::test]
async fn logout_ends_the_session_and_logout_all_ends_every_session() {
    let (store, redis, _) = store();
    let (user, other_user, tenant) = (UserId::random(), UserId::random(), TenantId::random());
    let (laptop, laptop_token) = store.start(&redis, user, tenant, &Device::default()).await.unwrap();
    store.revoke_family(&redis, laptop).await.unwrap();
    assert_eq!(store.rotate(&redis, &laptop_token).await.unwrap(), Rotation::Unknown);

    let (phone, _) = store.start(&redis, user, tenant, &Device::default()).await.unwrap();
    let (tablet, tablet_token) = store.start(&redis, user, tenant, &Device::default()).await.unwrap();
    let (theirs, their_token) = store.start(&redis, other_user, tenant, &Device::default()).await.unwrap();
    let mut ended = store.revoke_user(&redis, user).await.unwrap();
    ended.sort();
    let mut expected = vec![phone, tablet];
    expected.sort();
    assert_eq!(ended, expected);
    assert_eq!(store.rotate(&redis, &tablet_token).await.unwrap(), Rotation::Unknown);
    assert!(store.is_active(&redis, theirs).await.unwrap(), "another user's session is untouched");
    assert!(matches!(store.rotate(&redis, &their_token).await.unwrap(), Rotation::Rotated { .. }));
}

#[tokio::test]
async fn every_key_expires() {
    let (store, redis, prefix) = store();
    let (_, r1) = store.start(&redis, UserId::random(), TenantId::random(), &Device::default()).await.unwrap();
    store.rotate(&redis, &r1).await.unwrap();
    let mut conn = redis.conn().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await.unwrap();
    assert_eq!(keys.len(), 5, "{keys:?}");
    for key in keys {
        let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut conn).await.unwrap();
        assert!(ttl > 0 && ttl <= 3600, "{key} has TTL {ttl}");
    }
}

/// A Redis of this test's own, persisting to disk, that can be restarted.
struct OwnRedis {
    dir: std::path::PathBuf,
    port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    fn start(dir: std::path::PathBuf, port: u16) -> Self {
        let mut me = Self { dir, port, child: None };
        me.spawn();
        me
    }

    fn spawn(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--appendonly", "yes", "--save", ""])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start");
    }

    fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
        self.spawn();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_restart_of_redis_does_not_let_a_revoked_token_back_in() {
    let dir = std::env::temp_dir().join(format!("tenantry-redis-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = crate::helpers::dead_port();
    let mut server = OwnRedis::start(dir, port);
    let url = format!("redis://127.0.0.1:{port}");
    let store = RefreshStore::new("restart:", Duration::from_secs(3600), GRACE, Duration::from_secs(30 * 24 * 3600));
    let (user, tenant) = (UserId::random(), TenantId::random());
    let redis = Redis::new(&url).unwrap();
    let (revoked, revoked_token) = store.start(&redis, user, tenant, &Device::default()).await.unwrap();
    let (_, kept_token) = store.start(&redis, user, tenant, &Device::default()).await.unwrap();
    store.revoke_family(&redis, revoked).await.unwrap();

    server.restart();
    let redis = Redis::new(&url).unwrap();
    assert_eq!(store.rotate(&redis, &revoked_token).await.unwrap(), Rotation::Unknown);
    assert!(
        matches!(store.rotate(&redis, &kept_token).await.unwrap(), Rotation::Rotated { .. }),
        "the data survived the restart, so the check above means something"
    );

    // With the data gone (a Redis without persistence), nothing is let in.
    let mut conn = redis.conn().await.unwrap();
    redis::cmd("FLUSHALL").query_async::<()>(&mut conn).await.unwrap();
    assert_eq!(store.rotate(&redis, &kept_token).await.unwrap(), Rotation::Unknown);
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_often_it_is_refreshed() {
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let store = RefreshStore::new(&prefix, Duration::from_secs(3600), GRACE, Duration::from_millis(1500));
    let redis = Redis::new(&testkit::redis_url()).unwrap();
    let (family, mut token) =
        store.start(&redis, UserId::random(), TenantId::random(), &Device::default()).await.unwrap();
    // Refreshed well within the refresh lifetime, again and again...
    for _ in 0..3 {
        token = successor(&store.rotate(&redis, &token).await.unwrap());
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    // ...until the session's own lifetime is over.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(store.rotate(&redis, &token).await.unwrap(), Rotation::Unknown);
    assert!(!store.is_active(&redis, family).await.unwrap(), "the session outlived its maximum lifetime");
}

#[tokio::test]
async fn redis_keeps_no_usable_refresh_token() {
    let (store, redis, prefix) = store();
    let (_, first) = store.start(&redis, UserId::random(), TenantId::random(), &Device::default()).await.unwrap();
    let second = successor(&store.rotate(&redis, &first).await.unwrap());
    let mut conn = redis.conn().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await.unwrap();
    let mut stored = keys.join(" ");
    for key in keys.iter().filter(|k| !k.ends_with(":families")) {
        let kind: String = redis::cmd("TYPE").arg(key).query_async(&mut conn).await.unwrap();
        let values: Vec<String> = match kind.as_str() {
            "hash" => redis::cmd("HVALS").arg(key).query_async(&mut conn).await.unwrap(),
            "set" => redis::cmd("SMEMBERS").arg(key).query_async(&mut conn).await.unwrap(),
            _ => Vec::new(),
        };
        stored.push_str(&values.join(" "));
    }
    for id in [&first, &second] {
        assert!(!stored.contains(id.as_str()), "a token id is stored in Redis");
    }
    // And the successor still works, from its id alone.
    assert!(matches!(store.rotate(&redis, &second).await.unwrap(), Rotation::Rotated { .. }));
}

/// A session that refreshes near the end of its lifetime must not take a
/// younger session of the same user out of the user's index: signing out
/// everywhere would miss it.
#[tokio::test]
async fn signing_out_everywhere_reaches_a_younger_session_after_an_older_one_refreshed_near_its_end() {
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let store = RefreshStore::new(&prefix, Duration::from_secs(3600), GRACE, Duration::from_millis(3000));
    let redis = Redis::new(&testkit::redis_url()).unwrap();
    let (user, tenant) = (UserId::random(), TenantId::random());
    let (_, older) = store.start(&redis, user, tenant, &Device::default()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (younger, _) = store.start(&redis, user, tenant, &Device::default()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // The older session refreshes with half a second left.
    successor(&store.rotate(&redis, &older).await.unwrap());
    tokio::time::sleep(Duration::from_millis(1400)).await;
    // The older one has ended by now; the younger one lives for a while.
    assert!(store.is_active(&redis, younger).await.unwrap());
    let ended = store.revoke_user(&redis, user).await.unwrap();
    assert!(ended.contains(&younger), "sign-out everywhere missed the younger session: {ended:?}");
    assert!(!store.is_active(&redis, younger).await.unwrap());
}
