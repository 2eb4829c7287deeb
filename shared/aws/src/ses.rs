//! The AWS [`Mailer`] adapter: Amazon SES v2 `SendEmail` with simple content (the text part,
//! plus the HTML part when there is one), through the official SDK.
//!
//! Errors that retrying cannot fix (message rejected, unverified sender, bad request,
//! suspended account or paused sending, any other 4xx) become [`MailError::Rejected`];
//! throttling, limits and 5xx answers become [`MailError::Unavailable`] (the service said it
//! did not take the message). A request that got no answer (a timeout, a connection lost)
//! may have been sent: [`MailError::Uncertain`].
//!
//! The SDK's client does not retry `SendEmail` (its retry configuration is turned off for this
//! client): a retry after a timeout could send a second message, and an emailed report's job
//! sends at most one. Retrying a send the service refused is the caller's choice.

use async_trait::async_trait;
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
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
    /// A mailer sending as `from` (an identity verified in SES), on `client` with its retries
    /// turned off (one `send` is one request at most).
    pub fn new(client: Client, from: String) -> Self {
        let config = client
            .config()
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .build();
        Self {
            client: Client::from_conf(config),
            from,
        }
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
                // The request was never made.
                None if matches!(err, SdkError::ConstructionFailure(_)) => {
                    MailError::Rejected(format!("SendEmail: {}", DisplayErrorContext(&err)))
                }
                // No answer: the request may have reached the service.
                None => MailError::Uncertain(format!("SendEmail: {}", DisplayErrorContext(&err))),
            })?;
        out.message_id
            .ok_or_else(|| MailError::Uncertain("SendEmail returned no message id".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use tokio::io::AsyncReadExt;

    /// A service that reads each request and hangs up without answering: the message may
    /// have gone out, so the send is made once and reported as uncertain, never retried.
    #[tokio::test]
    async fn a_send_without_an_answer_is_made_once_and_reported_uncertain() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("its address"));
        let requests = Arc::new(AtomicU32::new(0));
        let seen = requests.clone();
        let server = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                let mut buffer = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buffer).await;
            }
        });
        let client = crate::config::clients_for_endpoint(&endpoint).ses;
        let mailer = SesMailer::new(client, "reports@example.org".into());
        let email = Email {
            to: "someone@example.org".into(),
            subject: "Your report".into(),
            text: "ready".into(),
            html: None,
        };
        let err = mailer.send(&email).await.expect_err("no answer");
        assert!(matches!(err, MailError::Uncertain(_)), "{err:?}");
        // Long enough for the SDK's standard retries (backoff under a second each) to show.
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        assert_eq!(requests.load(Ordering::SeqCst), 1);
        server.abort();
    }
}
