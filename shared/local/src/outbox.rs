//! The embedded [`Mailer`] adapter for the local run: every message is written as an
//! RFC 5322 `.eml` file into an outbox directory (open it with any mail client), and
//! [`read_outbox`] parses the directory back for tests.
//!
//! Messages are UTF-8; bodies are quoted-printable (readable in a text editor), the subject
//! is an RFC 2047 encoded word when it is not plain ASCII, and a message with an HTML part is
//! `multipart/alternative` (text first, HTML second). Files are written under a temporary
//! name and renamed, so a reader never sees half a message.

use async_trait::async_trait;
use base64::Engine;
use chrono::Utc;
use domain::ports::mailer::{Email, MailError, Mailer};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Domain of the generated Message-IDs.
const ID_DOMAIN: &str = "outbox.local";

/// Writes each message as an `.eml` file into a directory.
#[derive(Debug)]
pub struct OutboxMailer {
    dir: PathBuf,
    from: String,
    next_id: AtomicU64,
}

impl OutboxMailer {
    /// An outbox in `dir` (created on the first message), sending as `from`.
    pub fn new(dir: impl Into<PathBuf>, from: String) -> Self {
        Self {
            dir: dir.into(),
            from,
            next_id: AtomicU64::new(0),
        }
    }

    /// The outbox directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// A message read back from an outbox by [`read_outbox`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The `.eml` file.
    pub file: PathBuf,
    /// The Message-ID without its angle brackets (what [`Mailer::send`] returned).
    pub message_id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The Date header, as written (RFC 2822).
    pub date: String,
    pub text: String,
    pub html: Option<String>,
}

/// Whether `addr` looks like a single bare mailbox (`local@domain`) that is safe in a header.
fn plausible_address(addr: &str) -> bool {
    let Some((local, domain)) = addr.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && addr
            .chars()
            .all(|c| c.is_ascii_graphic() && !"<>()[],;:\\\"".contains(c))
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        if !plausible_address(&email.to) {
            return Err(MailError::Rejected(format!(
                "invalid recipient address: {:?}",
                email.to.chars().take(80).collect::<String>()
            )));
        }
        if !plausible_address(&self.from) {
            return Err(MailError::Rejected(format!(
                "invalid sender address: {:?}",
                self.from
            )));
        }
        let now = Utc::now();
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let unique = format!(
            "{}-{}-{n}",
            now.format("%Y%m%dT%H%M%S%.6fZ"),
            std::process::id()
        );
        let message_id = format!("{unique}@{ID_DOMAIN}");
        let text = render(email, &self.from, &message_id, &now.to_rfc2822(), &unique);
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| MailError::Unavailable(format!("cannot create the outbox: {e}")))?;
        let tmp = self.dir.join(format!(".{unique}.tmp"));
        let file = self.dir.join(format!("{unique}.eml"));
        tokio::fs::write(&tmp, text.as_bytes())
            .await
            .map_err(|e| MailError::Unavailable(format!("cannot write {}: {e}", tmp.display())))?;
        if let Err(e) = tokio::fs::rename(&tmp, &file).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(MailError::Unavailable(format!(
                "cannot write {}: {e}",
                file.display()
            )));
        }
        Ok(message_id)
    }
}

/// The whole message text (CRLF line ends).
fn render(email: &Email, from: &str, message_id: &str, date: &str, unique: &str) -> String {
    let mut out = String::with_capacity(email.text.len() * 2 + 512);
    out.push_str(&format!("From: {from}\r\n"));
    out.push_str(&format!("To: {}\r\n", email.to));
    out.push_str(&format!("Subject: {}\r\n", encode_header(&email.subject)));
    out.push_str(&format!("Date: {date}\r\n"));
    out.push_str(&format!("Message-ID: <{message_id}>\r\n"));
    out.push_str("MIME-Version: 1.0\r\n");
    let part = |out: &mut String, subtype: &str, body: &str| {
        out.push_str(&format!("Content-Type: text/{subtype}; charset=utf-8\r\n"));
        out.push_str("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        out.push_str(&qp_encode(body));
        out.push_str("\r\n");
    };
    match &email.html {
        None => part(&mut out, "plain", &email.text),
        Some(html) => {
            let boundary = format!("=_alt_{unique}");
            out.push_str(&format!(
                "Content-Type: multipart/alternative;\r\n boundary=\"{boundary}\"\r\n\r\n"
            ));
            out.push_str("This is a multi-part message in MIME format.\r\n");
            out.push_str(&format!("--{boundary}\r\n"));
            part(&mut out, "plain", &email.text);
            out.push_str(&format!("--{boundary}\r\n"));
            part(&mut out, "html", html);
            out.push_str(&format!("--{boundary}--\r\n"));
        }
    }
    out
}

/// A header value: as is when it is plain printable ASCII, else RFC 2047 `B` encoded words
/// (each at most 75 characters, folded onto continuation lines).
fn encode_header(value: &str) -> String {
    let plain = value.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
        && !value.contains("=?")
        && value.len() <= 900;
    if plain {
        return value.to_string();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || words.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// Quoted-printable encoding (RFC 2045 section 6.7) of a UTF-8 text, line ends made CRLF,
/// encoded lines at most 76 characters.
fn qp_encode(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(normalized.len() + normalized.len() / 8);
    for (i, line) in normalized.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let bytes = line.as_bytes();
        let mut width = 0;
        for (j, &b) in bytes.iter().enumerate() {
            let last = j + 1 == bytes.len();
            let literal =
                (b.is_ascii_graphic() && b != b'=') || ((b == b' ' || b == b'\t') && !last);
            let piece = if literal {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            // Keep room for the soft break `=` unless this is the line's last piece.
            let limit = if last { 76 } else { 75 };
            if width + piece.len() > limit {
                out.push_str("=\r\n");
                width = 0;
            }
            out.push_str(&piece);
            width += piece.len();
        }
    }
    out
}

/// Decodes quoted-printable text.
fn qp_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        let rest = &bytes[i + 1..];
        if rest.starts_with(b"\r\n") {
            i += 3;
        } else if rest.starts_with(b"\n") {
            i += 2;
        } else if rest.len() >= 2 {
            match std::str::from_utf8(&rest[..2])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(v) => {
                    out.push(v);
                    i += 3;
                }
                None => {
                    out.push(b'=');
                    i += 1;
                }
            }
        } else {
            // A trailing `=` (soft break at the very end, whitespace stripped).
            i = bytes.len();
        }
    }
    out
}

