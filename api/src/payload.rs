//! `JsonBody<T>`: a JSON request body whose errors name the failing field.
//!
//! poem-openapi's own `Json<T>` reports a missing or mistyped field without
//! always naming it; this payload keeps the same schema in the spec (T's) but
//! deserialises with serde, which knows the path, and answers in the one
//! error shape with `details: [{ field, message }]`. Unknown fields are
//! rejected by the types themselves (`#[serde(deny_unknown_fields)]`).

use poem::{FromRequest, Request, RequestBody, Result};
use poem_openapi::error::ContentTypeError;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldProblem};

/// A request body of type `T`, parsed from JSON.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        content_type.parse::<mime::Mime>().is_ok_and(|m| {
            m.type_() == mime::APPLICATION && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
        })
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<'a, T: Type + DeserializeOwned> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType { content_type: Self::CONTENT_TYPE, schema: Self::schema_ref() }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> Result<Self> {
        match request.content_type() {
            Some(content_type) if Self::check_content_type(content_type) => {}
            Some(content_type) => {
                return Err(ContentTypeError::NotSupported { content_type: content_type.to_owned() }.into())
            }
            None => return Err(ContentTypeError::ExpectContentType.into()),
        }
        let bytes = <Vec<u8> as FromRequest>::from_request(request, body).await?;
        parse(&bytes).map(JsonBody).map_err(Into::into)
    }
}

/// Parses `bytes` as a `T`; when it is not one, reports every invalid
/// top-level field, not just the first: serde stops at the first, so each
/// field it refuses is set aside and the rest parsed again (an error path
/// only, at most once per field).
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let first = serde_path_to_error::deserialize::<_, T>(&mut de);
    let err = match first {
        Ok(value) => {
            de.end().map_err(|_| {
                ApiError::validation(vec![FieldProblem::new("body", "trailing characters after the JSON value")])
            })?;
            return Ok(value);
        }
        Err(err) => err,
    };
    let mut problems = vec![problem(err)];
    if problems[0].field == "body" {
        return Err(ApiError::validation(problems));
    }
    // The value parses as JSON (the error was not a syntax error): retry
    // without each refused field until nothing new is refused.
    if let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice::<serde_json::Value>(bytes) {
        while object.remove(&problems[problems.len() - 1].field).is_some() {
            let Err(err) = serde_path_to_error::deserialize::<_, T>(serde_json::Value::Object(object.clone())) else {
                break;
            };
            let next = problem(err);
            if problems.iter().any(|p| p.field == next.field) {
                break;
            }
            problems.push(next);
        }
    }
    Err(ApiError::validation(problems))
}

/// The field (as named in the request) and the rule it broke.
fn problem(err: serde_path_to_error::Error<serde_json::Error>) -> FieldProblem {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return FieldProblem::new("body", format!("malformed JSON: {inner}"));
    }
    let message = strip_position(&inner.to_string());
    // serde reports a missing or unknown field at the enclosing object's
    // path and names the field in the message, between backticks.
    let field = match (path.as_str(), backticked(&message)) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        (p, _) => p.to_owned(),
    };
    FieldProblem::new(field, message)
}

/// For optional body fields: absent is `None`, but an explicit `null` is
/// refused like any value of the wrong type (the spec does not declare the
/// fields nullable). Use with `#[serde(default, deserialize_with = ...)]`.
pub fn no_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        slug: String,
        count: u32,
    }

    fn problem(json: &str) -> FieldProblem {
        let err = parse::<Sample>(json.as_bytes()).unwrap_err();
        err.body().error.details.unwrap().remove(0)
    }

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(problem(r#"{"count": 1}"#).field, "slug");
    }

    #[test]
    fn a_mistyped_field_is_named() {
        let p = problem(r#"{"slug": 5, "count": 1}"#);
        assert_eq!(p.field, "slug");
        assert!(p.message.starts_with("invalid type"), "{}", p.message);
    }

    #[test]
    fn an_unknown_field_is_named() {
        assert_eq!(problem(r#"{"slug": "a", "count": 1, "tenant_id": "x"}"#).field, "tenant_id");
    }

    #[test]
    fn every_invalid_field_is_reported() {
        let err = parse::<Sample>(br#"{"slug": 1, "count": "x", "extra": true}"#).unwrap_err();
        let fields: Vec<String> = err.body().error.details.unwrap().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["slug", "count", "extra"]);
    }

    #[test]
    fn malformed_json_is_reported_on_the_body() {
        assert_eq!(problem(r#"{"slug": "#).field, "body");
        assert_eq!(problem("").field, "body");
    }
}
