//! What handlers take and give: a request and a response independent of where they come from
//! (API Gateway or the local server, both through the `api` crate's Router), and RFC 9457
//! problem bodies (SPEC Q1).

use crate::auth::{Principal, Role};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Largest request body any route accepts (bytes).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A request as a handler sees it.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub path_params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Set when a valid token came with the request.
    pub principal: Option<Principal>,
    /// Correlates log lines of one request (API Gateway's request id, or a local one).
    pub request_id: String,
}

impl ApiRequest {
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Parses the JSON body, answering a 400 problem that names the offending field.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Problem> {
        if self.body.len() > MAX_BODY_BYTES {
            return Err(Problem::too_large(MAX_BODY_BYTES));
        }
        if self.body.is_empty() {
            return Err(Problem::bad_request("body", "a JSON body is required"));
        }
        serde_json::from_slice(&self.body).map_err(|e| Problem::from_json_error(&e))
    }
}

/// Bytes a JSON answer's buffer starts with ([`ApiResponse::json`]).
const JSON_BODY_CAPACITY: usize = 32 * 1024;

/// A response as a handler returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl ApiResponse {
    pub fn json<T: Serialize>(status: u16, value: &T) -> ApiResponse {
        // A page of 50 rows is 15–20 KB: room for it from the start instead of eight
        // doublings from serde_json's 128 bytes, each copying what was written.
        let mut body = Vec::with_capacity(JSON_BODY_CAPACITY);
        if serde_json::to_writer(&mut body, value).is_err() {
            body = b"{}".to_vec();
        }
        ApiResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(body),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One field-level error inside a problem body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// An RFC 9457 problem: `{type, title, status, detail, field?, errors?}`, served as
/// `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: u16, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("https://telehealth.example/problems/{kind}"),
            title: title.to_string(),
            status,
            detail: detail.into(),
            field: None,
            errors: Vec::new(),
        }
    }

    pub fn bad_request(field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let mut p = Self::new(
            400,
            "invalid-input",
            "Invalid input",
            format!("{field}: {reason}"),
        );
        p.field = Some(field.to_string());
        p.errors.push(FieldError {
            field: field.to_string(),
            reason,
        });
        p
    }

    pub fn unauthorized() -> Self {
        Self::new(
            401,
            "unauthorized",
            "Unauthorized",
            "a valid bearer token is required",
        )
    }

    pub fn forbidden(role: Role) -> Self {
        Self::new(
            403,
            "forbidden",
            "Forbidden",
            format!("the role {role} may not call this route"),
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not-found", "Not found", format!("no such {what}"))
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, "conflict", "Conflict", detail)
    }

    pub fn too_large(limit: usize) -> Self {
        let mut p = Self::new(
            413,
            "too-large",
            "Payload too large",
            format!("the body exceeds {limit} bytes"),
        );
        p.field = Some("body".into());
        p
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "method-not-allowed",
            "Method not allowed",
            "this path does not take that method",
        )
    }

    /// An opaque 500: the cause goes to the log (without personal data), not to the caller.
    pub fn internal() -> Self {
        Self::new(
            500,
            "internal",
            "Internal error",
            "the request could not be completed; it may be retried",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            503,
            "unavailable",
            "Service unavailable",
            "a backing service is unavailable; retry later",
        )
    }

    /// Turns a serde_json error into a 400 that names the field serde stopped at.
    pub fn from_json_error(e: &serde_json::Error) -> Self {
        let msg = e.to_string();
        // serde's messages name fields as "missing field `x`" / "unknown field `x`".
        let field = msg
            .split('`')
            .nth(1)
            .filter(|_| msg.contains("field"))
            .map(str::to_string)
            .unwrap_or_else(|| "body".to_string());
        Self::bad_request(&field, safe_serde_reason(&msg))
    }

    pub fn into_response(self) -> ApiResponse {
        let mut r = ApiResponse::json(self.status, &self);
        r.headers = vec![("content-type".into(), "application/problem+json".into())];
        r
    }
}

impl From<crate::ports::StoreError> for Problem {
    fn from(e: crate::ports::StoreError) -> Self {
        use crate::ports::StoreError;
        match e {
            StoreError::InvalidCursor => {
                Problem::bad_request("cursor", "not a cursor of this list")
            }
            StoreError::Conflict => Problem::conflict("a concurrent change won; retry"),
            StoreError::Unavailable(_) => {
                tracing::error!(error = %e, "store unavailable");
                Problem::unavailable()
            }
            other => {
                tracing::error!(error = %other, "store error");
                Problem::internal()
            }
        }
    }
}

/// A reason from serde's message that never repeats the offending value (which may be personal
/// data): only what was expected.
pub fn safe_serde_reason(msg: &str) -> String {
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    let expected = |m: &str| {
        m.split_once("expected ")
            .map(|(_, e)| format!("must be {e}"))
    };
    if msg.starts_with("missing field") {
        "is required".into()
    } else if msg.starts_with("unknown field") {
        "is not a known field".into()
    } else if msg.starts_with("unknown variant")
        || msg.starts_with("invalid type")
        || msg.starts_with("invalid value")
        || msg.starts_with("invalid length")
    {
        expected(msg).unwrap_or_else(|| "has the wrong type".into())
    } else {
        msg.to_string()
    }
}

/// What every HTTP handler returns.
pub type HandlerResult = Result<ApiResponse, Problem>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_name_the_field() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct B {
            name: String,
        }
        let req = ApiRequest {
            body: Bytes::from_static(b"{}"),
            ..Default::default()
        };
        let p = req.json::<B>().expect_err("missing");
        assert_eq!(p.status, 400);
        assert_eq!(p.field.as_deref(), Some("name"));
        let typed = ApiRequest {
            body: Bytes::from_static(br#"{"name": 12345}"#),
            ..Default::default()
        };
        let p = typed.json::<B>().expect_err("wrong type");
        assert_eq!(p.field.as_deref(), Some("body"));
        assert_eq!(p.errors[0].reason, "must be a string");
        assert!(!p.detail.contains("12345"));
        let empty = ApiRequest::default().json::<B>().expect_err("empty");
        assert_eq!(empty.field.as_deref(), Some("body"));
    }
}
