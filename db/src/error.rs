//! The one error type repositories return, sorted into what callers must
//! distinguish; the underlying cause is kept for logs, never for clients.

/// What went wrong in a repository call.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A per-tenant unique key is taken. Deliberately carries no detail: the
    /// message shown to clients must not confirm what exists.
    #[error("a unique key is already taken")]
    Conflict,
    /// The database refused a value (a CHECK constraint).
    #[error("a value was refused by a database constraint")]
    Invalid,
    /// Anything else: connectivity, pool exhaustion, bugs.
    #[error(transparent)]
    Unexpected(#[from] sqlx::Error),
}

impl DbError {
    /// Sorts a sqlx error by its SQLSTATE.
    pub(crate) fn classify(err: sqlx::Error) -> Self {
        match err.as_database_error().and_then(|e| e.code()) {
            Some(code) if code == crate::UNIQUE_VIOLATION => Self::Conflict,
            Some(code) if code == crate::CHECK_VIOLATION => Self::Invalid,
            _ => Self::Unexpected(err),
        }
    }
}
