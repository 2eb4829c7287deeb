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

/// Writes `t` as chrono's `DateTime<Utc>` serializer does (RFC 3339, `Z`, the fraction in 3,
/// 6 or 9 digits as needed: `2026-11-21T10:00:00Z`, `2026-11-21T10:00:00.250Z`) into `buf`,
/// returning its length; `None` (chrono decides) for years outside 0–9999 and leap seconds.
fn write_utc(t: &DateTime<Utc>, buf: &mut [u8; 30]) -> Option<usize> {
    use chrono::{Datelike as _, Timelike as _};
    let year = t.year();
    let nano = t.nanosecond();
    if !(0..=9999).contains(&year) || nano >= 1_000_000_000 {
        return None;
    }
    let two = |b: &mut [u8; 30], at: usize, v: u32| {
        b[at] = b'0' + (v / 10) as u8;
        b[at + 1] = b'0' + (v % 10) as u8;
    };
    let y = year as u32;
    two(buf, 0, y / 100);
    two(buf, 2, y % 100);
    buf[4] = b'-';
    two(buf, 5, t.month());
    buf[7] = b'-';
    two(buf, 8, t.day());
    buf[10] = b'T';
    two(buf, 11, t.hour());
    buf[13] = b':';
    two(buf, 14, t.minute());
    buf[16] = b':';
    two(buf, 17, t.second());
    let mut at = 19;
    let (mut value, digits) = if nano == 0 {
        (0, 0)
    } else if nano.is_multiple_of(1_000_000) {
        (nano / 1_000_000, 3)
    } else if nano.is_multiple_of(1_000) {
        (nano / 1_000, 6)
    } else {
        (nano, 9)
    };
    if digits > 0 {
        buf[at] = b'.';
        for i in (0..digits).rev() {
            buf[at + 1 + i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        at += 1 + digits;
    }
    buf[at] = b'Z';
    Some(at + 1)
}

/// An instant serialized as chrono serializes it, without chrono's general formatter (its
/// `Display` through `collect_str` costs about 8% of the Feed tab's CPU under load).
pub struct Utc3339<'a>(pub &'a DateTime<Utc>);

impl serde::Serialize for Utc3339<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 30];
        match write_utc(self.0, &mut buf) {
            // Only ASCII digits and separators were written.
            Some(n) => s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default()),
            None => serde::Serialize::serialize(self.0, s),
        }
    }
}

/// `serialize_with` for a `DateTime<Utc>` field (the same text as chrono's serializer).
pub fn ser<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&Utc3339(t), s)
}

/// `serialize_with` for an `Option<DateTime<Utc>>` field (`null` for `None`).
pub fn ser_opt<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(&Utc3339(t)),
        None => s.serialize_none(),
    }
}

/// Converts instants to one IANA zone's local time, fast, for exports that convert every
/// instant of a million rows (SPEC Q4).
///
/// chrono-tz finds an instant's offset by a search through the zone's transitions (4% of a
/// CSV export's CPU, plus chrono's general formatter). Every zone in use changes its offset
/// only at whole quarter hours (UTC), so offsets are kept by UTC quarter hour: when the offset
/// at a quarter hour's first and at its last second agree, every instant inside has it (no
/// zone changes its offset twice in 15 minutes); when they differ (the quarter hour of a
/// transition, or a historical offset change off the quarter hour) each instant is looked up
/// on its own. A row's instants fall in a few different quarter hours (joined, left, segment
/// start and end), so [`SLOTS`] quarter hours are kept, each in the slot its number picks.
/// Equal to chrono-tz for every instant (unit test across zones and transitions).
#[derive(Debug, Clone)]
pub struct ZoneOffsets {
    zone: chrono_tz::Tz,
    /// Cached UTC quarter hours (seconds since the epoch / 900, [`NO_QUARTER`] when the slot
    /// is empty) and their offsets in seconds, the quarter hour q in slot q mod [`SLOTS`].
    cached: [(i64, i32); SLOTS],
}

/// A UTC quarter hour, in seconds.
const QUARTER: i64 = 900;

/// Quarter hours [`ZoneOffsets`] keeps (a power of two: 16 quarter hours are four hours).
const SLOTS: usize = 16;

