//! What handlers take and give: a request and a response independent of where they come from
//! (API Gateway or the local server, both through the [`crate::router`]), and RFC 9457
//! problem bodies (SPEC Q1), with the one mapping of the domain's [`domain::Error`] to them.

use bytes::Bytes;
use domain::auth::Principal;
use domain::error::Error;
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

    /// The path parameter `name`, when the route has one, checked as an id (1 to 128
    /// characters of `[A-Za-z0-9_.:-]`, as every id the API takes; the report types' words fit
    /// it too): a 400 naming the parameter otherwise, before anything is looked up. Handlers
    /// read their path parameters through here.
    pub fn path_id(&self, name: &str) -> Result<Option<&str>, Problem> {
        let Some(value) = self.path_param(name) else {
            return Ok(None);
        };
        domain::events::types::Id::parse(value)
            .map(|_| Some(value))
            .map_err(|reason| Problem::bad_request(name, reason))
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

    /// Parses the JSON body into the operation's typed input, answering a 400 problem that
    /// names the field at fault by its JSON path (never repeating the submitted value), or 413
    /// over [`MAX_BODY_BYTES`].
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Problem> {
        if self.body.len() > MAX_BODY_BYTES {
            return Err(Problem::too_large(MAX_BODY_BYTES));
        }
        if self.body.is_empty() {
            return Err(Problem::bad_request("body", "a JSON body is required"));
        }
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(&mut de)
            .map_err(|e| Error::from_json(&e.path().to_string(), e.inner()).into())
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

    pub fn into_response(self) -> ApiResponse {
        let mut r = ApiResponse::json(self.status, &self);
        r.headers = vec![("content-type".into(), "application/problem+json".into())];
        r
    }
}

impl From<Error> for Problem {
    /// The one place a domain refusal becomes an HTTP status and problem body.
    fn from(e: Error) -> Problem {
        match e {
            Error::Invalid { field, reason } => Problem::bad_request(&field, reason),
            Error::Unauthenticated => Problem::unauthorized(),
            Error::RoleNotAllowed(_) => Problem::new(403, "forbidden", "Forbidden", e.to_string()),
            Error::NotYourStep(detail) => Problem::new(403, "forbidden", "Forbidden", detail),
            Error::NotFound(what) => Problem::not_found(what),
            Error::Conflict(detail) => Problem::conflict(detail),
            Error::PreconditionRequired(field) => {
                let mut p = Problem::new(
                    428,
                    "precondition-required",
                    "Precondition required",
                    e.to_string(),
                );
                p.field = Some(field.to_string());
                p.errors.push(FieldError {
                    field: field.to_string(),
                    reason: "required: the version the change was made from".into(),
                });
                p
            }
            Error::Refused {
                kind,
                title,
                detail,
                field,
                reason,
            } => {
                let mut p = Problem::new(422, kind, title, detail);
                p.field = field.map(str::to_string);
                if let (Some(field), Some(reason)) = (field, reason) {
                    p.errors.push(FieldError {
                        field: field.to_string(),
                        reason,
                    });
                }
                p
            }
            Error::Unavailable => Problem::unavailable(),
            Error::Internal => Problem::internal(),
        }
    }
}

impl From<domain::ports::StoreError> for Problem {
    fn from(e: domain::ports::StoreError) -> Self {
        Error::from(e).into()
    }
}

impl From<domain::referrals::ReferralError> for Problem {
    fn from(e: domain::referrals::ReferralError) -> Self {
        Error::from(e).into()
    }
}

/// What every HTTP handler returns.
pub type HandlerResult = Result<ApiResponse, Problem>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_parsed_into_the_typed_input_naming_the_field_at_fault() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct B {
            name: String,
        }
        let req = |body: &'static [u8]| ApiRequest {
            body: Bytes::from_static(body),
            ..Default::default()
        };
        let p = req(b"{}").json::<B>().expect_err("missing");
        assert_eq!((p.status, p.field.as_deref()), (400, Some("name")));
        let p = req(br#"{"name": 12345}"#)
            .json::<B>()
            .expect_err("wrong type");
        assert_eq!(p.field.as_deref(), Some("name"));
        assert_eq!(p.errors[0].reason, "must be a string");
        assert!(!p.detail.contains("12345"));
        let empty = req(b"").json::<B>().expect_err("empty");
        assert_eq!(empty.field.as_deref(), Some("body"));
        let big = ApiRequest {
            body: Bytes::from(vec![b' '; MAX_BODY_BYTES + 1]),
            ..Default::default()
        };
        assert_eq!(big.json::<B>().expect_err("too large").status, 413);
    }

    #[test]
    fn each_domain_refusal_has_its_status() {
        let cases = [
            (Error::invalid("limit", "too big"), 400),
            (Error::Unauthenticated, 401),
            (Error::RoleNotAllowed(domain::auth::Role::Patient), 403),
            (Error::NotYourStep("the specialist decides"), 403),
            (Error::NotFound("referral"), 404),
            (Error::Conflict("already decided".into()), 409),
            (Error::PreconditionRequired("version"), 428),
            (Error::Unavailable, 503),
            (Error::Internal, 500),
        ];
        for (e, status) in cases {
            assert_eq!(Problem::from(e.clone()).status, status, "{e:?}");
        }
        let refused = Problem::from(Error::Refused {
            kind: "range-email-only",
            title: "Range too long to download",
            detail: "request it by email".into(),
            field: Some("to"),
            reason: Some("at most 2 calendar months".into()),
        });
        assert_eq!(refused.status, 422);
        assert_eq!(
            refused.kind,
            "https://telehealth.example/problems/range-email-only"
        );
        assert_eq!(refused.field.as_deref(), Some("to"));
        assert_eq!(refused.errors.len(), 1);
        let forbidden = Problem::from(Error::RoleNotAllowed(domain::auth::Role::Patient));
        assert_eq!(forbidden.detail, "the role patient may not call this route");
    }
}
