//! Logins: one item per login (listed by organisation), and each account's last login.

use super::effects::{ik, merge, no_index, s, Effect};
use crate::events::catalogue::AccountLoggedIn;
use crate::events::types::Id;
use crate::ports::Key;
use crate::readmodels::{keys, lists, sort_time};
use chrono::{DateTime, Utc};

/// `account.logged_in`: the login item, and the account's last login (the newest wins).
pub(super) fn logged_in(e: &AccountLoggedIn, id: &Id, at: DateTime<Utc>) -> Vec<Effect> {
    let login_sk = format!("LOGIN#{}#{}", sort_time(at), id);
    let account = s(&e.account_id);
    let org = s(&e.org_id);
    let index_sk = format!("{}#{}#{}", sort_time(at), e.account_id, id);
    let logins = lists::org_logins(e.org_id.as_str());
    vec![
        merge(
            Key::new(format!("ACCOUNT#{}", e.account_id), login_sk),
            move |v: &mut serde_json::Value| {
                *v = serde_json::json!({ "account_id": account, "org_id": org, "at": at });
            },
            move |_| (ik(logins.clone(), index_sk.clone()), None),
        ),
        merge(
            keys::account_last_login(e.account_id.as_str()),
            move |v: &mut serde_json::Value| {
                let prev = v
                    .get("at")
                    .and_then(|t| t.as_str())
                    .and_then(|t| t.parse::<DateTime<Utc>>().ok());
                if prev.is_none_or(|p| p < at) {
                    *v = serde_json::json!({ "at": at });
                }
            },
            no_index,
        ),
    ]
}
