//! Ratings: a snapshot per rating, counted once towards its practitioner's ratings.

use super::effects::{counted, ik, merge, s, Effect};
use crate::events::catalogue::RatingSubmitted;
use crate::readmodels::{self as rm, keys, lists, sort_time};
use chrono::{DateTime, Utc};

/// `rating.submitted`: the rating (the newest version wins), counted towards its
/// practitioner.
pub(super) fn submitted(e: &RatingSubmitted, at: DateTime<Utc>) -> Vec<Effect> {
    let rating = rm::Rating {
        rating_id: s(&e.rating_id),
        patient_id: s(&e.patient_id),
        practitioner_id: s(&e.practitioner_id),
        stars: e.stars,
        comment: e.comment.as_ref().map(|c| c.as_str().to_string()),
        submitted_at: at,
        names: rm::Names::new(),
    };
    // A rating is a snapshot (an edit re-sends it: the newest wins) and counts once
    // towards its practitioner's count and stars, whichever version it is.
    vec![counted(
        merge(
            keys::rating(e.rating_id.as_str()),
            move |r: &mut Option<rm::Rating>| {
                if r.as_ref().is_none_or(|r| r.submitted_at <= at) {
                    let names = r.as_ref().map(|r| r.names.clone()).unwrap_or_default();
                    *r = Some(rm::Rating {
                        names,
                        ..rating.clone()
                    });
                }
            },
            |r: &Option<rm::Rating>| match r {
                Some(r) => {
                    let sk = format!("{}#{}", sort_time(r.submitted_at), r.rating_id);
                    (
                        ik(lists::RATINGS, sk.clone()),
                        ik(lists::practitioner_ratings(&r.practitioner_id), sk),
                    )
                }
                None => (None, None),
            },
        ),
        |r: &Option<rm::Rating>| match r {
            Some(r) => vec![
                (keys::practitioner_rating_count(&r.practitioner_id), 1),
                (
                    keys::practitioner_rating_stars(&r.practitioner_id),
                    i64::from(r.stars),
                ),
            ],
            None => Vec::new(),
        },
    )]
}