/// Decodes RFC 2047 encoded words (`B` and `Q`) in a header value; whitespace between two
/// encoded words is dropped, as the RFC says.
fn decode_header(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, tail) = rest.split_at(start);
        let decoded = parse_encoded_word(tail);
        match decoded {
            Some((text, used)) => {
                if !(after_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&text);
                rest = &tail[used..];
                after_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &tail[2..];
                after_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses one `=?charset?enc?text?=` at the start of `s`: the decoded text and its length.
fn parse_encoded_word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let mut parts = inner.splitn(3, '?');
    let _charset = parts.next()?;
    let encoding = parts.next()?;
    let rest = parts.next()?;
    let end = rest.find("?=")?;
    let payload = &rest[..end];
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(payload)
            .ok()?,
        "Q" | "q" => qp_decode(&payload.replace('_', " ")),
        _ => return None,
    };
    let used = 2 + (inner.len() - rest.len()) + end + 2;
    Some((String::from_utf8_lossy(&bytes).into_owned(), used))
}

fn invalid(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

/// One MIME entity: unfolded headers (names lower-cased) and the raw body.
struct Entity<'a> {
    headers: HashMap<String, String>,
    body: &'a str,
}

fn parse_entity(text: &str) -> Entity<'_> {
    let (head, body) = match (text.find("\r\n\r\n"), text.find("\n\n")) {
        (Some(a), Some(b)) if b < a => (&text[..b], &text[b + 2..]),
        (Some(a), _) => (&text[..a], &text[a + 4..]),
        (None, Some(b)) => (&text[..b], &text[b + 2..]),
        (None, None) => (text, ""),
    };
    let mut headers = HashMap::new();
    let mut current: Option<(String, String)> = None;
    for line in head.lines() {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, value)) = current.as_mut() {
                value.push_str(line);
            }
            continue;
        }
        if let Some((name, value)) = current.take() {
            headers.insert(name, value);
        }
        if let Some((name, value)) = line.split_once(':') {
            current = Some((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    if let Some((name, value)) = current {
        headers.insert(name, value);
    }
    Entity { headers, body }
}

/// A parameter (`boundary`, `charset`) of a Content-Type value.
fn content_param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The decoded text of a leaf entity.
fn decode_body(entity: &Entity<'_>) -> Result<String, std::io::Error> {
    let encoding = entity
        .headers
        .get("content-transfer-encoding")
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let bytes = match encoding.as_str() {
        "quoted-printable" => qp_decode(entity.body),
        "base64" => {
            let compact: String = entity.body.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| invalid(format!("bad base64 body: {e}")))?
        }
        _ => entity.body.as_bytes().to_vec(),
    };
    let text = String::from_utf8(bytes).map_err(|e| invalid(format!("body is not UTF-8: {e}")))?;
    // The transport's CRLF line ends become plain newlines again.
    Ok(text.replace("\r\n", "\n"))
}

/// Collects the text/plain and text/html parts of an entity (recursing into multiparts).
fn collect_parts(
    entity: &Entity<'_>,
    top: bool,
    text: &mut Option<String>,
    html: &mut Option<String>,
) -> Result<(), std::io::Error> {
    let content_type = entity
        .headers
        .get("content-type")
        .cloned()
        .unwrap_or_else(|| "text/plain".into());
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if mime.starts_with("multipart/") {
        let boundary = content_param(&content_type, "boundary")
            .ok_or_else(|| invalid("multipart without a boundary"))?;
        let delimiter = format!("--{boundary}");
        let mut sections = entity.body.split(delimiter.as_str());
        sections.next(); // the preamble
        for section in sections {
            if section.starts_with("--") {
                break; // the closing delimiter
            }
            let section = section
                .strip_prefix("\r\n")
                .or_else(|| section.strip_prefix('\n'))
                .unwrap_or(section);
            // The line break before the next delimiter belongs to the delimiter.
            let section = section
                .strip_suffix("\r\n")
                .or_else(|| section.strip_suffix('\n'))
                .unwrap_or(section);
            collect_parts(&parse_entity(section), false, text, html)?;
        }
        return Ok(());
    }
    // A single-part message ends with the line break that closes its last line; in a
    // multipart one that break belongs to the delimiter and was cut off above.
    let strip_final_break = |mut s: String| {
        if top && s.ends_with('\n') {
            s.pop();
        }
        s
    };
    match mime.as_str() {
        "text/plain" if text.is_none() => *text = Some(strip_final_break(decode_body(entity)?)),
        "text/html" if html.is_none() => *html = Some(strip_final_break(decode_body(entity)?)),
        _ => {}
    }
    Ok(())
}

/// Parses one `.eml` text.
pub fn parse_message(file: PathBuf, raw: &str) -> Result<OutboxMessage, std::io::Error> {
    let entity = parse_entity(raw);
    let header = |name: &str| -> Result<String, std::io::Error> {
        entity
            .headers
            .get(name)
            .cloned()
            .ok_or_else(|| invalid(format!("{}: no {name} header", file.display())))
    };
    let mut text = None;
    let mut html = None;
    collect_parts(&entity, true, &mut text, &mut html)?;
    Ok(OutboxMessage {
        message_id: header("message-id")?
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string(),
        from: header("from")?,
        to: header("to")?,
        subject: decode_header(&header("subject")?),
        date: header("date")?,
        text: text.unwrap_or_default(),
        html,
        file,
    })
}

/// Reads every message of an outbox directory, oldest first (file names start with the UTC
/// instant of sending). A missing directory is an empty outbox.
pub fn read_outbox(dir: &Path) -> Result<Vec<OutboxMessage>, std::io::Error> {
    let mut files = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "eml") {
            files.push(path);
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let raw = std::fs::read_to_string(&path)?;
            parse_message(path, &raw)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_round_trips() {
        let long = "x".repeat(200);
        for text in [
            "plain",
            "a=b\tc \nline two \r\nthree\n",
            "Grüße, café — 東京 🚑",
            long.as_str(),
            "=XX= ==",
            "",
        ] {
            let encoded = qp_encode(text);
            assert!(encoded.split("\r\n").all(|l| l.len() <= 76), "{encoded}");
            let expect = text.replace("\r\n", "\n").replace('\n', "\r\n");
            assert_eq!(
                String::from_utf8(qp_decode(&encoded)).unwrap_or_default(),
                expect
            );
        }
    }

    #[test]
    fn subjects_round_trip() {
        for s in [
            "Weekly report",
            "Rapport hebdomadaire — été 2024, clinique de Montréal, très long sujet",
            "line\nbreak",
            "=?not-a-word?=",
        ] {
            let encoded = encode_header(s);
            assert!(
                !encoded.contains('\n') || encoded.contains("\r\n "),
                "{encoded}"
            );
            assert_eq!(decode_header(&encoded), s);
        }
    }

    #[test]
    fn messages_parse_back() {
        for html in [None, Some("<p>Hi\n</p>\n".to_string())] {
            for text in ["hello\n", "hello", "a=b\n\nc \n"] {
                let email = Email {
                    to: "to@example.org".into(),
                    subject: "Sujet é".into(),
                    text: text.into(),
                    html: html.clone(),
                };
                let raw = render(&email, "from@example.org", "id@x", "date", "u1");
                let m = parse_message(PathBuf::from("m.eml"), &raw).expect("parses");
                let want = text.replace("\r\n", "\n");
                assert_eq!(
                    (m.to.as_str(), m.subject.as_str()),
                    ("to@example.org", "Sujet é")
                );
                assert_eq!(m.text, want, "{raw}");
                assert_eq!(m.html, html, "{raw}");
                assert_eq!(m.message_id, "id@x");
            }
        }
    }

    #[test]
    fn addresses_are_checked() {
        assert!(plausible_address("a.b+c@example.org"));
        for bad in [
            "",
            "a",
            "a@b",
            "@b.c",
            "a@",
            "a b@c.d",
            "a@c.d\r\nBcc: x@y.z",
            "<a@b.c>",
        ] {
            assert!(!plausible_address(bad), "{bad}");
        }
    }
}
