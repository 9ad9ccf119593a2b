//! Reading variables: `_FILE` secrets, parsing values, and the error that
//! names the variable at fault.

use std::collections::HashMap;
use std::fmt;

/// A setting that could not be used, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

/// Variables whose value may instead come from a file named by
/// `<NAME>_FILE` (Docker and Nomad secrets are files).
const FILE_VARIABLES: [&str; 11] = [
    "DATABASE_URL",
    "PLATFORM_DATABASE_URL",
    "DATABASE_OWNER_URL",
    "DATABASE_SUPERUSER_URL",
    "REDIS_URL",
    "APP_OPERATOR_TOKEN",
    "APP_PASETO_SIGNING_KEY",
    "APP_PASETO_REFRESH_KEY",
    "APP_SMTP_URL",
    "APP_S3_ACCESS_KEY_ID",
    "APP_S3_SECRET_ACCESS_KEY",
];

/// Replaces each `<NAME>_FILE` by `<NAME>` with the file's contents. An
/// unreadable file stops start-up like any other bad variable.
pub(super) fn resolve_files(vars: &HashMap<String, String>) -> Result<HashMap<String, String>, ConfigError> {
    let mut resolved = vars.clone();
    for name in FILE_VARIABLES {
        let Some(path) = vars.get(&format!("{name}_FILE")).map(|p| p.trim()).filter(|p| !p.is_empty()) else {
            continue;
        };
        if vars.get(name).is_some_and(|v| !v.trim().is_empty()) {
            return Err(ConfigError { name, problem: format!("is set and so is {name}_FILE; set one of them") });
        }
        let value = std::fs::read_to_string(path)
            .map_err(|e| ConfigError { name, problem: format!("cannot read {name}_FILE ({path}): {e}") })?;
        resolved.insert(name.to_owned(), value.trim().to_owned());
    }
    Ok(resolved)
}

/// The variables, once `_FILE` secrets are resolved.
pub(super) struct Vars<'a>(pub(super) &'a HashMap<String, String>);

impl Vars<'_> {
    /// A set, non-empty value.
    pub(super) fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    pub(super) fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or(ConfigError { name, problem: "is required but not set".into() })
    }

    pub(super) fn parse_opt<T: std::str::FromStr>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.get(name).map(|raw| raw.parse::<T>().map_err(|e| self.bad(name, format!("`{raw}`: {e}")))).transpose()
    }

    /// A comma-separated list; empty when unset.
    pub(super) fn parse_list<T: std::str::FromStr>(&self, name: &'static str) -> Result<Vec<T>, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.get(name)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| item.parse::<T>().map_err(|e| self.bad(name, format!("`{item}`: {e}"))))
                    .collect()
            })
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    pub(super) fn parse_or<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        Ok(self.parse_opt(name)?.unwrap_or(default))
    }

    pub(super) fn bad(&self, name: &'static str, problem: String) -> ConfigError {
        ConfigError { name, problem }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{vars, BASE};
    use crate::config::Settings;

    #[test]
    fn a_missing_variable_is_named() {
        let err = Settings::from_map(&vars(&BASE[1..])).unwrap_err();
        assert_eq!(err.name, "DATABASE_URL");
        assert_eq!(err.to_string(), "configuration: DATABASE_URL: is required but not set");
    }

    #[test]
    fn a_malformed_number_is_named() {
        let mut v = vars(BASE);
        v.insert("APP_PORT".into(), "eighty".into());
        let err = Settings::from_map(&v).unwrap_err();
        assert_eq!(err.name, "APP_PORT");
    }

    #[test]
    fn an_unreadable_secret_file_is_named() {
        let mut v = vars(BASE);
        v.remove("REDIS_URL");
        v.insert("REDIS_URL_FILE".into(), "/nonexistent/redis-url".into());
        let err = Settings::from_map(&v).unwrap_err();
        assert_eq!(err.name, "REDIS_URL");
        assert!(err.problem.contains("/nonexistent/redis-url"), "{err}");
    }

    #[test]
    fn a_secret_can_come_from_a_file() {
        let path = std::env::temp_dir().join(format!("tenantry-config-test-{}", std::process::id()));
        std::fs::write(&path, "redis://from-a-file:6379\n").unwrap();
        let mut v = vars(BASE);
        v.remove("REDIS_URL");
        v.insert("REDIS_URL_FILE".into(), path.to_string_lossy().into_owned());
        let s = Settings::from_map(&v).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(s.redis_url.expose(), "redis://from-a-file:6379");
    }
}
