//! Cursor pagination, the same on every list: `limit` (1–100, default 20)
//! and `cursor` in, `items` and `next` out. A cursor is opaque to clients:
//! the position of the previous page's last row, base64url-encoded; pass
//! `next` back as `cursor` until it is absent. Filters must stay the same
//! from page to page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Datelike, Utc};
use db::page::Position;
use uuid::Uuid;

use crate::error::{ApiError, FieldProblem};

pub const DEFAULT_LIMIT: i64 = 20;

pub fn default_limit() -> i64 {
    DEFAULT_LIMIT
}

/// The cursor of a page's last row.
pub fn encode(position: Position) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", position.at.timestamp_micros(), position.id))
}

/// The position a `cursor` names; a cursor we did not make is a 400.
pub fn decode(cursor: Option<&str>) -> Result<Option<Position>, ApiError> {
    let Some(cursor) = cursor else { return Ok(None) };
    let invalid = || ApiError::validation(vec![FieldProblem::new("cursor", "is not a cursor this API returned")]);
    let text =
        URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|bytes| String::from_utf8(bytes).ok()).ok_or_else(invalid)?;
    let (micros, id) = text.split_once('.').ok_or_else(invalid)?;
    let at = micros.parse::<i64>().ok().and_then(DateTime::from_timestamp_micros).ok_or_else(invalid)?;
    // Rows are made now: a time PostgreSQL cannot hold was not ours.
    if !(1..=9999).contains(&at.year()) {
        return Err(invalid());
    }
    let id = id.parse::<Uuid>().map_err(|_| invalid())?;
    Ok(Some(Position { at, id }))
}

/// A search typed by a person (`q`): any text but control characters.
pub fn search(q: Option<String>) -> Result<Option<String>, ApiError> {
    if q.as_deref().is_some_and(|q| q.chars().any(char::is_control)) {
        return Err(ApiError::validation(vec![FieldProblem::new("q", "must not contain control characters")]));
    }
    Ok(q)
}

/// A time filter (`since`, `until`) PostgreSQL can compare: years 1–9999,
/// else 400 naming `field`.
pub fn time_bound(field: &str, at: Option<DateTime<Utc>>) -> Result<Option<DateTime<Utc>>, ApiError> {
    match at {
        Some(at) if !(1..=9999).contains(&at.year()) => {
            Err(ApiError::validation(vec![FieldProblem::new(field, "must be a time between the years 1 and 9999")]))
        }
        at => Ok(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let position =
            Position { at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(), id: Uuid::new_v4() };
        assert_eq!(decode(Some(&encode(position))).unwrap(), Some(position));
        assert_eq!(decode(None).unwrap(), None);
        let far = URL_SAFE_NO_PAD.encode(format!("-220000000000000000.{}", Uuid::new_v4()));
        for bad in ["", "!!", "bm9wZQ", &URL_SAFE_NO_PAD.encode("12.not-a-uuid"), &far] {
            assert!(decode(Some(bad)).is_err(), "{bad}");
        }
    }
}
