//! Reading the instants the read models store, fast.
//!
//! Every read model keeps its instants as RFC 3339 UTC text, written by chrono
//! (`2026-11-21T10:00:00Z`, `2026-11-21T10:00:00.250Z`). chrono reads them back through its
//! general format parser, which was the largest single cost of serving an admin page
//! (`infra/profile.sh`-style `perf` on the local server under `wrk`: about 16% of the Feed
//! tab's CPU). [`parse_utc`] reads that one layout directly and hands anything else (another
//! offset, a space instead of `T`, a leap second, more than nine fraction digits) to chrono,
//! so it accepts exactly what chrono's `DateTime<Utc>` deserializer accepts, with the same
//! result (a unit test compares the two).
//!
//! The read-model fields opt in with `#[serde(deserialize_with = "crate::time::de")]` (or
//! `de_opt` for `Option`); they are still written by chrono's serializer.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// Reads an RFC 3339 instant as chrono's `DateTime<Utc>` deserializer does.
pub fn parse_utc(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match fast(text.as_bytes()) {
        Some(t) => Ok(t),
        None => text.parse(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, or `None` for anything else.
fn fast(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let digit = |i: usize| -> Option<u32> {
        let d = b[i].wrapping_sub(b'0');
        (d < 10).then_some(u32::from(d))
    };
    let two = |i: usize| -> Option<u32> { Some(digit(i)? * 10 + digit(i + 1)?) };
    let year = two(0)? * 100 + two(2)?;
    let (month, day) = (two(5)?, two(8)?);
    let (hour, minute, second) = (two(11)?, two(14)?, two(17)?);
    let mut at = 19;
    let mut nanos = 0u32;
    if b[at] == b'.' {
        at += 1;
        let start = at;
        while let Some(d) = b.get(at).and_then(|_| digit(at)) {
            if at - start == 9 {
                return None;
            }
            nanos = nanos * 10 + d;
            at += 1;
        }
        let digits = at - start;
        if digits == 0 {
            return None;
        }
        nanos *= 10u32.pow((9 - digits) as u32);
    }
    if at + 1 != b.len() || b[at] != b'Z' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    Some(Utc.from_utc_datetime(&date.and_time(time)))
}

struct UtcVisitor;

impl Visitor<'_> for UtcVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 formatted date and time string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        parse_utc(value).map_err(E::custom)
    }
}

struct OptionVisitor;

impl<'de> Visitor<'de> for OptionVisitor {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 formatted date and time string or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(UtcVisitor).map(Some)
    }
}

/// `deserialize_with` for a `DateTime<Utc>` field.
pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(UtcVisitor)
}

/// `deserialize_with` for an `Option<DateTime<Utc>>` field (absent with `#[serde(default)]`).
pub fn de_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    d.deserialize_option(OptionVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, SecondsFormat};

    /// The fast path and chrono agree on every string, accepted or refused.
    fn same_as_chrono(text: &str) {
        let ours = parse_utc(text).ok();
        let chrono = text.parse::<DateTime<Utc>>().ok();
        assert_eq!(ours, chrono, "{text:?}");
    }

    #[test]
    fn agrees_with_chrono_on_what_chrono_writes() {
        let start = Utc
            .with_ymd_and_hms(1999, 12, 31, 23, 59, 58)
            .single()
            .expect("test value");
        let steps = [
            Duration::nanoseconds(1),
            Duration::microseconds(7),
            Duration::milliseconds(250),
            Duration::seconds(1),
            Duration::minutes(61),
            Duration::days(29),
        ];
        for step in steps {
            let mut t = start;
            for _ in 0..200 {
                for format in [
                    SecondsFormat::Secs,
                    SecondsFormat::Millis,
                    SecondsFormat::Micros,
                    SecondsFormat::Nanos,
                    SecondsFormat::AutoSi,
                ] {
                    let text = t.to_rfc3339_opts(format, true);
                    assert!(fast(text.as_bytes()).is_some(), "fast path: {text}");
                    same_as_chrono(&text);
                    let json = serde_json::to_string(&t).expect("test value");
                    let back: DateTime<Utc> =
                        de(&mut serde_json::Deserializer::from_str(&json)).expect("test value");
                    assert_eq!(back, t);
                }
                t += step;
            }
        }
    }

    #[test]
    fn agrees_with_chrono_off_the_fast_path() {
        for text in [
            "2026-11-21T10:00:00+00:00",
            "2026-11-21T10:00:00+05:30",
            "2026-11-21 10:00:00Z",
            "2026-11-21t10:00:00z",
            "2026-11-21T10:00:00.Z",
            "2026-11-21T10:00:00.1234567891Z",
            "2026-11-21T10:00:60Z",
            "2016-12-31T23:59:60Z",
            "2026-02-29T10:00:00Z",
            "2024-02-29T10:00:00Z",
            "2026-13-01T10:00:00Z",
            "2026-11-31T10:00:00Z",
            "2026-11-21T24:00:00Z",
            "2026-11-21T10:60:00Z",
            "2026-11-21T10:00:00",
            "2026-11-21T10:00:00ZZ",
            "2026-11-21T10:00:00Z ",
            "2026-1-21T10:00:00Z",
            "+2026-11-21T10:00:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2026-11-21T10:00:0aZ",
            "2026-11-21T10:00:00.12a4Z",
            "2026-11-21T10:00:00UTC",
            "",
            "2026",
        ] {
            same_as_chrono(text);
        }
    }

    #[test]
    fn options_read_null_absent_and_text() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct T {
            #[serde(default, deserialize_with = "de_opt")]
            at: Option<DateTime<Utc>>,
        }
        let at = Utc
            .with_ymd_and_hms(2026, 11, 21, 10, 0, 0)
            .single()
            .expect("test value");
        let read = |json: &str| serde_json::from_str::<T>(json);
        assert_eq!(read("{}").expect("test value"), T { at: None });
        assert_eq!(read(r#"{"at":null}"#).expect("test value"), T { at: None });
        assert_eq!(
            read(r#"{"at":"2026-11-21T10:00:00Z"}"#).expect("test value"),
            T { at: Some(at) }
        );
        let from_value: T =
            serde_json::from_value(serde_json::json!({"at": "2026-11-21T10:00:00Z"}))
                .expect("test value");
        assert_eq!(from_value, T { at: Some(at) });
        let err = read(r#"{"at":"yesterday"}"#)
            .expect_err("refused")
            .to_string();
        assert!(err.contains("input contains invalid characters"), "{err}");
        let err = read(r#"{"at":5}"#).expect_err("refused").to_string();
        assert!(
            err.contains("an RFC 3339 formatted date and time string"),
            "{err}"
        );
    }
}
