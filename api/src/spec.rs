//! The OpenAPI document as served, and what the router learns from it.
//!
//! poem-openapi writes the document from the types; two things it cannot
//! say are added here, once, at start-up: every request body refuses
//! unknown fields (`additionalProperties: false`, which the body types
//! enforce with `deny_unknown_fields`), and which methods each path allows,
//! for the `Allow` header of a 405 (RFC 9110).

use std::collections::BTreeSet;
use std::sync::Arc;

use poem::http::{header, HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use serde_json::Value;

/// The document, and the methods of each path template.
#[derive(Debug)]
pub struct Spec {
    pub json: String,
    paths: Vec<(Vec<String>, String)>,
}

impl Spec {
    /// Completes poem-openapi's document (`raw`, JSON).
    pub fn new(raw: &str) -> Self {
        let mut document: Value = serde_json::from_str(raw).expect("poem-openapi writes valid JSON");
        let mut bodies = BTreeSet::new();
        let mut paths = Vec::new();
        for (path, operations) in document["paths"].as_object().into_iter().flatten() {
            let mut methods: Vec<String> = Vec::new();
            for (method, operation) in operations.as_object().into_iter().flatten() {
                methods.push(method.to_uppercase());
                for media in operation["requestBody"]["content"].as_object().into_iter().flatten().map(|(_, m)| m) {
                    if let Some(name) = media["schema"]["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
                        bodies.insert(name.to_owned());
                    }
                }
            }
            if methods.iter().any(|m| m == "GET") {
                methods.push("HEAD".into());
            }
            let segments = path.split('/').map(str::to_owned).collect();
            paths.push((segments, methods.join(", ")));
        }
        for name in bodies {
            if let Some(schema) = document["components"]["schemas"].get_mut(&name) {
                schema["additionalProperties"] = Value::Bool(false);
            }
        }
        Self { json: document.to_string(), paths }
    }

    /// The methods allowed on a concrete request path (`{id}` segments
    /// match any one segment).
    pub fn allowed(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.split('/').collect();
        self.paths
            .iter()
            .find(|(template, _)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')))
            })
            .map(|(_, methods)| methods.as_str())
    }
}

/// Serves the document.
pub fn endpoint(spec: Arc<Spec>) -> impl Endpoint {
    poem::endpoint::make_sync(move |_| {
        Response::builder().content_type("application/json; charset=utf-8").body(spec.json.clone())
    })
}

/// Middleware: a 405 names the methods the path allows.
pub async fn allow<E: Endpoint>(next: E, req: Request, spec: Arc<Spec>) -> Result<Response> {
    let path = req.uri().path().to_owned();
    let mut response = next.call(req).await?.into_response();
    if response.status() == StatusCode::METHOD_NOT_ALLOWED && !response.headers().contains_key(header::ALLOW) {
        if let Some(value) = spec.allowed(&path).and_then(|m| HeaderValue::from_str(m).ok()) {
            response.headers_mut().insert(header::ALLOW, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bodies_refuse_unknown_fields_and_paths_know_their_methods() {
        let raw = r##"{"paths": {
            "/api/users/{id}": {"patch": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/RoleChange"}}}}}, "delete": {}},
            "/api/users": {"get": {}}
        }, "components": {"schemas": {"RoleChange": {"type": "object"}, "MemberView": {"type": "object"}}}}"##;
        let spec = Spec::new(raw);
        let document: Value = serde_json::from_str(&spec.json).unwrap();
        assert_eq!(document["components"]["schemas"]["RoleChange"]["additionalProperties"], false);
        assert!(document["components"]["schemas"]["MemberView"].get("additionalProperties").is_none());
        assert_eq!(spec.allowed("/api/users/0b6c"), Some("DELETE, PATCH"));
        assert_eq!(spec.allowed("/api/users"), Some("GET, HEAD"));
        assert_eq!(spec.allowed("/api/nothing"), None);
    }
}
