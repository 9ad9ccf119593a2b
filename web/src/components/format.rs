//! How values read on screen: times, sizes, roles.

use crate::api::wire::Role;

/// An RFC 3339 time as `2026-12-05 13:02 UTC` (the API answers in UTC).
pub fn when(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// A size in bytes, in the largest unit that keeps it above one, to a
/// tenth (integers only: float formatting would cost the download more
/// than this whole module).
pub fn bytes(size: i64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let (mut unit, mut divisor) = (0, 1_i64);
    while size / divisor >= 1000 && unit + 1 < UNITS.len() {
        divisor *= 1000;
        unit += 1;
    }
    if unit == 0 {
        return format!("{size} bytes");
    }
    let tenths = size / (divisor / 10);
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// Milliseconds to a tenth.
pub fn millis(ms: f64) -> String {
    let tenths = (ms * 10.0).round() as i64;
    format!("{}.{} ms", tenths / 10, tenths % 10)
}

/// A role as people read it.
pub fn role(role: Role) -> &'static str {
    match role {
        Role::Admin => "Admin",
        Role::User => "User",
        Role::Viewer => "Viewer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_sizes_read_plainly() {
        assert_eq!(when("2026-12-05T13:02:16.123456Z"), "2026-12-05 13:02 UTC");
        assert_eq!(when("soon"), "soon");
        assert_eq!(bytes(999), "999 bytes");
        assert_eq!(bytes(1_500), "1.5 KB");
        assert_eq!(bytes(2_000_000), "2.0 MB");
        assert_eq!(bytes(1_999_999_999), "1.9 GB");
        assert_eq!(millis(2.25), "2.3 ms");
        assert_eq!(millis(0.04), "0.0 ms");
    }
}
