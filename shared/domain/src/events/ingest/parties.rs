//! Practitioner and patient profiles, a practitioner's availability, and each party's name.

use super::effects::{ik, merge, no_index, s, Effect, Indexes};
use super::names::party_name;
use crate::events::catalogue::{
    PatientUpserted, PractitionerAvailabilityChanged, PractitionerUpserted,
};
use crate::readmodels::{self as rm, keys, lists};
use chrono::{DateTime, Utc};

/// `practitioner.upserted`: the profile (the newest wins) and the party's name.
pub(super) fn practitioner_upserted(e: &PractitionerUpserted, at: DateTime<Utc>) -> Vec<Effect> {
    let name = party_name(&e.practitioner_id, e.name.as_str(), at);
    let (id, hours) = (s(&e.practitioner_id), e.response_time_hours);
    let commitment = merge(
        keys::response_times(),
        move |r: &mut rm::ResponseTimes| r.set(&id, hours, at),
        no_index,
    );
    let e = e.clone();
    vec![
        name,
        commitment,
        merge(
            keys::practitioner(e.practitioner_id.as_str()),
            move |p: &mut rm::Practitioner| {
                p.practitioner_id = s(&e.practitioner_id);
                if p.profile_as_of.is_none_or(|t| t <= at) {
                    p.name = Some(e.name.as_str().to_string());
                    p.specialties = e
                        .specialties
                        .iter()
                        .map(|x| x.as_str().to_string())
                        .collect();
                    p.approval = Some(e.approval);
                    p.price = Some(e.price.clone());
                    p.has_scheduling_practice = e.has_scheduling_practice;
                    p.profile_as_of = Some(at);
                }
            },
            practitioner_index,
        ),
    ]
}

/// `practitioner.availability_changed`: the availability on the profile (the newest wins).
pub(super) fn availability_changed(
    e: &PractitionerAvailabilityChanged,
    at: DateTime<Utc>,
) -> Vec<Effect> {
    let e = e.clone();
    vec![merge(
        keys::practitioner(e.practitioner_id.as_str()),
        move |p: &mut rm::Practitioner| {
            p.practitioner_id = s(&e.practitioner_id);
            if p.availability_as_of.is_none_or(|t| t <= at) {
                p.availability = Some(e.availability);
                p.availability_as_of = Some(at);
            }
        },
        practitioner_index,
    )]
}

/// `patient.upserted`: the patient's profile (the newest wins) and the party's name.
pub(super) fn patient_upserted(e: &PatientUpserted, at: DateTime<Utc>) -> Vec<Effect> {
    let name = party_name(&e.patient_id, e.name.as_str(), at);
    let e = e.clone();
    vec![
        name,
        merge(
            keys::patient(e.patient_id.as_str()),
            move |p: &mut rm::Patient| {
                p.patient_id = s(&e.patient_id);
                if p.as_of.is_none_or(|t| t <= at) {
                    p.name = Some(e.name.as_str().to_string());
                    p.as_of = Some(at);
                }
            },
            no_index,
        ),
    ]
}

/// Every practitioner by folded name (A5, B1 search), and those of its approval state.
fn practitioner_index(p: &rm::Practitioner) -> Indexes {
    let name = p.name.as_deref().map(rm::fold_name).unwrap_or_default();
    let sk = format!("{name}#{}", p.practitioner_id);
    (
        ik(lists::PRACTITIONERS, sk.clone()),
        p.approval
            .and_then(|a| ik(lists::practitioners_by_approval(a), sk)),
    )
}
