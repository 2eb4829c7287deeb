//! The mailer contract: `OutboxMailer` (an outbox in a temp dir, read back by
//! `read_outbox`) and `SesMailer` (a verified sender on moto, read back from
//! `/moto-api/data.json`) deliver the same messages.

use crate::support::moto::{moto_mail, sent_mail, ses_mailer};
use crate::support::{unique, TempDir};
use aws_adapters::ses::SesMailer;
use domain::ports::mailer::{Email, MailError, Mailer};
use local_adapters::outbox::{read_outbox, OutboxMailer};

/// A mailer and a way to see what it delivered.
enum Fixture {
    Outbox { mailer: OutboxMailer, _dir: TempDir },
    Moto(SesMailer, String),
}

impl Fixture {
    async fn embedded() -> Self {
        let dir = TempDir::new("outbox");
        let mailer = OutboxMailer::new(dir.path().join("outbox"), "reports@clinic.example".into());
        Fixture::Outbox { mailer, _dir: dir }
    }

    async fn moto() -> Self {
        let (mailer, from) = ses_mailer().await;
        Fixture::Moto(mailer, from)
    }
}

/// A delivered message as both sides can show it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Delivered {
    id: String,
    to: String,
    subject: String,
    /// The text body, when the service keeps it (moto drops it when HTML is sent too).
    text: Option<String>,
    html: Option<String>,
}

/// What a fixture's mailer delivered to `to`.
async fn delivered(fixture: &Fixture, to: &str) -> Vec<Delivered> {
    match fixture {
        Fixture::Outbox { mailer, .. } => read_outbox(mailer.dir())
            .unwrap()
            .into_iter()
            .filter(|m| m.to == to)
            .map(|m| Delivered {
                id: m.message_id,
                to: m.to,
                subject: m.subject,
                text: Some(m.text),
                html: m.html,
            })
            .collect(),
        Fixture::Moto(_, from) => sent_mail()
            .await
            .into_iter()
            .filter(|m| m.to == [to] && &m.from == from)
            .map(|m| {
                // moto keeps one body: the HTML when there is one, else the text.
                let html = m.body.trim_start().starts_with('<');
                Delivered {
                    id: m.id,
                    to: to.to_string(),
                    subject: m.subject,
                    text: (!html).then(|| m.body.clone()),
                    html: html.then_some(m.body),
                }
            })
            .collect(),
    }
}

impl Fixture {
    fn mailer(&self) -> &dyn Mailer {
        match self {
            Fixture::Outbox { mailer, .. } => mailer,
            Fixture::Moto(m, _) => m,
        }
    }
}

macro_rules! mail_contract_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn embedded() {
                    let fixture = super::Fixture::embedded().await;
                    super::$name(&fixture).await;
                }

                #[tokio::test]
                async fn moto() {
                    let fixture = super::Fixture::moto().await;
                    super::$name(&fixture).await;
                }
            }
        )+
    };
}

mail_contract_tests!(
    text_message_arrives,
    html_message_arrives,
    bad_recipient_is_rejected
);

async fn text_message_arrives(fixture: &Fixture) {
    let to = format!("{}@example.org", unique("alice"));
    let email = Email {
        to: to.clone(),
        subject: "Weekly report — été 2024 ✓".into(),
        text: "Hello Zoë,\n\nYour report is ready: https://example.org/r?id=1&x=2\n\n-- \nClinic"
            .into(),
        html: None,
    };
    let id = fixture.mailer().send(&email).await.unwrap();
    assert!(!id.is_empty());
    let got = delivered(fixture, &to).await;
    assert_eq!(
        got,
        vec![Delivered {
            id,
            to,
            subject: email.subject,
            text: Some(email.text),
            html: None,
        }]
    );
}

