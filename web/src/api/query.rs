//! Paths with a query string, each value encoded by the browser's
//! `URLSearchParams` (a search typed by a person may hold `&` or `#`).

use web_sys::UrlSearchParams;

/// `path?name=value&…`, empty values left out.
#[derive(Debug)]
pub struct Query {
    path: String,
    params: Option<UrlSearchParams>,
}

impl Query {
    pub fn new(path: impl Into<String>) -> Self {
        Self { path: path.into(), params: UrlSearchParams::new().ok() }
    }

    /// Adds `name=value` unless `value` is empty.
    pub fn with(self, name: &str, value: impl AsRef<str>) -> Self {
        let value = value.as_ref().trim();
        if let (false, Some(params)) = (value.is_empty(), &self.params) {
            params.append(name, value);
        }
        self
    }

    /// Adds `name=value` when there is a value.
    pub fn with_some(self, name: &str, value: Option<impl AsRef<str>>) -> Self {
        match value {
            Some(value) => self.with(name, value),
            None => self,
        }
    }

    pub fn build(&self) -> String {
        let query = self.params.as_ref().map(|p| String::from(p.to_string())).unwrap_or_default();
        if query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{query}", self.path)
        }
    }
}
