//! Safe exports (SPEC Q2), as a seeded property test: random rows of text and numbers go
//! through the CSV exporter (`to_csv`) and the XLSX exporter (`XlsxReport`, with a small row
//! limit per sheet) and are read back. No text cell may begin with `=`, `+`, `-`, `@`, a tab or a
//! carriage return; a text that did is the same text behind one apostrophe; every other text
//! comes back unchanged; numbers come back unchanged and as numbers; a text past Excel's
//! 32,767 UTF-16 units is cut to the limit (one less when an emoji would straddle it) ending in
//! the marker — never refused by the workbook writer; a sheet past its row limit
//! continues, in order and with its header, on `Data (2)`, `Data (3)`, ...

#![allow(clippy::unwrap_used)]

use crate::org_reports_xlsx::{read_workbook, ReadCell};
use domain::export::cells::{Cell, MAX_CELL_CHARS, TRUNCATION_MARKER};
use domain::export::csv::to_csv;
use domain::export::xlsx::{FieldDescription, XlsxOptions, XlsxReport};

/// A tiny seeded generator (xorshift64*), so a failure replays with its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Characters a text is made of: the dangerous leaders, CSV's own delimiters and quotes, an
/// apostrophe, accents, an emoji, spaces and line breaks.
const ALPHABET: &[char] = &[
    '=', '+', '-', '@', '\t', '\r', '\n', '"', ',', ';', '\'', ' ', 'a', 'Z', '0', '9', 'é', 'ß',
    '😀', '(', ')', '|', '!', '.', '<', '>', '&',
];

fn text(rng: &mut Rng) -> String {
    let len = match rng.below(40) {
        0 => MAX_CELL_CHARS as u64 - 3 + rng.below(8), // around the cell limit
        1 => MAX_CELL_CHARS as u64 + rng.below(5_000), // well past it
        _ => rng.below(24),
    };
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize])
        .collect()
}

/// Whole numbers up to ±10^15 (exact in a double, the only numbers a spreadsheet holds).
fn int(rng: &mut Rng) -> i64 {
    let magnitude = 10i64.pow(rng.below(16) as u32);
    let n = (rng.next() % magnitude as u64) as i64;
    if rng.below(2) == 0 {
        -n
    } else {
        n
    }
}

static FIELDS: &[FieldDescription] = &[
    FieldDescription {
        name: "Text",
        meaning: "random text",
        unit: "",
    },
    FieldDescription {
        name: "Count",
        meaning: "a random whole number",
        unit: "",
    },
    FieldDescription {
        name: "=Amount",
        meaning: "a random decimal (a header that would be a formula)",
        unit: "EUR",
    },
    FieldDescription {
        name: "More text",
        meaning: "random text",
        unit: "",
    },
];

fn row(rng: &mut Rng) -> Vec<Cell> {
    vec![
        Cell::Text(text(rng)),
        Cell::Int(int(rng)),
        Cell::Decimal {
            units: int(rng),
            scale: 2,
        },
        Cell::Text(text(rng)),
    ]
}

fn dangerous_start(s: &str) -> bool {
    matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'))
}

/// What a text written into a cell must read back as, stated from the rule (not from the
/// exporter's own helper).
fn check_text(original: &str, got: &str, at: &str) {
    assert!(
        !dangerous_start(got),
        "{at}: unneutralised {:?}",
        &got[..got.len().min(20)]
    );
    let dangerous = dangerous_start(original);
    let body = if dangerous {
        got.strip_prefix('\'')
            .unwrap_or_else(|| panic!("{at}: no apostrophe before {:?}", &original[..1]))
    } else {
        got
    };
    // Excel's limit counts UTF-16 code units (an emoji is two).
    let units = |s: &str| s.encode_utf16().count();
    if units(original) + usize::from(dangerous) <= MAX_CELL_CHARS {
        assert_eq!(body, original, "{at}: text changed");
    } else {
        let cut = units(got);
        assert!(
            cut == MAX_CELL_CHARS || cut == MAX_CELL_CHARS - 1,
            "{at}: cut to {cut} units"
        );
        let kept = body.strip_suffix(TRUNCATION_MARKER).unwrap_or_else(|| {
            panic!("{at}: cut without the marker");
        });
        assert!(original.starts_with(kept), "{at}: cut text is not a prefix");
    }
}

/// Decodes the `_xHHHH_` escapes OOXML writes for control characters (`\r` is `_x000D_`);
/// the alphabet has no `_`, so every such sequence is an escape.
fn ooxml_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("_x") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let code = tail
            .get(2..6)
            .filter(|_| tail.get(6..7) == Some("_"))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// RFC 4180 records (quoted fields may hold commas, quotes and line breaks; CRLF ends a record).
fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                '"' if field.is_empty() => quoted = true,
                ',' => record.push(std::mem::take(&mut field)),
                '\r' if chars.peek() == Some(&'\n') => {
                    chars.next();
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                _ => field.push(c),
            }
        }
    }
    assert!(field.is_empty() && record.is_empty(), "CSV ends with CRLF");
    records
}

