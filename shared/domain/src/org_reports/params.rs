//! Report parameters (SPEC C1, C2): a range of local dates (inclusive) in an IANA zone, and a
//! minimum consultation duration; missing values take the organisation's configuration. The
//! range turns into UTC bounds at the edge, DST-correct: from the first instant of the first
//! day to the first instant of the day after the last (a local day may be 23 or 25 hours).

use super::config::{parse_zone, ReportConfig, MAX_MIN_DURATION_SECONDS};
use crate::error::Error;
use chrono::{DateTime, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Longest range of any request (emailed reports included), in calendar months.
pub const MAX_RANGE_MONTHS: u32 = 24;
/// Longest range served interactively (tiles, download), in calendar months (C2).
pub const INTERACTIVE_RANGE_MONTHS: u32 = 2;

/// Parameters as a request gives them (every field optional but the dates).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsInput {
    /// First local date, `YYYY-MM-DD`.
    #[serde(default)]
    pub from: Option<String>,
    /// Last local date (inclusive), `YYYY-MM-DD`.
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub min_duration_seconds: Option<u32>,
}

/// Resolved, valid parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportParams {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub zone: Tz,
    pub min_duration_seconds: u32,
}

/// Parameters as recorded in history and audit records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamsRecord {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: String,
    pub min_duration_seconds: u32,
}

fn parse_date(field: &str, text: Option<&str>) -> Result<NaiveDate, Error> {
    let text = text.ok_or_else(|| Error::invalid(field, "is required"))?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| Error::invalid(field, "must be a date YYYY-MM-DD"))
}

/// The first instant of a local day (the first valid local time when midnight falls in a gap).
pub fn day_start(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    local_instant(zone, day, chrono::NaiveTime::MIN)
}

/// The instant of a local time on a local day: the first of the two in a repeated hour, the
/// first valid local time after it when it falls in a gap.
pub fn local_instant(zone: Tz, day: NaiveDate, time: chrono::NaiveTime) -> DateTime<Utc> {
    let mut t = day.and_time(time);
    // A DST gap never lasts a whole day; step by 15 minutes until the local time exists.
    for _ in 0..(4 * 24) {
        if let Some(at) = zone.from_local_datetime(&t).earliest() {
            return at.with_timezone(&Utc);
        }
        t += chrono::Duration::minutes(15);
    }
    Utc.from_utc_datetime(&day.and_time(time))
}

impl ReportParams {
    /// Resolves a request's parameters against the organisation's configuration.
    pub fn resolve(input: &ParamsInput, config: &ReportConfig) -> Result<Self, Error> {
        let from = parse_date("from", input.from.as_deref())?;
        let to = parse_date("to", input.to.as_deref())?;
        if to < from {
            return Err(Error::invalid("to", "must not be before from"));
        }
        let limit = from
            .checked_add_months(Months::new(MAX_RANGE_MONTHS))
            .ok_or_else(|| Error::invalid("from", "is out of range"))?;
        if to >= limit {
            return Err(Error::invalid(
                "to",
                format!("the range may span at most {MAX_RANGE_MONTHS} calendar months"),
            ));
        }
        let zone = match &input.time_zone {
            Some(name) => parse_zone("time_zone", name)?,
            None => parse_zone("time_zone", &config.time_zone)?,
        };
        let min_duration_seconds = input
            .min_duration_seconds
            .unwrap_or(config.min_duration_seconds);
        if min_duration_seconds > MAX_MIN_DURATION_SECONDS {
            return Err(Error::invalid(
                "min_duration_seconds",
                format!("must be at most {MAX_MIN_DURATION_SECONDS}"),
            ));
        }
        Ok(Self {
            from,
            to,
            zone,
            min_duration_seconds,
        })
    }

    /// The first instant of the range (inclusive).
    pub fn start_utc(&self) -> DateTime<Utc> {
        day_start(self.zone, self.from)
    }

    /// The first instant after the range (exclusive).
    pub fn end_utc(&self) -> DateTime<Utc> {
        let next = self.to.checked_add_days(Days::new(1)).unwrap_or(self.to);
        day_start(self.zone, next)
    }