/// An empty slot (no instant's quarter hour).
const NO_QUARTER: i64 = i64::MIN;

impl ZoneOffsets {
    pub fn new(zone: chrono_tz::Tz) -> Self {
        Self {
            zone,
            cached: [(NO_QUARTER, 0); SLOTS],
        }
    }

    /// The zone.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.zone
    }

    fn offset_at(&self, secs: i64) -> Option<i32> {
        use chrono::Offset as _;
        let t = DateTime::<Utc>::from_timestamp(secs, 0)?;
        Some(
            self.zone
                .offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc(),
        )
    }

    /// The zone's offset from UTC at `t`, in seconds (east positive).
    pub fn offset(&mut self, t: &DateTime<Utc>) -> i32 {
        use chrono::Offset as _;
        let secs = t.timestamp();
        let quarter = secs.div_euclid(QUARTER);
        let slot = quarter.rem_euclid(SLOTS as i64) as usize;
        let (q, offset) = self.cached[slot];
        if q == quarter {
            return offset;
        }
        let first = quarter * QUARTER;
        match (self.offset_at(first), self.offset_at(first + QUARTER - 1)) {
            (Some(a), Some(b)) if a == b => {
                self.cached[slot] = (quarter, a);
                a
            }
            _ => self
                .zone
                .offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc(),
        }
    }

    /// `t` as the zone's local date-time (what `t.with_timezone(&zone).naive_local()` gives).
    pub fn local(&mut self, t: &DateTime<Utc>) -> chrono::NaiveDateTime {
        let offset = self.offset(t);
        t.naive_utc() + chrono::Duration::seconds(i64::from(offset))
    }

    /// Appends `t` in the zone as RFC 3339 to the second with the zone's offset
    /// (`2026-03-29T03:30:00+02:00`: what chrono's
    /// `t.with_timezone(&zone).to_rfc3339_opts(SecondsFormat::Secs, false)` writes).
    pub fn push_rfc3339(&mut self, out: &mut String, t: &DateTime<Utc>) {
        use chrono::{Datelike as _, Timelike as _};
        let offset = self.offset(t);
        let local = t.naive_utc() + chrono::Duration::seconds(i64::from(offset));
        let year = local.year();
        if !(0..=9999).contains(&year) || offset % 60 != 0 {
            // Outside four-digit years or with an offset in seconds (local mean time before
            // 1900), chrono's own formatter decides.
            out.push_str(
                &t.with_timezone(&self.zone)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            );
            return;
        }
        let mut b = [0u8; 25];
        let two = |b: &mut [u8], at: usize, v: u32| {
            b[at] = b'0' + (v / 10) as u8;
            b[at + 1] = b'0' + (v % 10) as u8;
        };
        let y = year as u32;
        two(&mut b, 0, y / 100);
        two(&mut b, 2, y % 100);
        b[4] = b'-';
        two(&mut b, 5, local.month());
        b[7] = b'-';
        two(&mut b, 8, local.day());
        b[10] = b'T';
        two(&mut b, 11, local.hour());
        b[13] = b':';
        two(&mut b, 14, local.minute());
        b[16] = b':';
        two(&mut b, 17, local.second());
        b[19] = if offset < 0 { b'-' } else { b'+' };
        let minutes = offset.unsigned_abs() / 60;
        two(&mut b, 20, minutes / 60);
        b[22] = b':';
        two(&mut b, 23, minutes % 60);
        // Only ASCII digits and separators were written.
        out.push_str(std::str::from_utf8(&b).unwrap_or_default());
    }
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
    /// The cached offsets, local times and RFC 3339 text equal chrono-tz's, instant by
    /// instant, through transitions of zones east and west, with :30 and :45 offsets.
    #[test]
    fn zone_offsets_agree_with_chrono_tz() {
        use chrono::SecondsFormat;
        use chrono_tz::Tz;
        let zones = [
            Tz::UTC,
            Tz::Europe__Paris,
            Tz::Europe__London,
            Tz::America__New_York,
            Tz::America__St_Johns,
            Tz::Australia__Sydney,
            Tz::Australia__Lord_Howe,
            Tz::Asia__Kolkata,
            Tz::Asia__Kathmandu,
            Tz::Pacific__Chatham,
            Tz::Africa__Casablanca,
        ];
        let start = Utc
            .with_ymd_and_hms(2025, 12, 30, 22, 59, 58)
            .single()
            .expect("test value");
        // Steps that land on every second of a transition's quarter hour and walk a year
        // (one and a half days per step from the second loop).
        let same_as_chrono_tz = |offsets: &mut ZoneOffsets, t: &DateTime<Utc>| {
            let zone = offsets.zone();
            let want = t.with_timezone(&zone);
            assert_eq!(offsets.local(t), want.naive_local(), "{zone} {t}");
            let mut text = String::new();
            offsets.push_rfc3339(&mut text, t);
            assert_eq!(
                text,
                want.to_rfc3339_opts(SecondsFormat::Secs, false),
                "{zone} {t}"
            );
        };
        for zone in zones {
            let mut offsets = ZoneOffsets::new(zone);
            let mut t = start;
            for i in 0..40_000i64 {
                let step = if i % 2 == 0 { 1 } else { 1_319 };
                t += Duration::seconds(step);
                same_as_chrono_tz(&mut offsets, &t);
            }
            // Out of order and far apart: the cache never answers for another quarter hour.
            for (y, m, d, h, min, s) in [
                (2026, 3, 29, 0, 59, 59),
                (2026, 3, 29, 1, 0, 0),
                (1890, 1, 1, 0, 0, 0),
                (2026, 10, 4, 15, 59, 59),
                (2026, 10, 4, 16, 0, 0),
                (2026, 11, 1, 5, 59, 59),
                (2026, 11, 1, 6, 0, 1),
                (1970, 1, 1, 0, 0, 0),
                // Four hours apart (the same slot), on both sides of Europe's spring change.
                (2026, 3, 28, 21, 0, 0),
                (2026, 3, 29, 1, 0, 0),
                (2026, 3, 28, 21, 0, 0),
                (2026, 3, 29, 5, 0, 0),
            ] {
                let t = Utc
                    .with_ymd_and_hms(y, m, d, h, min, s)
                    .single()
                    .expect("test value")
                    + Duration::milliseconds(999);
                same_as_chrono_tz(&mut offsets, &t);
            }
        }
    }

    /// The fast serializer writes what chrono's writes, for every fraction length, the
    /// smallest and largest four-digit years, out-of-range years and a leap second; `None` is
    /// `null`.
    #[test]
    fn serializes_as_chrono_does() {
        #[derive(serde::Serialize)]
        struct Fast {
            #[serde(serialize_with = "ser")]
            at: DateTime<Utc>,
            #[serde(serialize_with = "ser_opt")]
            maybe: Option<DateTime<Utc>>,
            #[serde(serialize_with = "ser_opt")]
            none: Option<DateTime<Utc>>,
        }
        #[derive(serde::Serialize)]
        struct Chrono {
            at: DateTime<Utc>,
            maybe: Option<DateTime<Utc>>,
            none: Option<DateTime<Utc>>,
        }
        let base = Utc
            .with_ymd_and_hms(2026, 11, 21, 9, 5, 7)
            .single()
            .expect("test value");
        let mut instants = vec![
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0)
                .single()
                .expect("test value"),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
                .single()
                .expect("test value"),
            Utc.with_ymd_and_hms(-1, 6, 1, 0, 0, 0)
                .single()
                .expect("test value"),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0)
                .single()
                .expect("test value"),
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
                .expect("test value")
                .and_utc(),
        ];
        for nanos in [
            0,
            1,
            7,
            1_000,
            250_000,
            999_999,
            1_000_000,
            250_000_000,
            999_999_999,
        ] {
            instants.push(base + Duration::nanoseconds(nanos));
        }
        for at in instants {
            let fast = serde_json::to_string(&Fast {
                at,
                maybe: Some(at),
                none: None,
            })
            .expect("test value");
            let chrono = serde_json::to_string(&Chrono {
                at,
                maybe: Some(at),
                none: None,
            })
            .expect("test value");
            assert_eq!(fast, chrono);
        }
        assert_eq!(
            serde_json::to_string(&Utc3339(&(base + Duration::milliseconds(250))))
                .expect("test value"),
            "\"2026-11-21T09:05:07.250Z\""
        );
    }
}
