//! Typed cells and the cell-safety rules every exporter applies (SPEC Q2).
//!
//! - A **text** cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is
//!   neutralised by a leading apostrophe `'`, so no spreadsheet reads it as a formula (OWASP's
//!   advice for CSV injection). Numbers are typed cells and are never altered: `-5` stays the
//!   number -5.
//! - Text longer than Excel's 32,767-character cell limit is cut, ending in [`TRUNCATION_MARKER`]
//!   so the reader sees that it was cut. The same limit applies to CSV, so both exports agree.
//!   Excel counts UTF-16 code units (an emoji is two), and so does the cut: a text of 32,767
//!   characters with an emoji in it is cut too, never refused by the workbook writer.

use chrono::{DateTime, Utc};
use std::borrow::Cow;

/// Excel's limit of characters in one cell (UTF-16 code units).
pub const MAX_CELL_CHARS: usize = 32_767;

/// Ends a cell that was cut at [`MAX_CELL_CHARS`].
pub const TRUNCATION_MARKER: &str = "…[truncated]";

/// Excel's limit of rows in one sheet (header row included).
pub const MAX_SHEET_ROWS: usize = 1_048_576;

/// One cell of an exported row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// An exact decimal: `units` × 10^-`scale` (money in minor units has `scale` 2 for EUR).
    Decimal {
        units: i64,
        scale: u32,
    },
    Bool(bool),
    /// An instant, shown in the export's time zone.
    Time(DateTime<Utc>),
    /// A duration in whole seconds.
    Seconds(i64),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn opt_text(s: Option<impl Into<String>>) -> Cell {
        s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
    }

    pub fn opt_time(t: Option<DateTime<Utc>>) -> Cell {
        t.map_or(Cell::Empty, Cell::Time)
    }
}

/// Whether a text would be read as a formula (or a command) by a spreadsheet.
pub fn is_dangerous(text: &str) -> bool {
    matches!(
        text.chars().next(),
        Some('=') | Some('+') | Some('-') | Some('@') | Some('\t') | Some('\r')
    )
}

/// The text as it may be written into a cell: neutralised when dangerous, cut when too long.
pub fn safe_text(text: &str) -> Cow<'_, str> {
    let dangerous = is_dangerous(text);
    let budget = MAX_CELL_CHARS - usize::from(dangerous);
    // A UTF-16 count is never above the UTF-8 length: most cells need no counting.
    let too_long = text.len() > budget && text.encode_utf16().count() > budget;
    if !dangerous && !too_long {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(MAX_CELL_CHARS * 4) + 1);
    if dangerous {
        out.push('\'');
    }
    if too_long {
        let mut room = budget - TRUNCATION_MARKER.encode_utf16().count();
        for c in text.chars() {
            if c.len_utf16() > room {
                break;
            }
            room -= c.len_utf16();
            out.push(c);
        }
        out.push_str(TRUNCATION_MARKER);
    } else {
        out.push_str(text);
    }
    Cow::Owned(out)
}

/// An exact decimal as text (`-1234`, scale 2 → `-12.34`), without floating point.
pub fn decimal_text(units: i64, scale: u32) -> String {
    if scale == 0 {
        return units.to_string();
    }
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    let div = 10u64.pow(scale);
    format!(
        "{sign}{}.{:0width$}",
        abs / div,
        abs % div,
        width = scale as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_starts_are_neutralised() {
        for bad in ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx"] {
            let safe = safe_text(bad);
            assert_eq!(safe, format!("'{bad}"));
            assert!(!is_dangerous(&safe));
        }
        assert_eq!(safe_text("Zoë"), "Zoë");
        assert_eq!(safe_text(""), "");
        assert_eq!(safe_text("a=b"), "a=b");
    }

    #[test]
    fn long_text_is_cut_with_a_marker_to_the_limit() {
        let long = "é".repeat(MAX_CELL_CHARS + 10);
        let safe = safe_text(&long);
        assert_eq!(safe.chars().count(), MAX_CELL_CHARS);
        assert!(safe.ends_with(TRUNCATION_MARKER));
        let exact = "x".repeat(MAX_CELL_CHARS);
        assert_eq!(safe_text(&exact), exact);
        let long_bad = format!("={}", "x".repeat(MAX_CELL_CHARS));
        let safe = safe_text(&long_bad);
        assert_eq!(safe.chars().count(), MAX_CELL_CHARS);
        assert!(safe.starts_with("'="));
        // Excel counts UTF-16 units: emoji count twice, a pair is never split.
        let emoji = "😀".repeat(MAX_CELL_CHARS / 2 + 1);
        let safe = safe_text(&emoji);
        assert_eq!(safe.encode_utf16().count(), MAX_CELL_CHARS - 1);
        assert!(safe.ends_with(TRUNCATION_MARKER));
        let fits = format!("{}x", "😀".repeat(MAX_CELL_CHARS / 2));
        assert_eq!(safe_text(&fits), fits);
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal_text(-1234, 2), "-12.34");
        assert_eq!(decimal_text(5, 2), "0.05");
        assert_eq!(decimal_text(-5, 2), "-0.05");
        assert_eq!(decimal_text(i64::MIN, 2), "-92233720368547758.08");
        assert_eq!(decimal_text(7, 0), "7");
    }
}
