//! The shared Redis connection: opened on first use, so the API starts (and
//! reports itself not ready) while Redis is down, then reconnects on its own.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

/// A lazily connected, self-healing Redis connection.
pub struct Redis {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis").field("connected", &self.conn.initialized()).finish()
    }
}

const TIMEOUT: Duration = Duration::from_secs(1);

impl Redis {
    pub fn new(url: &str) -> redis::RedisResult<Self> {
        Ok(Self { client: redis::Client::open(url)?, conn: OnceCell::new() })
    }

    /// A handle to the connection (cheap to clone).
    pub async fn conn(&self) -> redis::RedisResult<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT)
            .set_number_of_retries(1);
        self.conn.get_or_try_init(|| self.client.get_connection_manager_with_config(config)).await.cloned()
    }

    /// The client, for connections of their own (subscriptions).
    pub fn client(&self) -> redis::Client {
        self.client.clone()
    }

    /// PING, bounded in time.
    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await.map(drop)
    }
}
