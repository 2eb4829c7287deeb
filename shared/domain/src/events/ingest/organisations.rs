//! Organisations, clinics, rooms, accounts (and the organisation's account names) and clinic
//! memberships: snapshots, the newest event wins.

use super::effects::{ik, merge, no_index, s, snapshot, Effect};
use crate::events::catalogue::{
    AccountUpserted, ClinicUpserted, MembershipUpserted, OrganisationUpserted, RoomUpserted,
};
use crate::readmodels::{self as rm, keys, lists};
use chrono::{DateTime, Utc};

/// `organisation.upserted`: the organisation's snapshot (the newest wins).
pub(super) fn organisation(e: &OrganisationUpserted, at: DateTime<Utc>) -> Vec<Effect> {
    let e = e.clone();
    vec![merge(
        keys::organisation(e.org_id.as_str()),
        move |o: &mut rm::Organisation| {
            if o.as_of.is_none_or(|t| t <= at) {
                *o = rm::Organisation {
                    org_id: s(&e.org_id),
                    name: e.name.as_str().to_string(),
                    state: e.state.as_str().to_string(),
                    specialty: e.specialty.as_str().to_string(),
                    contract: e.contract.as_str().to_string(),
                    created_at: Some(e.created_at),
                    deleted_at: e.deleted_at,
                    as_of: Some(at),
                };
            }
        },
        |o: &rm::Organisation| (ik(lists::ORGANISATIONS, o.org_id.clone()), None),
    )]
}

/// `clinic.upserted`: the clinic's snapshot, listed under its organisation.
pub(super) fn clinic(e: &ClinicUpserted, at: DateTime<Utc>) -> Vec<Effect> {
    let c = rm::Clinic {
        clinic_id: s(&e.clinic_id),
        org_id: s(&e.org_id),
        name: e.name.as_str().to_string(),
        subdomain: s(&e.subdomain),
        waiting_area_status: e.waiting_area_status,
        state: e.state.as_str().to_string(),
        specialty: e.specialty.as_str().to_string(),
        contract: e.contract.as_str().to_string(),
        created_at: e.created_at,
        deleted_at: e.deleted_at,
        as_of: at,
    };
    vec![snapshot(
        keys::clinic(e.clinic_id.as_str()),
        c,
        at,
        |o: &rm::Clinic| o.as_of,
        |o: &Option<rm::Clinic>| match o {
            Some(c) => (ik(lists::org_clinics(&c.org_id), c.clinic_id.clone()), None),
            None => (None, None),
        },
    )]
}

/// `room.upserted`: the room's snapshot, listed under its organisation.
pub(super) fn room(e: &RoomUpserted, at: DateTime<Utc>) -> Vec<Effect> {
    let r = rm::Room {
        room_id: s(&e.room_id),
        org_id: s(&e.org_id),
        clinic_id: s(&e.clinic_id),
        room_type: e.room_type,
        name: e.name.as_str().to_string(),
        owner_account_id: e.owner_account_id.as_ref().map(s),
        created_at: e.created_at,
        deleted_at: e.deleted_at,
        as_of: at,
    };
    vec![snapshot(
        keys::room(e.room_id.as_str()),
        r,
        at,
        |o: &rm::Room| o.as_of,
        |o: &Option<rm::Room>| match o {
            Some(r) => (ik(lists::org_rooms(&r.org_id), r.room_id.clone()), None),
            None => (None, None),
        },
    )]
}

/// `account.upserted`: the account, and its entry in the organisation's names item.
pub(super) fn account(e: &AccountUpserted, at: DateTime<Utc>) -> Vec<Effect> {
    let a = rm::Account {
        account_id: s(&e.account_id),
        org_id: s(&e.org_id),
        email: e.email.as_str().to_string(),
        name: e.name.as_str().to_string(),
        platform_role: s(&e.platform_role),
        access_level: s(&e.access_level),
        created_at: e.created_at,
        deactivated_at: e.deactivated_at,
        as_of: at,
    };
    let (id, name) = (a.account_id.clone(), a.name.clone());
    vec![
        snapshot(
            keys::account(e.account_id.as_str()),
            a,
            at,
            |o: &rm::Account| o.as_of,
            |o: &Option<rm::Account>| match o {
                Some(a) => (
                    ik(lists::org_accounts(&a.org_id), a.account_id.clone()),
                    None,
                ),
                None => (None, None),
            },
        ),
        // The organisation's names item (C6), on the account item's rule: an entry
        // moves only for an event as new as it.
        merge(
            keys::org_account_names(e.org_id.as_str()),
            move |names: &mut rm::AccountNames| {
                if names.accounts.get(&id).is_none_or(|n| n.as_of <= at) {
                    names.accounts.insert(
                        id.clone(),
                        rm::AccountName {
                            name: name.clone(),
                            as_of: at,
                        },
                    );
                }
            },
            no_index,
        ),
    ]
}

/// `membership.upserted`: the membership's snapshot, listed under its clinic.
pub(super) fn membership(e: &MembershipUpserted, at: DateTime<Utc>) -> Vec<Effect> {
    let m = rm::Membership {
        account_id: s(&e.account_id),
        clinic_id: s(&e.clinic_id),
        org_id: s(&e.org_id),
        clinic_role: e.clinic_role,
        granted_at: e.granted_at,
        revoked_at: e.revoked_at,
        as_of: at,
    };
    vec![snapshot(
        keys::membership(e.account_id.as_str(), e.clinic_id.as_str()),
        m,
        at,
        |o: &rm::Membership| o.as_of,
        |o: &Option<rm::Membership>| match o {
            Some(m) => (
                ik(lists::clinic_members(&m.clinic_id), m.account_id.clone()),
                None,
            ),
            None => (None, None),
        },
    )]
}