async fn html_message_arrives(fixture: &Fixture) {
    let to = format!("{}@example.org", unique("bob"));
    let html = "<p>Your <b>report</b> is ready — <a href=\"https://example.org/r?id=1&amp;x=2\">download</a></p>";
    let email = Email {
        to: to.clone(),
        subject: "Report ready".into(),
        text: "Your report is ready: https://example.org/r?id=1&x=2".into(),
        html: Some(html.into()),
    };
    let first = fixture.mailer().send(&email).await.unwrap();
    let second = fixture.mailer().send(&email).await.unwrap();
    assert_ne!(first, second, "every message gets its own id");
    let got = delivered(fixture, &to).await;
    assert_eq!(got.len(), 2);
    let mut ids: Vec<_> = got.iter().map(|d| d.id.clone()).collect();
    ids.sort();
    let mut want_ids = vec![first, second];
    want_ids.sort();
    assert_eq!(ids, want_ids);
    for d in got {
        assert_eq!(
            (d.to.as_str(), d.subject.as_str()),
            (to.as_str(), "Report ready")
        );
        assert_eq!(d.html.as_deref(), Some(html));
        if let Some(text) = d.text {
            assert_eq!(text, email.text);
        }
    }
}

async fn bad_recipient_is_rejected(fixture: &Fixture) {
    let email = Email {
        to: "not-an-address".into(),
        subject: "x".into(),
        text: "x".into(),
        html: None,
    };
    let err = fixture.mailer().send(&email).await.unwrap_err();
    assert!(matches!(err, MailError::Rejected(_)), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn moto_unverified_sender_is_rejected() {
    let client = moto_mail().clients().ses;
    let mailer = SesMailer::new(client, format!("{}@unverified.example", unique("nobody")));
    let to = format!("{}@example.org", unique("carol"));
    let email = Email {
        to: to.clone(),
        subject: "x".into(),
        text: "x".into(),
        html: None,
    };
    let err = mailer.send(&email).await.unwrap_err();
    assert!(matches!(err, MailError::Rejected(_)), "{err:?}");
    assert!(sent_mail().await.iter().all(|m| m.to != [to.clone()]));
}

#[tokio::test]
async fn outbox_files_are_rfc5322_messages() {
    let dir = TempDir::new("outbox");
    let mailer = OutboxMailer::new(dir.path(), "Reports <reports@clinic.example>".into());
    // The sender must be a bare address.
    let email = Email {
        to: "dan@example.org".into(),
        subject: "s".into(),
        text: "t".into(),
        html: None,
    };
    assert!(matches!(
        mailer.send(&email).await,
        Err(MailError::Rejected(_))
    ));

    let mailer = OutboxMailer::new(dir.path(), "reports@clinic.example".into());
    let long_line = "word ".repeat(60);
    let email = Email {
        to: "dan@example.org".into(),
        subject: "Überblick: Mai 2024".into(),
        text: format!("{long_line}\n=ends with space \nand\ttab\t"),
        html: Some("<p>Grüße</p>".into()),
    };
    let id = mailer.send(&email).await.unwrap();
    let messages = read_outbox(dir.path()).unwrap();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.message_id, id);
    assert_eq!(m.from, "reports@clinic.example");
    assert_eq!(m.subject, email.subject);
    assert_eq!(m.text, email.text);
    assert_eq!(m.html, email.html);
    assert!(
        chrono::DateTime::parse_from_rfc2822(&m.date).is_ok(),
        "{}",
        m.date
    );

    let raw = std::fs::read_to_string(&m.file).unwrap();
    assert!(m.file.extension().is_some_and(|e| e == "eml"));
    for header in [
        "From: reports@clinic.example\r\n",
        "To: dan@example.org\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/alternative;\r\n boundary=\"",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Type: text/html; charset=utf-8\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        &format!("Message-ID: <{id}>\r\n"),
        "Subject: =?UTF-8?B?",
    ] {
        assert!(raw.contains(header), "missing {header:?} in\n{raw}");
    }
    assert!(raw.is_ascii(), "the message is 7-bit clean");
    assert!(
        raw.split("\r\n").all(|l| l.len() <= 78),
        "no line longer than 78 characters"
    );
    assert!(
        !raw.replace("\r\n", "").contains('\n'),
        "CRLF line ends only"
    );
}
