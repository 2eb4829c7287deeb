//! Exporters: typed rows out as CSV (admin tabs) and XLSX (organisation reports), both safe to
//! open (SPEC Q2). Every exporter writes [`cells::Cell`]s through [`cells::safe_text`].

pub mod cells;
pub mod csv;
pub mod xlsx;
