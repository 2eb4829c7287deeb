//! Development tokens: HS256 JWTs minted and verified with a key kept in the local data
//! directory, carrying the claims API Gateway's JWT authorizer hands the functions in AWS
//! (`sub`, `role`, `orgs`, `clinics`). The local server verifies them where API Gateway would;
//! no Lambda function links this.

use domain::auth::{AuthError, Principal, Role};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// The local development signing key (HS256). In AWS the HTTP API's JWT authorizer verifies
/// tokens instead and this key is never used.
///
/// Signing and verification are jsonwebtoken's (on ring); the expiry is checked here against
/// the `now` the caller passes (the local server's clock port), not the system clock.
#[derive(Clone)]
pub struct DevKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub issuer: String,
    pub audience: String,
}

impl fmt::Debug for DevKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevKey")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// Issuer and audience of local tokens.
pub const DEV_ISSUER: &str = "telehealth-local";
pub const DEV_AUDIENCE: &str = "telehealth-api";

/// Claims of a token minted locally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub orgs: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub clinics: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    /// Not before: the token is refused until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

impl DevKey {
    pub fn new(secret: Vec<u8>) -> Self {
        Self {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            issuer: DEV_ISSUER.to_string(),
            audience: DEV_AUDIENCE.to_string(),
        }
    }

    /// Mints an HS256 token for `principal`, valid for `ttl_seconds` from `now`.
    pub fn mint(&self, principal: &Principal, now: i64, ttl_seconds: i64) -> String {
        let claims = TokenClaims {
            sub: principal.sub.clone(),
            role: principal.role,
            orgs: principal.orgs.join(" "),
            clinics: principal.clinics.join(" "),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl_seconds,
            iat: now,
            nbf: None,
        };
        self.sign(&claims)
    }

    /// Signs `claims` as they are (HS256).
    pub fn sign(&self, claims: &TokenClaims) -> String {
        // `{"typ":"JWT","alg":"HS256"}`. Encoding fails only for a key of another algorithm
        // family or claims that do not serialise; neither can happen here.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 claims of strings and integers always encode")
    }

