//! Identity: roles, the caller's [`Principal`] built from JWT claims, the one helper every
//! handler uses to require a role and a scope, and the local development tokens.
//!
//! Claims (the same names in AWS and locally):
//! - `sub`: the caller's id (account, practitioner, patient or service id);
//! - `role`: one of [`Role`];
//! - `orgs`: space-separated organisation ids the caller may act on (org roles);
//! - `clinics`: space-separated clinic ids (clinic admins; optional for org roles);
//! - `exp`, `iss`, `aud`: checked by the JWT authorizer in AWS and by [`DevKey::verify`] locally.
//!
//! Space-separated strings rather than JSON arrays, because the HTTP API's JWT authorizer hands
//! claims to the function as a map of strings.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// Every role of the product (SPEC S2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    PlatformAdmin,
    Practitioner,
    Patient,
    OrgAdmin,
    OrgCoordinator,
    OrgReporter,
    ClinicAdmin,
    Service,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::PlatformAdmin,
        Role::Practitioner,
        Role::Patient,
        Role::OrgAdmin,
        Role::OrgCoordinator,
        Role::OrgReporter,
        Role::ClinicAdmin,
        Role::Service,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::Practitioner => "practitioner",
            Role::Patient => "patient",
            Role::OrgAdmin => "org_admin",
            Role::OrgCoordinator => "org_coordinator",
            Role::OrgReporter => "org_reporter",
            Role::ClinicAdmin => "clinic_admin",
            Role::Service => "service",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub sub: String,
    pub role: Role,
    pub orgs: Vec<String>,
    pub clinics: Vec<String>,
}

/// Why a token or its claims were not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token")]
    Malformed,
    #[error("bad token signature")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token issuer or audience not accepted")]
    WrongAudience,
    #[error("claim `{0}` missing or invalid")]
    Claim(&'static str),
}

impl Principal {
    /// Builds the principal from claims as the HTTP API's JWT authorizer hands them over.
    pub fn from_claims(claims: &HashMap<String, String>) -> Result<Principal, AuthError> {
        let sub = claims
            .get("sub")
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .ok_or(AuthError::Claim("sub"))?
            .clone();
        let role = claims
            .get("role")
            .and_then(|r| Role::parse(r))
            .ok_or(AuthError::Claim("role"))?;
        let list = |name: &str| -> Vec<String> {
            claims
                .get(name)
                .map(|s| {
                    s.trim_matches(|c| c == '[' || c == ']')
                        .split([' ', ','])
                        .filter(|x| !x.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Principal {
            sub,
            role,
            orgs: list("orgs"),
            clinics: list("clinics"),
        })
    }

    /// Whether the caller's scope includes this organisation.
    pub fn has_org(&self, org_id: &str) -> bool {
        self.orgs.iter().any(|o| o == org_id)
    }

    /// Whether the caller's scope includes this clinic.
    pub fn has_clinic(&self, clinic_id: &str) -> bool {
        self.clinics.iter().any(|c| c == clinic_id)
    }
}

/// What a route needs of its caller beyond the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Any caller with an allowed role.
    Any,
    /// The caller's `orgs` claim must name this organisation.
    Org(&'a str),
    /// A clinic and the organisation the data says it belongs to: a clinic admin's `clinics`
    /// claim must name the clinic; an org role's `orgs` claim must name that organisation
    /// (a clinic an org role's token names in `clinics` is not thereby its own).
    Clinic { clinic_id: &'a str, org_id: &'a str },
    /// The caller must be this very subject.
    Subject(&'a str),
}

/// The one check every handler makes: the caller is authenticated, has one of `roles`, and
/// `scope` is theirs. A scope miss answers 404, the same as an id that does not exist, so a
/// caller learns nothing about other tenants (SPEC S3).
pub fn require<'p>(
    principal: Option<&'p Principal>,
    roles: &[Role],
    scope: Scope<'_>,
) -> Result<&'p Principal, Error> {
    let p = principal.ok_or(Error::Unauthenticated)?;
    if !roles.contains(&p.role) {
        return Err(Error::RoleNotAllowed(p.role));
    }
    let in_scope = match scope {
        Scope::Any => true,
        Scope::Org(org) => p.has_org(org),
        Scope::Clinic { clinic_id, org_id } => match p.role {
            Role::ClinicAdmin => p.has_clinic(clinic_id),
            _ => p.has_org(org_id),
        },
        Scope::Subject(sub) => p.sub == sub,
    };
    if in_scope {
        Ok(p)
    } else {
        Err(Error::NotFound("resource"))
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
    fn authorizer_claims_accept_bracketed_lists() {
        let claims: HashMap<String, String> = [
            ("sub", "a"),
            ("role", "clinic_admin"),
            ("clinics", "[c1 c2]"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let p = Principal::from_claims(&claims).expect("claims");
        assert_eq!(p.clinics, vec!["c1", "c2"]);
        assert!(p.orgs.is_empty());
    }

    #[test]
    fn require_checks_role_then_scope() {
        let p = admin();
        assert!(require(Some(&p), &[Role::OrgAdmin], Scope::Org("org-2")).is_ok());
        assert_eq!(
            require(Some(&p), &[Role::OrgAdmin], Scope::Org("org-3")),
            Err(Error::NotFound("resource"))
        );
        assert_eq!(
            require(Some(&p), &[Role::Service], Scope::Any),
            Err(Error::RoleNotAllowed(p.role))
        );
        assert_eq!(
            require(None, &[Role::Service], Scope::Any),
            Err(Error::Unauthenticated)
        );
    }

    /// An org role reaches a clinic through the clinic's organisation only, whatever its
    /// `clinics` claim names; a clinic admin through its `clinics` claim only.
    #[test]
    fn a_clinic_is_reached_through_the_organisation_the_data_names() {
        let clinic = |clinic_id, org_id| Scope::Clinic { clinic_id, org_id };
        let reporter = Principal {
            role: Role::OrgReporter,
            orgs: vec!["org-1".into()],
            clinics: vec!["clinic-4".into()],
            ..admin()
        };
        let roles = [Role::OrgReporter, Role::ClinicAdmin];
        assert!(require(Some(&reporter), &roles, clinic("clinic-1", "org-1")).is_ok());
        assert_eq!(
            require(Some(&reporter), &roles, clinic("clinic-4", "org-2")),
            Err(Error::NotFound("resource"))
        );
        let clinic_admin = Principal {
            role: Role::ClinicAdmin,
            orgs: vec!["org-2".into()],
            clinics: vec!["clinic-1".into()],
            ..admin()
        };
        assert!(require(Some(&clinic_admin), &roles, clinic("clinic-1", "org-1")).is_ok());
        assert_eq!(
            require(Some(&clinic_admin), &roles, clinic("clinic-4", "org-2")),
            Err(Error::NotFound("resource"))
        );
    }
}