    /// Whether the range is at most [`INTERACTIVE_RANGE_MONTHS`] calendar months (the last
    /// day falls before the same day two months after the first).
    pub fn is_interactive(&self) -> bool {
        self.from
            .checked_add_months(Months::new(INTERACTIVE_RANGE_MONTHS))
            .is_some_and(|limit| self.to < limit)
    }

    /// Refuses a download of a longer range, clearly (C2: email only).
    pub fn require_interactive(&self) -> Result<(), Error> {
        if self.is_interactive() {
            return Ok(());
        }
        Err(Error::Refused {
            kind: "range-email-only",
            title: "Range too long to download",
            detail: format!(
                "ranges over {INTERACTIVE_RANGE_MONTHS} calendar months are only emailed; \
                 request the report by email or shorten the range"
            ),
            field: Some("to"),
            reason: Some(format!(
                "at most {INTERACTIVE_RANGE_MONTHS} calendar months for a download"
            )),
        })
    }

    /// The parameters as recorded.
    pub fn record(&self) -> ParamsRecord {
        ParamsRecord {
            from: self.from,
            to: self.to,
            time_zone: self.zone.name().to_string(),
            min_duration_seconds: self.min_duration_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(from: &str, to: &str, zone: Option<&str>) -> ParamsInput {
        ParamsInput {
            from: Some(from.into()),
            to: Some(to.into()),
            time_zone: zone.map(str::to_string),
            min_duration_seconds: None,
        }
    }

    #[test]
    fn local_days_become_dst_correct_utc_bounds() {
        let mut config = ReportConfig::defaults("org-1");
        config.time_zone = "Australia/Sydney".into();
        config.min_duration_seconds = 60;
        // Sydney leaves daylight time on 5 April 2026: that day has 25 hours.
        let p = ReportParams::resolve(&input("2026-04-05", "2026-04-05", None), &config)
            .expect("valid");
        assert_eq!(p.min_duration_seconds, 60);
        assert_eq!(p.start_utc().to_rfc3339(), "2026-04-04T13:00:00+00:00");
        assert_eq!(p.end_utc().to_rfc3339(), "2026-04-05T14:00:00+00:00");
        // Europe/Berlin springs forward on 29 March 2026: 23 hours.
        let p = ReportParams::resolve(
            &input("2026-03-29", "2026-03-29", Some("Europe/Berlin")),
            &config,
        )
        .expect("valid");
        assert_eq!((p.end_utc() - p.start_utc()).num_hours(), 23);
    }

    #[test]
    fn a_day_whose_midnight_does_not_exist_starts_at_its_first_valid_instant() {
        // Santiago springs forward at midnight on 6 September 2026: the day starts at 01:00 -03.
        let zone: Tz = "America/Santiago".parse().expect("zone");
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).expect("date");
        assert_eq!(
            day_start(zone, day).to_rfc3339(),
            "2026-09-06T04:00:00+00:00"
        );
    }

    #[test]
    fn two_calendar_months_are_interactive_and_longer_is_email_only() {
        let config = ReportConfig::defaults("org-1");
        let ok = ReportParams::resolve(&input("2026-01-31", "2026-03-30", None), &config)
            .expect("valid");
        assert!(ok.is_interactive());
        let long = ReportParams::resolve(&input("2026-01-15", "2026-03-15", None), &config)
            .expect("valid");
        assert!(!long.is_interactive());
        assert!(matches!(
            long.require_interactive(),
            Err(Error::Refused {
                kind: "range-email-only",
                field: Some("to"),
                ..
            })
        ));
    }

    #[test]
    fn bad_parameters_name_their_field() {
        let config = ReportConfig::defaults("org-1");
        let field = |i: ParamsInput| {
            ReportParams::resolve(&i, &config)
                .expect_err("invalid")
                .field()
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(field(input("2026-13-01", "2026-01-02", None)), "from");
        assert_eq!(field(input("2026-02-01", "2026-01-02", None)), "to");
        assert_eq!(field(input("2026-01-01", "2028-01-02", None)), "to");
        assert_eq!(
            field(input("2026-01-01", "2026-01-02", Some("Mars/Base"))),
            "time_zone"
        );
        assert_eq!(field(ParamsInput::default()), "from");
    }
}