    /// Verifies an HS256 token and returns its claims as the JWT authorizer would hand them
    /// over (a map of strings).
    ///
    /// Refused: anything but three base64url JSON parts with `alg` HS256 ([`AuthError::Malformed`]),
    /// a signature not made with this key ([`AuthError::BadSignature`]), an `exp` that is missing
    /// or not an integer ([`AuthError::Claim`]), an `iss` or `aud` that is not exactly this key's
    /// ([`AuthError::WrongAudience`]), an `exp` at or before `now` ([`AuthError::Expired`]), and
    /// an `nbf` (not before) that is not an integer or is after `now` ([`AuthError::Claim`]).
    pub fn verify(&self, token: &str, now: i64) -> Result<HashMap<String, String>, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // `exp` must be present and an integer (a claim of another type counts as missing, so a
        // mistyped `exp` cannot skip the check); its time is compared below with `now`, since
        // the library's own check reads the system clock. `nbf` likewise (`validate_nbf`).
        validation.validate_nbf = false;
        validation.required_spec_claims = HashSet::from(["exp".to_string()]);
        validation.validate_exp = false;
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_audience(&[self.audience.as_str()]);
        let claims = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &self.decoding,
            &validation,
        )
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::MissingRequiredClaim(_) => AuthError::Claim("exp"),
            ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => AuthError::WrongAudience,
            _ => AuthError::Malformed,
        })?
        .claims;
        let exp = claims
            .get("exp")
            .and_then(|e| e.as_i64())
            .ok_or(AuthError::Claim("exp"))?;
        // The library checks `iss` and `aud` when present, and accepts arrays that hold the
        // value; local tokens carry both, each one string, as the tokens this key mints.
        let text = |k: &str| claims.get(k).and_then(|v| v.as_str());
        if text("iss") != Some(self.issuer.as_str()) || text("aud") != Some(self.audience.as_str())
        {
            return Err(AuthError::WrongAudience);
        }
        if exp <= now {
            return Err(AuthError::Expired);
        }
        // Optional; when present, an integer no later than `now` (no leeway: local tokens are
        // minted on the clock they are checked with).
        if let Some(nbf) = claims.get("nbf") {
            if nbf.as_i64().is_none_or(|nbf| nbf > now) {
                return Err(AuthError::Claim("nbf"));
            }
        }
        Ok(claims
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, s)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Principal {
        Principal {
            sub: "acc-1".into(),
            role: Role::OrgAdmin,
            orgs: vec!["org-1".into(), "org-2".into()],
            clinics: vec![],
        }
    }

    #[test]
    fn minted_token_verifies_to_the_same_principal() {
        let key = DevKey::new(b"k".to_vec());
        let token = key.mint(&admin(), 1_000, 60);
        let claims = key.verify(&token, 1_059).expect("valid");
        assert_eq!(Principal::from_claims(&claims).expect("claims"), admin());
        assert_eq!(key.verify(&token, 1_060), Err(AuthError::Expired));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        use base64::Engine;
        let key = DevKey::new(b"k".to_vec());
        let token = key.mint(&admin(), 1_000, 60);
        let other = DevKey::new(b"other".to_vec());
        assert_eq!(other.verify(&token, 1_000), Err(AuthError::BadSignature));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"x","role":"platform_admin","exp":99999,"iss":"telehealth-local","aud":"telehealth-api"}"#);
        parts[1] = &forged;
        assert_eq!(
            key.verify(&parts.join("."), 1_000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(key.verify("a.b", 1_000), Err(AuthError::Malformed));
        assert_eq!(key.verify("a.b.c.d", 1_000), Err(AuthError::Malformed));
        // Another signature on the same header and claims.
        let (message, signature) = token.rsplit_once('.').expect("three parts");
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let resigned = format!("{message}.{flipped}{}", &signature[1..]);
        assert_eq!(key.verify(&resigned, 1_000), Err(AuthError::BadSignature));
    }

    const OLD_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    /// A token signed the way `DevKey` signed before it used jsonwebtoken: HMAC-SHA256 over
    /// `base64url(header).base64url(claims)`, unpadded base64url throughout.
    fn sign_by_hand(secret: &[u8], header: &str, claims: &serde_json::Value) -> String {
        use base64::Engine;
        use hmac::Mac;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let input = format!(
            "{}.{}",
            b64.encode(header),
            b64.encode(serde_json::to_vec(claims).expect("json"))
        );
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
        mac.update(input.as_bytes());
        format!("{input}.{}", b64.encode(mac.finalize().into_bytes()))
    }

    fn decode_part(part: &str) -> serde_json::Value {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[test]
    fn minted_tokens_keep_the_header_and_claims_of_before() {
        let key = DevKey::new(b"k".to_vec());
        let token = key.mint(&admin(), 1_000, 60);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            decode_part(parts[0]),
            serde_json::json!({"alg": "HS256", "typ": "JWT"})
        );
        // Strings and integers only, lists space-separated, an empty list left out: the shape
        // the HTTP API's JWT authorizer flattens into a map of strings.
        assert_eq!(
            decode_part(parts[1]),
            serde_json::json!({
                "sub": "acc-1",
                "role": "org_admin",
                "orgs": "org-1 org-2",
                "iss": "telehealth-local",
                "aud": "telehealth-api",
                "exp": 1_060,
                "iat": 1_000,
            })
        );
        let claims = key.verify(&token, 1_000).expect("valid");
        let expected: HashMap<String, String> = [
            ("sub", "acc-1"),
            ("role", "org_admin"),
            ("orgs", "org-1 org-2"),
            ("iss", "telehealth-local"),
            ("aud", "telehealth-api"),
            ("exp", "1060"),
            ("iat", "1000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(claims, expected);
    }

    #[test]
    fn tokens_signed_by_hand_as_before_still_verify() {
        let key = DevKey::new(b"k".to_vec());
        let claims = serde_json::to_value(TokenClaims {
            sub: "acc-1".into(),
            role: Role::OrgAdmin,
            orgs: "org-1 org-2".into(),
            clinics: String::new(),
            iss: DEV_ISSUER.into(),
            aud: DEV_AUDIENCE.into(),
            exp: 1_060,
            iat: 1_000,
            nbf: None,
        })
        .expect("json");
        let old = sign_by_hand(b"k", OLD_HEADER, &claims);
        let verified = key.verify(&old, 1_000).expect("valid");
        assert_eq!(Principal::from_claims(&verified).expect("claims"), admin());
        assert_eq!(key.verify(&old, 1_060), Err(AuthError::Expired));
        assert_eq!(
            DevKey::new(b"other".to_vec()).verify(&old, 1_000),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn claims_are_checked_as_the_authorizer_would() {
        let key = DevKey::new(b"k".to_vec());
        let with = |changes: serde_json::Value| {
            let mut claims = serde_json::json!({
                "sub": "x", "role": "service", "iss": DEV_ISSUER, "aud": DEV_AUDIENCE,
                "exp": 2_000, "iat": 1_000,
            });
            for (k, v) in changes.as_object().expect("object") {
                if v.is_null() {
                    claims.as_object_mut().expect("object").remove(k);
                } else {
                    claims[k] = v.clone();
                }
            }
            key.verify(&sign_by_hand(b"k", OLD_HEADER, &claims), 1_500)
        };
        assert!(with(serde_json::json!({})).is_ok());
        assert_eq!(
            with(serde_json::json!({"exp": null})),
            Err(AuthError::Claim("exp"))
        );
        // A mistyped `exp` is refused, not skipped.
        assert_eq!(
            with(serde_json::json!({"exp": "99999999999"})),
            Err(AuthError::Claim("exp"))
        );
        assert_eq!(
            with(serde_json::json!({"exp": 1_500})),
            Err(AuthError::Expired)
        );
        // Not before: honoured against `now`, up to and including it.
        assert!(with(serde_json::json!({"nbf": 1_500})).is_ok());
        assert!(with(serde_json::json!({"nbf": 1_000})).is_ok());
        for bad in [
            serde_json::json!({"nbf": 1_501}),
            serde_json::json!({"nbf": 99_999_999_999_i64}),
            serde_json::json!({"nbf": "1000"}),
            serde_json::json!({"nbf": 1_000.5}),
        ] {
            assert_eq!(with(bad.clone()), Err(AuthError::Claim("nbf")), "{bad}");
        }
        for wrong in [
            serde_json::json!({"iss": "someone-else"}),
            serde_json::json!({"iss": null}),
            serde_json::json!({"iss": 7}),
            serde_json::json!({"aud": "another-api"}),
            serde_json::json!({"aud": null}),
            serde_json::json!({"aud": [DEV_AUDIENCE]}),
        ] {
            assert_eq!(
                with(wrong.clone()),
                Err(AuthError::WrongAudience),
                "{wrong}"
            );
        }
    }

    #[test]
    fn only_hs256_is_accepted() {
        let key = DevKey::new(b"k".to_vec());
        let claims = serde_json::json!({
            "sub": "x", "role": "service", "iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "exp": 2_000,
        });
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"alg":"HS512","typ":"JWT"}"#,
            r#"{"typ":"JWT"}"#,
        ] {
            let token = sign_by_hand(b"k", header, &claims);
            assert_eq!(
                key.verify(&token, 1_000),
                Err(AuthError::Malformed),
                "{header}"
            );
        }
        let unsigned = sign_by_hand(b"k", r#"{"alg":"none"}"#, &claims);
        let unsigned = format!("{}.", unsigned.rsplit_once('.').expect("parts").0);
        assert_eq!(key.verify(&unsigned, 1_000), Err(AuthError::Malformed));
    }

    #[test]
    fn debug_leaves_the_secret_out() {
        let key = DevKey::new(b"very-secret-bytes".to_vec());
        let shown = format!("{key:?}");
        assert!(shown.contains("telehealth-local"), "{shown}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(!shown.contains("118, 101, 114, 121"), "{shown}");
    }
}
