//! Settings values that must never reach a log line.

use std::fmt;

/// A value that must never be printed (passwords, tokens, URLs with them).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{vars, BASE};
    use crate::config::Settings;

    #[test]
    fn secrets_do_not_print() {
        let s = Settings::from_map(&vars(BASE)).unwrap();
        assert!(!format!("{s:?}").contains("pw@"));
    }
}
