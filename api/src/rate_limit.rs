//! A per-client request budget on `/api/`, counted in Redis so that every
//! replica shares it: a fixed one-minute window per client address.
//!
//! If Redis is unreachable the request is let through (and logged): an
//! outage of the limiter must not become an outage of the API. Routes that
//! guard secrets (log-in, reset) add their own fail-closed limits.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use poem::web::RemoteAddr;
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use crate::error::ApiError;
use crate::ip_net::IpNet;
use crate::state::AppState;

const WINDOW_SECS: u64 = 60;

/// The client address: the socket peer, or, when the peer is one of our
/// trusted proxies (nginx, which overwrites the header), `X-Real-IP`.
pub fn client_ip(req: &Request, trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = match req.remote_addr() {
        RemoteAddr(poem::Addr::SocketAddr(addr)) => Some(addr.ip()),
        _ => None,
    }?;
    if trusted_proxies.iter().any(|net| net.contains(peer)) {
        let forwarded =
            req.headers().get("x-real-ip").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
        if let Some(ip) = forwarded {
            return Some(ip);
        }
    }
    Some(peer)
}

/// Middleware: counts the request and refuses it past the budget.
pub async fn limit<E: Endpoint>(next: E, req: Request, state: AppState) -> Result<Response> {
    let budget = state.settings.rate_limit_per_minute;
    if budget > 0 {
        if let Some(ip) = client_ip(&req, &state.settings.trusted_proxies) {
            if let Some(retry_after) = over_budget(&state, ip, budget).await {
                return Err(ApiError::rate_limited(retry_after).into());
            }
        }
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// `Some(seconds to wait)` when the client is over budget.
async fn over_budget(state: &AppState, ip: IpAddr, budget: u32) -> Option<u64> {
    hit(state, &format!("api:{}", address_group(ip)), budget).await
}

/// The unit every per-address limit counts: an IPv4 address, or the /64 of
/// an IPv6 address (one subscriber usually holds a whole /64, so counting
/// single IPv6 addresses would give one client 2^64 budgets). IPv4-mapped
/// IPv6 addresses count as their IPv4 address.
pub fn address_group(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// [`address_group`] of an address in text (as the logs keep it); text that
/// is not an address stands for itself.
pub fn address_group_of(ip: &str) -> String {
    ip.parse().map(address_group).unwrap_or_else(|_| ip.to_owned())
}

/// Like [`hit`], but fails closed: with Redis unreachable the request is
/// refused (503), so guessing cannot go unlimited during an outage. For
/// routes that guard secrets (sign-in). A budget of 0 disables the limit.
pub async fn hit_or_refuse(state: &AppState, key: &str, budget: u32) -> Result<Option<u64>, ApiError> {
    hit_or_refuse_per(state, key, budget, WINDOW_SECS).await
}

/// Counts an onboarding request (register, verify, forgot, reset, accept)
/// per client address group: 429 past `APP_ONBOARDING_LIMIT_PER_MINUTE`,
/// failing closed.
pub async fn per_address(state: &AppState, route: &str, ip: &str) -> Result<(), ApiError> {
    let budget = state.settings.onboarding.limit_per_minute;
    let group = address_group_of(ip);
    match hit_or_refuse(state, &format!("{route}:ip:{group}"), budget).await? {
        Some(retry) => Err(ApiError::rate_limited(retry)),
        None => Ok(()),
    }
}

/// [`hit_or_refuse`] over a window of `window_secs` instead of a minute.
pub async fn hit_or_refuse_per(
    state: &AppState,
    key: &str,
    budget: u32,
    window_secs: u64,
) -> Result<Option<u64>, ApiError> {
    if budget == 0 {
        return Ok(None);
    }
    count(state, key, budget, window_secs).await.map_err(ApiError::unavailable)
}

/// Counts one event against `key` in the current one-minute window; `Some`
/// (seconds until the window ends) once `budget` is exceeded. Fails open when
/// Redis is unreachable (logged).
pub async fn hit(state: &AppState, key: &str, budget: u32) -> Option<u64> {
    match count(state, key, budget, WINDOW_SECS).await {
        Ok(verdict) => verdict,
        Err(err) => {
            tracing::warn!(error = %err, "rate limiter unavailable; request let through");
            None
        }
    }
}

async fn count(state: &AppState, key: &str, budget: u32, window_secs: u64) -> redis::RedisResult<Option<u64>> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let window = now / window_secs;
    let key = format!("{}rl:{key}:{window_secs}:{window}", state.settings.redis_key_prefix);
    let counted: redis::RedisResult<u64> = async {
        let mut conn = state.redis.conn().await?;
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .expire(&key, window_secs as i64 * 2)
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }
    .await;
    counted.map(|count| (count > u64::from(budget)).then_some(window_secs - now % window_secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_of_one_64_share_a_group_and_ipv4_stands_alone() {
        let group = |s: &str| address_group(s.parse().unwrap());
        assert_eq!(group("2001:db8:1:2::1"), group("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_eq!(group("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(group("2001:db8:1:2::1"), group("2001:db8:1:3::1"));
        assert_eq!(group("::ffff:192.0.2.7"), "192.0.2.7");
        assert_ne!(group("192.0.2.7"), group("192.0.2.8"));
        assert_eq!(address_group_of("not an address"), "not an address");
    }
}
