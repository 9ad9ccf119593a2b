//! The tenant's audit log, newest first, a page at a time.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use crate::page::{Page, Position};
use crate::{DbError, TenantTx, UserId};

/// One entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub actor: Option<UserId>,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub user_agent: String,
    pub created_at: DateTime<Utc>,
}

/// What to list.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// Entries older than this position (the previous page's last entry).
    pub after: Option<Position>,
    pub limit: i64,
    pub action: Option<String>,
    pub actor: Option<UserId>,
    /// At or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Before this time.
    pub until: Option<DateTime<Utc>>,
}

pub async fn list(tx: &mut TenantTx, query: &AuditQuery) -> Result<Page<AuditEntry>, DbError> {
    let rows = sqlx::query(
        "SELECT id, actor_user_id, action, target, ip, user_agent, created_at FROM audit_log \
         WHERE ($1::timestamptz IS NULL OR (created_at, id) < ($1, $5)) \
           AND ($2::text IS NULL OR action = $2) \
           AND ($3::uuid IS NULL OR actor_user_id = $3) \
           AND ($6::timestamptz IS NULL OR created_at >= $6) \
           AND ($7::timestamptz IS NULL OR created_at < $7) \
         ORDER BY created_at DESC, id DESC LIMIT $4",
    )
    .bind(query.after.map(|p| p.at))
    .bind(&query.action)
    .bind(query.actor)
    .bind(query.limit + 1)
    .bind(query.after.map(|p| p.id))
    .bind(query.since)
    .bind(query.until)
    .persistent(false)
    .fetch_all(tx.conn().await?)
    .await?;
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.get("id"),
            actor: r.get::<Option<Uuid>, _>("actor_user_id").map(UserId::new),
            action: r.get("action"),
            target: r.get("target"),
            ip: r.get("ip"),
            user_agent: r.get("user_agent"),
            created_at: r.get("created_at"),
        })
        .collect();
    Ok(Page::from_rows(entries, query.limit, |e| Position { at: e.created_at, id: e.id }))
}
