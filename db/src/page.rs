//! Keyset pagination shared by the list repositories: a page is the rows
//! after a position in a stable order, and the position of its last row
//! when more follow.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A position in an order by (time, id): the last row of the previous page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

/// One page of rows, and where the next starts when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Position>,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with `limit + 1`: the extra row only
    /// says that more follow.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: i64, position: impl Fn(&T) -> Position) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(position) } else { None };
        Page { items: rows, next }
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_contains(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_the_text_literally() {
        assert_eq!(like_contains("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn a_page_has_a_next_position_only_when_more_rows_follow() {
        let at = Utc::now();
        let rows = |n: usize| (0..n).map(|_| Uuid::new_v4()).collect::<Vec<_>>();
        let full = Page::from_rows(rows(3), 2, |id| Position { at, id: *id });
        assert_eq!(full.items.len(), 2);
        assert_eq!(full.next.map(|p| p.id), Some(full.items[1]));
        let last = Page::from_rows(rows(2), 2, |id| Position { at, id: *id });
        assert_eq!(last.next, None);
    }
}
