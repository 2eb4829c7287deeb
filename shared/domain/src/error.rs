//! Why a use case refused a request or could not complete it. The domain says what went wrong
//! in its own words; the HTTP layer (the `api` crate) maps each kind to one problem body and
//! status, in one place.

use crate::auth::Role;
use crate::ports::StoreError;

/// A refusal or failure of a use case. Its text is the problem body's `detail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The named field is not acceptable; the reason never repeats the submitted value.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// No valid credentials came with the request.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// The caller's role may not use this operation.
    #[error("the role {0} may not call this route")]
    RoleNotAllowed(Role),
    /// A party of the object, but not the one this step belongs to.
    #[error("{0}")]
    NotYourStep(&'static str),
    /// No such object, or none the caller may see (the two are not told apart).
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The object is not in the state this step needs, or a concurrent change won.
    #[error("{0}")]
    Conflict(String),
    /// A change of something others change too, sent without the version it was made from
    /// (the named field): it could silently undo a change the caller never saw.
    #[error("{0}: required; send the version that was read")]
    PreconditionRequired(&'static str),
    /// Well-formed, but a business rule refuses it: `kind` names the rule (a stable slug),
    /// `title` says it in a few words, `detail` what to do instead.
    #[error("{detail}")]
    Refused {
        kind: &'static str,
        title: &'static str,
        detail: String,
        /// The field at fault, and optionally a reason for it alone.
        field: Option<&'static str>,
        reason: Option<String>,
    },
    /// A backing service is unavailable; the request may be retried later.
    #[error("a backing service is unavailable; retry later")]
    Unavailable,
    /// Anything else: the cause has been logged (without personal data), never shown.
    #[error("the request could not be completed; it may be retried")]
    Internal,
}

impl Error {
    /// A bad value in `field`.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Error {
        Error::Invalid {
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    /// The field at fault, when one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. } => Some(field),
            Error::Refused { field, .. } => *field,
            Error::PreconditionRequired(field) => Some(field),
            _ => None,
        }
    }

    /// A malformed JSON document, naming the field serde stopped at (`path`, or the field a
    /// "missing"/"unknown field" message names, under the object it is missing from or
    /// unknown in, e.g. `reason.code`; `body` for the document as a whole).
    pub fn from_json(path: &str, e: &serde_json::Error) -> Error {
        let inner = e.to_string();
        let at_root = path.is_empty() || path == "." || path == "?";
        let field = if inner.starts_with("missing field") || inner.starts_with("unknown field") {
            match inner.split('`').nth(1) {
                None => "body".to_string(),
                Some(name) if at_root => name.to_string(),
                Some(name) if path == name || path.ends_with(&format!(".{name}")) => {
                    path.to_string()
                }
                Some(name) => format!("{path}.{name}"),
            }
        } else if e.is_syntax() || e.is_eof() || at_root {
            "body".to_string()
        } else {
            path.to_string()
        };
        Error::Invalid {
            field,
            reason: safe_serde_reason(&inner),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => Error::invalid("cursor", "not a cursor of this list"),
            StoreError::Conflict => Error::Conflict("a concurrent change won; retry".into()),
            StoreError::Unavailable(_) => {
                tracing::error!(error = %e, "store unavailable");
                Error::Unavailable
            }
            other => {
                tracing::error!(error = %other, "store error");
                Error::Internal
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Error {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Inner {
            at: String,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            name: String,
            inner: Option<Inner>,
        }
        let mut de = serde_json::Deserializer::from_str(json);
        let e = serde_path_to_error::deserialize::<_, Body>(&mut de).expect_err("refused");
        let path = e.path().to_string();
        Error::from_json(&path, e.inner())
    }

    #[test]
    fn json_errors_name_the_field_and_never_the_value() {
        assert_eq!(parse("{}"), Error::invalid("name", "is required"));
        assert_eq!(
            parse(r#"{"name":"x","nme":1}"#),
            Error::invalid("nme", "is not a known field")
        );
        assert_eq!(
            parse(r#"{"name": 12345}"#),
            Error::invalid("name", "must be a string")
        );
        assert_eq!(
            parse(r#"{"name":"x","inner":{"at":false}}"#),
            Error::invalid("inner.at", "must be a string")
        );
        assert_eq!(
            parse(r#"{"name":"x","inner":{}}"#),
            Error::invalid("inner.at", "is required")
        );
        assert_eq!(
            parse(r#"{"name":"x","inner":{"at":"t","zz":1}}"#),
            Error::invalid("inner.zz", "is not a known field")
        );
        let Error::Invalid { reason, .. } = parse(r#"{"name": "#) else {
            panic!("not invalid")
        };
        assert!(!reason.contains("line"), "{reason}");
        assert_eq!(parse("{not json").field(), Some("body"));
        assert_eq!(parse("true"), Error::invalid("body", "must be struct Body"));
    }
}
