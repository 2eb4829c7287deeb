//! Unit tests of the referral steps' parsing and rules.

use super::*;

fn caller(role: Role) -> Principal {
    Principal {
        sub: "u1".into(),
        role,
        orgs: vec![],
        clinics: vec![],
    }
}

#[test]
fn idempotency_keys_are_short_visible_ascii() {
    assert_eq!(parse_idempotency_key(None).ok(), Some(None));
    assert_eq!(
        parse_idempotency_key(Some("a-1_B.2")).ok(),
        Some(Some("a-1_B.2".to_string()))
    );
    for bad in ["", "with space", "é", &"k".repeat(101)] {
        assert!(
            matches!(
                parse_idempotency_key(Some(bad)),
                Err(ReferralError::Invalid {
                    field: "Idempotency-Key",
                    ..
                })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn each_role_lists_in_its_own_capacities() {
    let prac = caller(Role::Practitioner);
    let pat = caller(Role::Patient);
    assert_eq!(
        list_capacity(&prac, Some("referrer")).ok(),
        Some(PartyAs::Referrer)
    );
    assert_eq!(
        list_capacity(&prac, Some("specialist")).ok(),
        Some(PartyAs::Specialist)
    );
    assert!(list_capacity(&prac, Some("patient")).is_err());
    assert!(list_capacity(&prac, None).is_err());
    assert_eq!(list_capacity(&pat, None).ok(), Some(PartyAs::Patient));
    assert_eq!(
        list_capacity(&pat, Some("patient")).ok(),
        Some(PartyAs::Patient)
    );
    assert!(list_capacity(&pat, Some("referrer")).is_err());
    assert!(list_capacity(&caller(Role::PlatformAdmin), Some("referrer")).is_err());
}

#[test]
fn the_request_hash_tells_requests_apart() {
    let accept = DecisionRequest {
        decision: Decision::Accept,
        reason: None,
    };
    let reject = DecisionRequest {
        decision: Decision::Reject,
        reason: None,
    };
    let a = request_hash("patient-decision", "ref-1", &accept);
    assert_eq!(a, request_hash("patient-decision", "ref-1", &accept));
    assert_ne!(a, request_hash("patient-decision", "ref-1", &reject));
    assert_ne!(a, request_hash("patient-decision", "ref-2", &accept));
    assert_ne!(a, request_hash("specialist-decision", "ref-1", &accept));
    let why = |code, text: Option<&str>| DecisionRequest {
        decision: Decision::Reject,
        reason: Some(DeclineReason {
            code,
            text: text.map(str::to_string),
        }),
    };
    let full = request_hash("s", "r", &why(ReasonCode::Other, Some("elsewhere")));
    assert_ne!(
        full,
        request_hash("s", "r", &why(ReasonCode::Other, Some("later")))
    );
    assert_ne!(
        full,
        request_hash("s", "r", &why(ReasonCode::NoCapacity, None))
    );
}

fn reject_with(code: ReasonCode, text: Option<&str>) -> DecisionRequest {
    DecisionRequest {
        decision: Decision::Reject,
        reason: Some(DeclineReason {
            code,
            text: text.map(str::to_string),
        }),
    }
}

fn refused_field(request: &DecisionRequest, step: Step) -> Option<&'static str> {
    match request.normalised(step) {
        Err(ReferralError::Invalid { field, .. }) => Some(field),
        _ => None,
    }
}

#[test]
fn a_decline_reason_is_checked_and_trimmed() {
    let taken = reject_with(ReasonCode::Other, Some("  seen by a colleague \n"))
        .normalised(Step::Specialist)
        .expect("taken");
    assert_eq!(
        taken.reason,
        Some(DeclineReason {
            code: ReasonCode::Other,
            text: Some("seen by a colleague".into())
        })
    );
    let blank = reject_with(ReasonCode::NoCapacity, Some("  "))
        .normalised(Step::Specialist)
        .expect("taken");
    assert_eq!(blank.reason.expect("a reason").text, None);
    let longest = "é".repeat(MAX_REASON_TEXT_CHARS);
    assert!(reject_with(ReasonCode::Other, Some(&longest))
        .normalised(Step::Specialist)
        .is_ok());
    let too_long = "é".repeat(MAX_REASON_TEXT_CHARS + 1);
    for (request, step, field) in [
        (
            reject_with(ReasonCode::Other, None),
            Step::Specialist,
            "reason.text",
        ),
        (
            reject_with(ReasonCode::Other, Some(" \t")),
            Step::Specialist,
            "reason.text",
        ),
        (
            reject_with(ReasonCode::NoCapacity, Some(&too_long)),
            Step::Specialist,
            "reason.text",
        ),
        (
            reject_with(ReasonCode::Other, Some("a\u{7}b")),
            Step::Specialist,
            "reason.text",
        ),
        (
            reject_with(ReasonCode::NoCapacity, None),
            Step::Patient,
            "reason",
        ),
        (
            DecisionRequest {
                decision: Decision::Reject,
                reason: None,
            },
            Step::Specialist,
            "reason",
        ),
        (
            DecisionRequest {
                decision: Decision::Accept,
                reason: Some(DeclineReason {
                    code: ReasonCode::NoCapacity,
                    text: None,
                }),
            },
            Step::Specialist,
            "reason",
        ),
    ] {
        assert_eq!(refused_field(&request, step), Some(field), "{request:?}");
    }
    let patient_reject = DecisionRequest {
        decision: Decision::Reject,
        reason: None,
    };
    assert!(patient_reject.normalised(Step::Patient).is_ok());
}
