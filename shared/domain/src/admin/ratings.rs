//! A6 Ratings: every rating, newest first (patient, practitioner, stars, comment, date), each
//! with its practitioner's average and count; period on the rating's date, search `q` on the
//! practitioner's name. Query: `gsi1`, `gsi1pk = RATINGS`, backward; the average and count come
//! from the platform's rating totals, ONE item holding every practitioner's count and stars
//! (`RATING_TOTALS`, kept by ingest in each rating's transaction), read once per request: a
//! page of 50 reads its 51 Query items and that one (1.04 per row). A live average cannot be
//! copied into every rating without rewriting them all at each rating, and one profile per
//! practitioner of the page was ~47 reads more. The item's size limit: `docs/dynamodb.md`.

use super::params::ListParams;
use super::tab::{search_hits_named, Party, Reader, Tab};
use crate::export::cells::Cell;
use crate::ports::{LazyItem, Query, StoreError};
use crate::readmodels::{lists, Rating};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One rating row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RatingRow {
    pub rating_id: String,
    #[serde(serialize_with = "crate::time::ser")]
    pub submitted_at: DateTime<Utc>,
    pub patient: Party,
    pub practitioner: Party,
    pub stars: u8,
    pub comment: Option<String>,
    pub practitioner_rating_count: i64,
    /// Two decimal places, exact.
    pub practitioner_rating_average: Option<String>,
    #[serde(skip)]
    pub average_hundredths: Option<i64>,
}

/// The Ratings tab.
#[derive(Debug, Clone, Default)]
pub struct RatingsTab;

#[async_trait]
impl Tab for RatingsTab {
    type Row = RatingRow;

    fn name(&self) -> &'static str {
        "ratings"
    }

    fn columns(&self) -> &'static [&'static str] {
        &[
            "rating_id",
            "submitted_at",
            "patient_id",
            "patient",
            "practitioner_id",
            "practitioner",
            "stars",
            "comment",
            "practitioner_rating_count",
            "practitioner_rating_average",
        ]
    }

    fn cells(&self, r: &RatingRow) -> Vec<Vec<Cell>> {
        vec![vec![
            Cell::text(&r.rating_id),
            Cell::Time(r.submitted_at),
            Cell::text(&r.patient.id),
            Cell::opt_text(r.patient.name.clone()),
            Cell::text(&r.practitioner.id),
            Cell::opt_text(r.practitioner.name.clone()),
            Cell::Int(i64::from(r.stars)),
            Cell::opt_text(r.comment.clone()),
            Cell::Int(r.practitioner_rating_count),
            r.average_hundredths
                .map_or(Cell::Empty, |units| Cell::Decimal { units, scale: 2 }),
        ]]
    }

    fn query(&self, params: &ListParams) -> Query {
        super::tab::newest_first(lists::RATINGS, params)
    }

    async fn row(
        &self,
        reader: &mut Reader<'_>,
        params: &ListParams,
        item: &LazyItem,
    ) -> Result<Option<RatingRow>, StoreError> {
        let r: Rating = item.decode()?;
        if !search_hits_named(params, &r.names, [&r.practitioner_id]) {
            return Ok(None);
        }
        let stats = reader.rating_stats(&r.practitioner_id).await?;
        Ok(Some(RatingRow {
            patient: Party::named(&r.names, &r.patient_id),
            practitioner: Party::named(&r.names, &r.practitioner_id),
            rating_id: r.rating_id,
            submitted_at: r.submitted_at,
            stars: r.stars,
            comment: r.comment,
            practitioner_rating_count: stats.count,
            practitioner_rating_average: stats.average_text(),
            average_hundredths: stats.average_hundredths(),
        }))
    }
}
