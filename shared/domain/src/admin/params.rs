//! The list parameters every admin tab takes, parsed once at the edge (SPEC A1–A9, Q1).
//!
//! | parameter | meaning | limit |
//! |---|---|---|
//! | `from`, `to` | local dates `YYYY-MM-DD`, both inclusive, in `tz` | `to` ≥ `from`, at most [`MAX_PERIOD_DAYS`] days |
//! | `tz` | IANA time zone of the dates and of exported times | default `UTC` |
//! | `q` | search text: every word of it begins a word of the name, case- and accent-insensitively ([`name_matches`]) | at most [`MAX_Q_CHARS`] characters |
//! | `limit` | rows per page | 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`] |
//! | `cursor` | the `next_cursor` of the previous page, opaque | |
//! | `bom` | CSV exports: `false` drops the byte-order mark | default `true` |
//!
//! A period becomes UTC bounds `[start of from, start of the day after to)` in the zone, so a
//! day of 23 or 25 hours (a DST change) is exactly that day. A parameter a tab does not know is
//! refused, so a misspelt filter never silently returns everything. Errors name the parameter
//! and never repeat the submitted value.

use crate::error::Error;
use crate::ports::Cursor;
use crate::readmodels::search::{name_matches, search_words, WordSearch, MAX_NAME_WORDS};
use crate::readmodels::{fold_name, sort_time};
use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Largest page.
pub const MAX_LIMIT: usize = 200;
/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 50;
/// Longest period (two leap years and a day: any two calendar years).
pub const MAX_PERIOD_DAYS: i64 = 732;
/// Longest search text.
pub const MAX_Q_CHARS: usize = 100;

/// The parameters every tab shares.
pub const COMMON_PARAMS: &[&str] = &["from", "to", "tz", "q", "limit", "cursor", "bom"];

/// A period as UTC bounds: `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Period {
    /// Whether `t` falls in the period.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// The sort-key bounds of the period for keys `<sort time>#<id>`: a key at `start` sorts
    /// after `sort_time(start)`, a key at `end` after `sort_time(end)`, so `Between` these two
    /// strings is exactly `[start, end)`.
    pub fn sk_bounds(&self) -> (String, String) {
        (sort_time(self.start), sort_time(self.end))
    }
}

/// Parsed list parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    pub period: Option<Period>,
    pub tz: Tz,
    /// The search text, folded; `None` when absent or blank.
    pub q: Option<String>,
    pub limit: usize,
    pub cursor: Option<Cursor>,
    pub bom: bool,
    /// Further parameters the tab declared, raw (each tab parses its own).
    pub extra: Vec<(String, String)>,
}

impl Default for ListParams {
    fn default() -> Self {
        Self {
            period: None,
            tz: Tz::UTC,
            q: None,
            limit: DEFAULT_LIMIT,
            cursor: None,
            bom: true,
            extra: Vec::new(),
        }
    }
}

