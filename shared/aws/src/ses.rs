//! The AWS [`Mailer`] adapter: Amazon SES v2 `SendEmail` with simple content (the text part,
//! plus the HTML part when there is one), through the official SDK.
//!
//! Errors that retrying cannot fix (message rejected, unverified sender, bad request,
//! suspended account or paused sending, any other 4xx) become [`MailError::Rejected`];
//! throttling, limits, 5xx and network failures become [`MailError::Unavailable`].

use async_trait::async_trait;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;
use domain::ports::mailer::{Email, MailError, Mailer};

/// Sends mail through SES v2 from one verified sender.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    /// A mailer sending as `from` (an identity verified in SES).
    pub fn new(client: Client, from: String) -> Self {
        Self { client, from }
    }
}

fn utf8(data: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Rejected(format!("message does not build: {e}")))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let mut body = Body::builder().text(utf8(&email.text)?);
        if let Some(html) = &email.html {
            body = body.html(utf8(html)?);
        }
        let message = Message::builder()
            .subject(utf8(&email.subject)?)
            .body(body.build())
            .build();
        let out = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|err| match err.as_service_error() {
                Some(
                    e @ (SendEmailError::MessageRejected(_)
                    | SendEmailError::BadRequestException(_)
                    | SendEmailError::NotFoundException(_)
                    | SendEmailError::MailFromDomainNotVerifiedException(_)
                    | SendEmailError::AccountSuspendedException(_)
                    | SendEmailError::SendingPausedException(_)),
                ) => MailError::Rejected(format!(
                    "{}: {}",
                    e.code().unwrap_or("Rejected"),
                    e.message().unwrap_or_default()
                )),
                Some(e) => {
                    let text = format!(
                        "{}: {}",
                        e.code().unwrap_or("Unknown"),
                        e.message().unwrap_or_default()
                    );
                    // Throttling and limits are named errors that a retry may get past; an
                    // error the SDK does not model is judged by its HTTP status: a 4xx other
                    // than 429 is the request's fault (a malformed address, say).
                    let status = err.raw_response().map(|r| r.status().as_u16());
                    let retryable = matches!(
                        e,
                        SendEmailError::TooManyRequestsException(_)
                            | SendEmailError::LimitExceededException(_)
                    ) || !matches!(status, Some(400..=428 | 430..=499));
                    if retryable {
                        MailError::Unavailable(text)
                    } else {
                        MailError::Rejected(text)
                    }
                }
                None => MailError::Unavailable(format!("SendEmail: {}", DisplayErrorContext(&err))),
            })?;
        out.message_id
            .ok_or_else(|| MailError::Unavailable("SendEmail returned no message id".into()))
    }
}