#[test]
fn random_text_and_numbers_through_csv_come_back_safe_and_unchanged() {
    let mut cases = 0;
    for seed in 1..=40u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let rows: Vec<Vec<Cell>> = (0..25).map(|_| row(&mut rng)).collect();
        let header: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        let bytes = to_csv(&header, &rows, chrono_tz::UTC, true);
        let records = parse_csv(&bytes);
        assert_eq!(records.len(), rows.len() + 1, "seed {seed}");
        assert_eq!(
            records[0][2], "'=Amount",
            "seed {seed}: a header is text too"
        );
        for (i, (cells, record)) in rows.iter().zip(&records[1..]).enumerate() {
            let at = format!("seed {seed} row {i}");
            assert_eq!(record.len(), 4, "{at}");
            for (c, (cell, got)) in cells.iter().zip(record).enumerate() {
                match cell {
                    Cell::Text(original) => check_text(original, got, &format!("{at} col {c}")),
                    Cell::Int(n) => assert_eq!(got.parse::<i64>().unwrap(), *n, "{at}"),
                    Cell::Decimal { units, .. } => {
                        let (whole, cents) = got.split_once('.').unwrap();
                        assert_eq!(cents.len(), 2, "{at}: {got}");
                        let sign = if got.starts_with('-') { -1 } else { 1 };
                        let back = whole.parse::<i64>().unwrap() * 100
                            + sign * cents.parse::<i64>().unwrap();
                        assert_eq!(back, *units, "{at}: {got}");
                    }
                    other => panic!("{other:?}"),
                }
                cases += 1;
            }
        }
    }
    eprintln!("safe CSV: {cases} cells checked");
}

#[test]
fn random_text_and_numbers_through_xlsx_come_back_safe_typed_and_split_across_sheets() {
    let mut cases = 0;
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
        let limit = 2 + rng.below(9) as usize; // rows per sheet, header included
        let n = rng.below(40) as usize;
        let rows: Vec<Vec<Cell>> = (0..n).map(|_| row(&mut rng)).collect();
        let dir = crate::support::TempDir::new("safe-exports-xlsx");
        let mut options = XlsxOptions::new(chrono_tz::UTC, dir.path());
        options.max_sheet_rows = limit;
        let mut report = XlsxReport::new(FIELDS, options).unwrap();
        for r in &rows {
            report.push_row(r).unwrap();
        }
        let mut out = std::io::Cursor::new(Vec::new());
        let summary = report.finish(&mut out).unwrap();
        let sheets = read_workbook(&out.into_inner());

        let per_sheet = limit - 1;
        let data_sheets = n.div_ceil(per_sheet).max(1);
        assert_eq!(summary.data_sheets, data_sheets, "seed {seed}");
        assert_eq!(summary.rows, n as u64, "seed {seed}");
        assert_eq!(
            sheets.len(),
            data_sheets + 1,
            "seed {seed}: data sheets and fields"
        );
        assert_eq!(sheets.last().unwrap().name, "Field descriptions");
        let mut read_rows = Vec::new();
        for (k, sheet) in sheets[..data_sheets].iter().enumerate() {
            let name = if k == 0 {
                "Data".to_string()
            } else {
                format!("Data ({})", k + 1)
            };
            assert_eq!(sheet.name, name, "seed {seed}");
            assert!(
                sheet.rows.len() <= limit,
                "seed {seed}: {name} past the limit"
            );
            assert_eq!(
                sheet.rows[0][2],
                ReadCell::Text("'=Amount".into()),
                "seed {seed}: {name} header"
            );
            read_rows.extend(sheet.rows[1..].iter().cloned());
        }
        assert_eq!(read_rows.len(), n, "seed {seed}: every row once");
        for (i, (cells, got)) in rows.iter().zip(&read_rows).enumerate() {
            let at = format!("seed {seed} row {i}");
            for (c, cell) in cells.iter().enumerate() {
                match (cell, &got[c]) {
                    (Cell::Text(original), ReadCell::Text(s)) => {
                        check_text(original, &ooxml_unescape(s), &format!("{at} col {c}"))
                    }
                    (Cell::Text(original), ReadCell::Empty) => {
                        assert!(original.is_empty(), "{at} col {c}: text lost")
                    }
                    (Cell::Int(n), ReadCell::Number(x)) => assert_eq!(*x, *n as f64, "{at}"),
                    (Cell::Decimal { units, .. }, ReadCell::Number(x)) => {
                        assert_eq!((x * 100.0).round() as i64, *units, "{at}")
                    }
                    (cell, got) => panic!("{at} col {c}: {cell:?} read back as {got:?}"),
                }
                cases += 1;
            }
        }
    }
    eprintln!("safe XLSX: {cases} cells checked");
}