impl ListParams {
    /// Parses the query's name–value pairs (see the module table); `extra` names the tab's
    /// own parameters.
    pub fn parse_pairs(pairs: &[(String, String)], extra: &[&str]) -> Result<ListParams, Error> {
        let mut seen: Vec<&str> = Vec::new();
        for (k, _) in pairs {
            let known = COMMON_PARAMS.contains(&k.as_str()) || extra.contains(&k.as_str());
            if !known {
                return Err(Error::invalid(
                    "query",
                    "holds a parameter this list does not take",
                ));
            }
            // Tab parameters may repeat (several tags); common ones may not.
            if COMMON_PARAMS.contains(&k.as_str()) && seen.contains(&k.as_str()) {
                return Err(Error::invalid(k, "must be given at most once"));
            }
            seen.push(k);
        }
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let mut p = ListParams::default();
        if let Some(tz) = get("tz") {
            p.tz = tz.parse::<Tz>().map_err(|_| {
                Error::invalid("tz", "must be an IANA time zone such as Europe/Paris")
            })?;
        }
        let date = |name: &str| -> Result<Option<NaiveDate>, Error> {
            get(name)
                .map(|d| {
                    NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .map_err(|_| Error::invalid(name, "must be a date YYYY-MM-DD"))
                })
                .transpose()
        };
        match (date("from")?, date("to")?) {
            (None, None) => {}
            (Some(_), None) => return Err(Error::invalid("to", "is required with from")),
            (None, Some(_)) => return Err(Error::invalid("from", "is required with to")),
            (Some(from), Some(to)) => {
                if to < from {
                    return Err(Error::invalid("to", "must not be before from"));
                }
                if (to - from).num_days() + 1 > MAX_PERIOD_DAYS {
                    return Err(Error::invalid(
                        "to",
                        format!("the period may span at most {MAX_PERIOD_DAYS} days"),
                    ));
                }
                let end_day = to
                    .checked_add_days(Days::new(1))
                    .ok_or_else(|| Error::invalid("to", "is out of range"))?;
                p.period = Some(Period {
                    start: local_midnight(p.tz, from)
                        .ok_or_else(|| Error::invalid("from", "is out of range"))?,
                    end: local_midnight(p.tz, end_day)
                        .ok_or_else(|| Error::invalid("to", "is out of range"))?,
                });
            }
        }
        if let Some(q) = get("q") {
            if q.chars().count() > MAX_Q_CHARS {
                return Err(Error::invalid(
                    "q",
                    format!("must be at most {MAX_Q_CHARS} characters"),
                ));
            }
            if q.chars().any(char::is_control) {
                return Err(Error::invalid("q", "must not hold control characters"));
            }
            let folded = fold_name(q.trim());
            p.q = (!folded.is_empty()).then_some(folded);
        }
        if let Some(limit) = get("limit") {
            p.limit = limit
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    Error::invalid(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?;
        }
        if let Some(c) = get("cursor") {
            p.cursor = Some(
                Cursor::decode(c)
                    .map_err(|_| Error::invalid("cursor", "not a cursor of this list"))?,
            );
        }
        if let Some(b) = get("bom") {
            p.bom = match b {
                "true" => true,
                "false" => false,
                _ => return Err(Error::invalid("bom", "must be true or false")),
            };
        }
        p.extra = pairs
            .iter()
            .filter(|(k, _)| extra.contains(&k.as_str()))
            .cloned()
            .collect();
        Ok(p)
    }

    /// The values of one of the tab's own parameters, in order.
    pub fn extra_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.extra
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a name matches the search (`true` without a search): every word of the search
    /// begins a word of the name, case and accents ignored (A12).
    pub fn matches(&self, name: Option<&str>) -> bool {
        match &self.q {
            None => true,
            Some(q) => name_matches(&search_words(q, MAX_NAME_WORDS), name),
        }
    }

    /// The search as a practitioners' word-index search (`None` without a search, or when the
    /// text holds no word).
    pub fn people_search(&self) -> Option<WordSearch> {
        WordSearch::new(self.q.as_deref(), None)
    }
}

/// The first instant of a local date in `tz`. Where midnight does not exist (a DST gap at
/// 00:00, as in some American zones), the day starts at the first local time that does.
pub fn local_midnight(tz: Tz, day: NaiveDate) -> Option<DateTime<Utc>> {
    let mut local = day.and_time(NaiveTime::MIN);
    for _ in 0..=48 {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return Some(t.with_timezone(&Utc));
        }
        local += chrono::Duration::minutes(30);
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn field(r: Result<ListParams, Error>) -> String {
        r.unwrap_err().field().unwrap().to_string()
    }

    #[test]
    fn a_period_follows_the_zone_across_dst() {
        // 2026-03-29 is 23 hours long in Paris (clocks go 02:00 -> 03:00).
        let p = ListParams::parse_pairs(
            &pairs(&[
                ("from", "2026-03-29"),
                ("to", "2026-03-29"),
                ("tz", "Europe/Paris"),
            ]),
            &[],
        )
        .unwrap();
        let period = p.period.unwrap();
        assert_eq!(period.start.to_rfc3339(), "2026-03-28T23:00:00+00:00");
        assert_eq!(period.end.to_rfc3339(), "2026-03-29T22:00:00+00:00");
        // 2026-10-25 is 25 hours long.
        let p = ListParams::parse_pairs(
            &pairs(&[
                ("from", "2026-10-25"),
                ("to", "2026-10-25"),
                ("tz", "Europe/Paris"),
            ]),
            &[],
        )
        .unwrap();
        let period = p.period.unwrap();
        assert_eq!((period.end - period.start).num_hours(), 25);
        assert!(period.contains(period.start));
        assert!(!period.contains(period.end));
    }

    #[test]
    fn midnight_in_a_gap_starts_the_day_at_the_first_real_time() {
        // Havana springs forward at 00:00 (2026-03-08): the day starts at 01:00 local (-04:00).
        let t = local_midnight(
            Tz::America__Havana,
            NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(),
        );
        assert_eq!(t.unwrap().to_rfc3339(), "2026-03-08T05:00:00+00:00");
    }

    #[test]
    fn sort_key_bounds_are_exactly_the_period() {
        let p = Period {
            start: "2026-03-01T00:00:00Z".parse().unwrap(),
            end: "2026-03-02T00:00:00Z".parse().unwrap(),
        };
        let (a, b) = p.sk_bounds();
        let key = |t: &str| format!("{}#x", sort_time(t.parse().unwrap()));
        assert!(key("2026-03-01T00:00:00Z") >= a);
        assert!(key("2026-02-28T23:59:59.999Z") < a);
        assert!(key("2026-03-01T23:59:59.999Z") <= b);
        assert!(key("2026-03-02T00:00:00Z") > b);
    }

    #[test]
    fn defaults_and_search_folding() {
        let p = ListParams::parse_pairs(&pairs(&[("q", "  MÜLLER ")]), &[]).unwrap();
        assert_eq!(p.q.as_deref(), Some("muller"));
        assert_eq!(p.limit, DEFAULT_LIMIT);
        assert!(p.bom);
        assert_eq!(p.tz, Tz::UTC);
        assert!(p.matches(Some("Ángela Müller")));
        assert!(!p.matches(Some("Ángela Muler")));
        assert!(!p.matches(None));
        let p = ListParams::parse_pairs(&pairs(&[("q", "ang MUL")]), &[]).unwrap();
        assert!(p.matches(Some("Dr. Ángela Müller")));
        let p = ListParams::parse_pairs(&pairs(&[("q", "ller")]), &[]).unwrap();
        assert!(!p.matches(Some("Ángela Müller")));
        let p = ListParams::parse_pairs(&pairs(&[("q", "  ")]), &[]).unwrap();
        assert_eq!(p.q, None);
    }

    #[test]
    fn bad_parameters_name_their_field() {
        let bad = |list: &[(&str, &str)]| field(ListParams::parse_pairs(&pairs(list), &["tag"]));
        assert_eq!(bad(&[("tz", "Mars/Olympus")]), "tz");
        assert_eq!(bad(&[("from", "2026-13-01"), ("to", "2026-12-01")]), "from");
        assert_eq!(bad(&[("from", "2026-03-02"), ("to", "2026-03-01")]), "to");
        assert_eq!(bad(&[("from", "2026-03-02")]), "to");
        assert_eq!(bad(&[("to", "2026-03-02")]), "from");
        assert_eq!(bad(&[("from", "2020-01-01"), ("to", "2026-01-01")]), "to");
        assert_eq!(bad(&[("limit", "0")]), "limit");
        assert_eq!(bad(&[("limit", "201")]), "limit");
        assert_eq!(bad(&[("limit", "ten")]), "limit");
        assert_eq!(bad(&[("cursor", "%%%")]), "cursor");
        assert_eq!(bad(&[("bom", "no")]), "bom");
        assert_eq!(bad(&[("q", &"x".repeat(101))]), "q");
        assert_eq!(bad(&[("colour", "red")]), "query");
        assert_eq!(bad(&[("limit", "5"), ("limit", "6")]), "limit");
        // The submitted value is never echoed.
        let p = ListParams::parse_pairs(&pairs(&[("tz", "Secret/Value")]), &[]).unwrap_err();
        assert!(!format!("{p} {p:?}").contains("Secret"));
        let ok = ListParams::parse_pairs(&pairs(&[("tag", "a"), ("tag", "b")]), &["tag"]).unwrap();
        assert_eq!(ok.extra_values("tag").collect::<Vec<_>>(), vec!["a", "b"]);
    }
}
