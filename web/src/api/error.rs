//! What can go wrong with a request, as one type: the API's own refusal
//! (its stable code, message, request id and field problems), no answer at
//! all, or an answer the console cannot read.

use std::fmt;

use model::wire::{ErrorBody, FieldProblem};

/// A request that did not give the console what it asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// The API answered with its error body.
    Refused {
        status: u16,
        /// Stable, machine-readable, such as `invalid_credentials`.
        code: String,
        message: String,
        /// Quote it in support requests.
        request_id: String,
        /// Field-level problems, for validation failures.
        fields: Vec<FieldProblem>,
    },
    /// No answer: the browser is offline or the API cannot be reached.
    Network(String),
    /// An answer the console cannot read: not the API's error shape (a
    /// proxy's 502 page), or a body unlike the one expected; no status when
    /// the request could not even be written.
    Unexpected { status: Option<u16>, detail: String },
}

impl ApiError {
    pub(crate) fn network(error: impl fmt::Display) -> Self {
        Self::Network(error.to_string())
    }

    pub(crate) fn unexpected(status: Option<u16>, error: impl fmt::Display) -> Self {
        Self::Unexpected { status, detail: error.to_string() }
    }

    /// The error of a non-2xx answer from its status and body.
    pub(crate) fn from_answer(status: u16, body: &str) -> Self {
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(ErrorBody { error }) => Self::Refused {
                status,
                code: error.code,
                message: error.message,
                request_id: error.request_id,
                fields: error.details.unwrap_or_default(),
            },
            Err(_) => Self::unexpected(Some(status), format_args!("the API answered {status}")),
        }
    }

    /// The API's code, or `network` / `unexpected`.
    pub fn code(&self) -> &str {
        match self {
            Self::Refused { code, .. } => code,
            Self::Network(_) => "network",
            Self::Unexpected { .. } => "unexpected",
        }
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. } => Some(*status),
            Self::Unexpected { status, .. } => *status,
            Self::Network(_) => None,
        }
    }

    /// The sentence to show, without the field problems.
    pub fn message(&self) -> String {
        match self {
            Self::Refused { message, .. } => message.clone(),
            Self::Network(detail) => format!("Could not reach the API ({detail})."),
            Self::Unexpected { detail, .. } => format!("The API gave an answer the console cannot read ({detail})."),
        }
    }

    /// Every field problem.
    pub fn fields(&self) -> &[FieldProblem] {
        match self {
            Self::Refused { fields, .. } => fields,
            _ => &[],
        }
    }

    /// The problem with `field`, if the API named one.
    pub fn field(&self, field: &str) -> Option<&str> {
        self.fields().iter().find(|problem| problem.field == field).map(|problem| problem.message.as_str())
    }

    /// The request id of a refusal.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Refused { request_id, .. } if !request_id.is_empty() => Some(request_id),
            _ => None,
        }
    }
}

/// The message and every field problem, for places that show one line.
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())?;
        for problem in self.fields() {
            write!(f, "; {} {}", problem.field, problem.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_body_becomes_a_refusal_with_its_fields() {
        let body = r#"{"error":{"code":"validation_failed","message":"the request is not valid","request_id":"r-1",
            "details":[{"field":"email","message":"must be 1–320 characters"}]}}"#;
        let error = ApiError::from_answer(422, body);
        assert_eq!(error.code(), "validation_failed");
        assert_eq!(error.status(), Some(422));
        assert_eq!(error.field("email"), Some("must be 1–320 characters"));
        assert_eq!(error.field("password"), None);
        assert_eq!(error.request_id(), Some("r-1"));
        assert_eq!(error.to_string(), "the request is not valid; email must be 1–320 characters");
    }

    #[test]
    fn an_answer_that_is_not_the_error_body_is_unexpected() {
        let error = ApiError::from_answer(502, "<html>Bad Gateway</html>");
        assert_eq!(error.code(), "unexpected");
        assert_eq!(error.status(), Some(502));
        assert!(error.fields().is_empty());
        assert_eq!(ApiError::network("offline").code(), "network");
    }
}
