//! What a request says about its sender, for limits and logs: the client
//! address (through our proxies) and the user agent.

use db::auth::Origin;
use poem::Request;

use crate::state::AppState;

/// Client address and user agent, for the logs.
pub fn origin_of(req: &Request, state: &AppState) -> Origin {
    let ip =
        crate::rate_limit::client_ip(req, &state.settings.trusted_proxies).map(|ip| ip.to_string()).unwrap_or_default();
    let user_agent = req.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default();
    Origin { ip, user_agent: user_agent.chars().take(512).collect() }
}
