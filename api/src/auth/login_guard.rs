//! Bounded password guessing without a lock-out that anyone can trigger.
//!
//! Three counters, all in Redis so every replica shares them, all applied
//! alike to known and unknown emails:
//! - per address group and account, failures only: after
//!   [`FREE_FAILURES`] the group waits before its next attempt on that
//!   account, twice as long after each further failure (up to
//!   [`MAX_DELAY`]). A success clears it. An attacker at one address slows
//!   down; the owner elsewhere does not notice. An attempt counts from the
//!   moment it is admitted (a success takes it back), so concurrent
//!   attempts meet the delays as sequential ones do.
//! - per account, failures only, over a sliding hour: at most
//!   `APP_LOGIN_FAILURES_PER_HOUR` from address groups that have not signed
//!   in to the account lately. A slot is reserved before the password is
//!   checked and released on success, so concurrency cannot overshoot.
//!   Past the cap, unfamiliar groups wait until the oldest failure is an
//!   hour old; the wall lowers one failure at a time.
//! - groups that signed in successfully within [`KNOWN_FOR`] are exempt
//!   from the account cap (their own delays still apply): spreading guesses
//!   over many addresses cannot keep the owner's usual devices out.
//!
//! Addresses are grouped as every per-address limit groups them
//! ([`crate::rate_limit::address_group`]: IPv6 by /64).

use std::time::Duration;

use crate::auth::secrets::{self, now_ms};
use crate::error::ApiError;
use crate::state::AppState;

/// Failures a group may make on one account before delays start: the
/// attempt after the fifth failure waits [`FIRST_DELAY`].
pub const FREE_FAILURES: u32 = 5;
/// The first delay; each further failure doubles it.
const FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest delay between two attempts of a group on an account.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// How long a successful sign-in makes its group familiar to the account.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
const WINDOW: Duration = Duration::from_secs(3600);

const ADMIT: &str = r#"
-- KEYS: failures of the account (zset), the group's attempts on the
-- account (hash), the group's familiarity marker. ARGV: now ms, cap,
-- window ms, slot, free attempts, first delay ms, longest delay ms.
local now, cap, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local free, first, longest = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local wait_until = tonumber(redis.call('HGET', KEYS[2], 'until') or '0')
if wait_until > now then return {'wait', wait_until - now} end
local verdict = 'known'
if cap > 0 and redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) >= cap then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {'wait', math.max(tonumber(oldest[2]) + window - now, 1000)}
  end
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  verdict = 'go'
end
-- Counted as a failure until it succeeds, so that a burst of concurrent
-- attempts meets the delay as a sequence would.
local attempts = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
if attempts >= free then
  local delay = math.floor(math.min(first * 2 ^ math.min(attempts - free, 30), longest))
  redis.call('HSET', KEYS[2], 'until', now + delay)
end
redis.call('PEXPIRE', KEYS[2], 86400000)
return {verdict, 0}
"#;

const FAILED: &str = r#"
-- KEYS: the group's attempts on the account (hash). ARGV: now ms, free
-- attempts, first delay ms, longest delay ms. The delay runs from the
-- failure, not from the admission: a slow check does not eat it.
local now, free, first, longest = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if attempts >= free then
  local delay = math.floor(math.min(first * 2 ^ math.min(attempts - free, 30), longest))
  local current = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
  if now + delay > current then redis.call('HSET', KEYS[1], 'until', now + delay) end
end
return attempts
"#;

/// An attempt allowed to check a password: counted as a failure (of the
/// account, and of the group) unless [`succeeded`] says otherwise.
#[derive(Debug)]
pub struct Attempt {
    failures_key: String,
    delay_key: String,
    known_key: String,
    /// The slot reserved in the account's failures (unfamiliar groups).
    slot: Option<String>,
}

/// May this address group try a password on this account now?
#[derive(Debug)]
pub enum Admission {
    Go(Attempt),
    /// Not before this many seconds.
    Wait(u64),
}

/// Asks before the password is checked. Fails closed (503) when Redis is
/// unreachable.
pub async fn admit(state: &AppState, email: &str, group: &str) -> Result<Admission, ApiError> {
    let prefix = &state.settings.redis_key_prefix;
    let account = &secrets::sha256_hex(email)[..32];
    let group_id = &secrets::sha256_hex(group)[..32];
    let mut attempt = Attempt {
        failures_key: format!("{prefix}login:failures:{account}"),
        delay_key: format!("{prefix}login:delay:{account}:{group_id}"),
        known_key: format!("{prefix}login:known:{account}:{group_id}"),
        slot: None,
    };
    let slot = secrets::random_hex(16);
    let reply: (String, u64) = async {
        let mut conn = state.redis.conn().await?;
        redis::Script::new(ADMIT)
            .key(&attempt.failures_key)
            .key(&attempt.delay_key)
            .key(&attempt.known_key)
            .arg(now_ms())
            .arg(state.settings.auth.login_failures_per_hour)
            .arg(WINDOW.as_millis() as u64)
            .arg(&slot)
            .arg(FREE_FAILURES)
            .arg(FIRST_DELAY.as_millis() as u64)
            .arg(MAX_DELAY.as_millis() as u64)
            .invoke_async(&mut conn)
            .await
    }
    .await
    .map_err(ApiError::unavailable)?;
    Ok(match reply {
        (kind, wait_ms) if kind == "wait" => Admission::Wait(wait_ms.div_ceil(1000).max(1)),
        (kind, _) => {
            if kind == "go" {
                attempt.slot = Some(slot);
            }
            Admission::Go(attempt)
        }
    })
}

/// The password was right: the reserved slot is released, the group's
/// delays are cleared and the group becomes familiar to the account.
pub async fn succeeded(state: &AppState, attempt: Attempt) {
    let done: redis::RedisResult<()> = async {
        let mut conn = state.redis.conn().await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let Some(slot) = &attempt.slot {
            pipe.zrem(&attempt.failures_key, slot).ignore();
        }
        pipe.del(&attempt.delay_key)
            .ignore()
            .pset_ex(&attempt.known_key, 1, KNOWN_FOR.as_millis() as u64)
            .ignore()
            .query_async(&mut conn)
            .await
    }
    .await;
    if let Err(err) = done {
        tracing::warn!(error = %err, "sign-in success not recorded with the limiter");
    }
}

/// The password was wrong: the attempt stays counted, and the group's delay
/// runs from now.
pub async fn failed(state: &AppState, attempt: Attempt) {
    let done: redis::RedisResult<i64> = async {
        let mut conn = state.redis.conn().await?;
        redis::Script::new(FAILED)
            .key(&attempt.delay_key)
            .arg(now_ms())
            .arg(FREE_FAILURES)
            .arg(FIRST_DELAY.as_millis() as u64)
            .arg(MAX_DELAY.as_millis() as u64)
            .invoke_async(&mut conn)
            .await
    }
    .await;
    if let Err(err) = done {
        tracing::warn!(error = %err, "sign-in failure not recorded with the limiter");
    }
}
