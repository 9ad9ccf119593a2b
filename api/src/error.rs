//! The one JSON error shape, `{ "error": { code, message, request_id,
//! details? } }`, and the middleware that gives it to every failure, whether
//! a handler, poem's router, a body limit or a panic produced it.
//!
//! Codes are stable snake_case strings clients may match on; messages are for
//! people. Causes of internal errors are logged with the request id and never
//! sent.

use poem::error::ResponseError;
use poem::http::{header, HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::ApiResponse;

use crate::request_id;

pub use model::wire::{ErrorBody, ErrorDetail, FieldProblem};

/// An error body with this request's id.
pub fn error_body(code: &str, message: impl Into<String>) -> ErrorBody {
    ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: message.into(),
            request_id: request_id::current().unwrap_or_default(),
            details: None,
        },
    }
}

/// [`error_body`] as a poem-openapi payload, for response enum variants.
pub fn error_json(code: &str, message: impl Into<String>) -> Json<ErrorBody> {
    Json(error_body(code, message))
}

/// An error with its status; what handlers and middleware raise.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Vec<FieldProblem>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: Vec::new(), retry_after_secs: None }
    }

    pub fn validation(details: Vec<FieldProblem>) -> Self {
        let mut err = Self::new(StatusCode::BAD_REQUEST, "validation_failed", "the request is not valid");
        err.details = details;
        err
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// A dependency is down; the cause is logged, not sent.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "dependency unavailable");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the service is unavailable; retry shortly")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 429 with an operation's own code.
    pub fn too_many(code: &'static str, message: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut err = Self::new(StatusCode::TOO_MANY_REQUESTS, code, message);
        err.retry_after_secs = Some(retry_after_secs);
        err
    }

    /// An operation's own refusal, with its stable code.
    pub fn refusal(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::new(status, code, message)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut err = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; retry later");
        err.retry_after_secs = Some(retry_after_secs);
        err
    }

    /// A failure the client cannot fix. The cause is logged here, with the
    /// request span, and not kept in the response.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred")
    }

    /// Shapes an error that did not come from our code (router, extractors,
    /// limits), keyed by its status.
    fn from_foreign(err: &poem::Error) -> Self {
        let status = err.status();
        if let Some(param) = err.downcast_ref::<poem_openapi::error::ParseParamError>() {
            return Self::validation(vec![FieldProblem::new(param.name, param.reason.clone())]);
        }
        if let Some(param) = err.downcast_ref::<poem_openapi::error::ParsePathError>() {
            // poem-openapi names path parameters by position (`param0`);
            // the first is always the resource's `id` in this API.
            let field = if param.name == "param0" { "id" } else { "path" };
            return Self::validation(vec![FieldProblem::new(field, "must be a UUID")]);
        }
        let (code, message) = match status {
            StatusCode::BAD_REQUEST => ("bad_request", err.to_string()),
            StatusCode::UNAUTHORIZED => ("unauthenticated", "authentication is required".to_owned()),
            StatusCode::FORBIDDEN => ("forbidden", "not allowed".to_owned()),
            StatusCode::NOT_FOUND => ("not_found", "no such resource".to_owned()),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed here".to_owned()),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large".to_owned()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("unsupported_media_type", "the body must be JSON (Content-Type: application/json)".to_owned())
            }
            StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests; retry later".to_owned()),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "the service is unavailable".to_owned()),
            s if s.is_server_error() => return Self::internal(err),
            s if s.is_client_error() => ("bad_request", err.to_string()),
            _ => return Self::internal(format_args!("unexpected status {status} from {err}")),
        };
        Self::new(status, code, message)
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn body(&self) -> ErrorBody {
        let mut body = error_body(self.code, self.message.clone());
        if !self.details.is_empty() {
            body.error.details = Some(self.details.clone());
        }
        body
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn as_response(&self) -> Response {
        let mut response = poem::web::Json(poem_openapi::types::ToJSON::to_json(&self.body()).unwrap_or_default())
            .with_status(self.status)
            .into_response();
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// A status an operation may answer with the error body, and what it means.
pub type Declared = (u16, &'static str);

/// Statuses shared by a kind of operation, declared once here and merged by
/// [`Fail`] into the responses of each operation of that kind: route enums
/// keep only their success and their own statuses.
pub trait Statuses {
    fn declared() -> Vec<Declared>;
}

/// Every `/api` operation: 429 (rate limited), 500.
#[derive(Debug)]
pub struct Public;
/// An operation that needs Redis or the database to decide (sessions,
/// limits that fail closed): 503.
#[derive(Debug)]
pub struct Unavailable;
/// An operation that reads a JSON body: 400 (`validation_failed` with
/// `details`, or the route's own code), 413, 415.
#[derive(Debug)]
pub struct Body;
/// An operation with path or query parameters: 400.
#[derive(Debug)]
pub struct Params;
/// An operation for a signed-in user (bearer access token): 401, 503.
#[derive(Debug)]
pub struct SignedIn;
/// A tenant operation (bearer token or API key): 401, 403, 503.
#[derive(Debug)]
pub struct Tenant;

impl Statuses for Public {
    fn declared() -> Vec<Declared> {
        vec![(429, "Too many requests; see `Retry-After`."), (500, "Internal error; the body carries the request id.")]
    }
}

impl Statuses for Unavailable {
    fn declared() -> Vec<Declared> {
        vec![(503, "A dependency (sessions, limits) cannot be reached; retry shortly.")]
    }
}

impl Statuses for Body {
    fn declared() -> Vec<Declared> {
        vec![
            (
                400,
                "The request is not valid: `validation_failed` with `details` naming each field, or the \
                 operation's own code.",
            ),
            (413, "The body is larger than `APP_MAX_BODY_BYTES`."),
            (415, "The body is not JSON (`Content-Type: application/json`)."),
        ]
    }
}

impl Statuses for Params {
    fn declared() -> Vec<Declared> {
        vec![(400, "A path or query parameter is not valid: `validation_failed` with `details`.")]
    }
}

impl Statuses for SignedIn {
    fn declared() -> Vec<Declared> {
        vec![
            (401, "No valid access token, or its session has ended."),
            (503, "A dependency (sessions, limits) cannot be reached; retry shortly."),
        ]
    }
}

impl Statuses for Tenant {
    fn declared() -> Vec<Declared> {
        vec![
            (401, "No valid access token or API key, or no longer a member of the tenant."),
            (403, "The role does not allow it (`forbidden`), or the operation's own refusal."),
            (503, "A dependency (sessions, limits) cannot be reached; retry shortly."),
        ]
    }
}

/// A POST that takes an `Idempotency-Key`: 422 when the key was used for
/// another request.
#[derive(Debug)]
pub struct Idempotent;

impl Statuses for Idempotent {
    fn declared() -> Vec<Declared> {
        vec![(
            422,
            "`idempotency_key_reused`: the `Idempotency-Key` was used for another request (another caller, \
             operation or body) in the last 24 hours.",
        )]
    }
}

/// A platform operator's operation: 401 (no or wrong operator token).
#[derive(Debug)]
pub struct Operators;

impl Statuses for Operators {
    fn declared() -> Vec<Declared> {
        vec![(401, "No or wrong operator token.")]
    }
}

impl<A: Statuses, B: Statuses> Statuses for (A, B) {
    fn declared() -> Vec<Declared> {
        let mut all = A::declared();
        for (status, description) in B::declared() {
            if !all.iter().any(|(s, _)| *s == status) {
                all.push((status, description));
            }
        }
        all
    }
}

/// The error of an operation whose shared statuses are `S` (besides
/// [`Public`]'s): an [`ApiError`] that declares them in the spec.
pub struct Fail<S> {
    error: ApiError,
    statuses: std::marker::PhantomData<fn() -> S>,
}

impl<S> std::fmt::Debug for Fail<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<S> From<ApiError> for Fail<S> {
    fn from(error: ApiError) -> Self {
        Self { error, statuses: std::marker::PhantomData }
    }
}

impl<S> From<db::DbError> for Fail<S> {
    fn from(err: db::DbError) -> Self {
        ApiError::from(err).into()
    }
}

impl<S> From<Fail<S>> for poem::Error {
    fn from(fail: Fail<S>) -> Self {
        fail.error.into()
    }
}

impl<S: Statuses> ApiResponse for Fail<S> {
    fn meta() -> MetaResponses {
        MetaResponses { responses: <(Public, S)>::declared().into_iter().map(declared).collect() }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
    }
}

fn declared((status, description): Declared) -> MetaResponse {
    MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: vec![poem_openapi::registry::MetaMediaType {
            content_type: "application/json; charset=utf-8",
            schema: ErrorBody::schema_ref(),
        }],
        headers: vec![],
    }
}

/// An operation returning `ApiError` declares [`Public`]'s statuses.
impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses { responses: Public::declared().into_iter().map(declared).collect() }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
    }
}

impl From<db::DbError> for ApiError {
    fn from(err: db::DbError) -> Self {
        match err {
            // Input checks mirror the CHECK constraints; one that slips
            // through is still the client's value, not our failure.
            db::DbError::Invalid => {
                Self::new(StatusCode::BAD_REQUEST, "validation_failed", "a value was refused as not valid")
            }
            err => Self::internal(err),
        }
    }
}

/// Middleware: turns every error into the one shape.
pub async fn shape<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    match next.call(req).await {
        Ok(response) => Ok(response.into_response()),
        Err(err) => {
            let shaped = match err.downcast_ref::<ApiError>() {
                Some(api) => api.as_response(),
                None => ApiError::from_foreign(&err).as_response(),
            };
            Ok(shaped)
        }
    }
}

/// Renders a panic as an internal error instead of dropping the connection.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
    ApiError::internal(format_args!("handler panicked: {what}")).as_response()
}
