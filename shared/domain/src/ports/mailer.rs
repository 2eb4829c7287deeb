//! The mailer port: sends one message to one recipient.

use async_trait::async_trait;

/// One outgoing message. The text part is always sent; the HTML part is optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MailError {
    /// The message was refused for good (bad address, unverified sender): retrying won't help.
    #[error("mail rejected: {0}")]
    Rejected(String),
    /// The service could not be reached, or answered that it did not take the message
    /// (throttled, failed): the message was not sent, and a retry may succeed.
    #[error("mail service unavailable: {0}")]
    Unavailable(String),
    /// The request may have reached the service but no answer came back (a timeout, a
    /// connection lost mid-request): the message may or may not have been sent. Never retried,
    /// so that one attempt sends at most one message.
    #[error("mail outcome unknown: {0}")]
    Uncertain(String),
    /// This function was built without a mailer (`crate::deps::Wiring`): a wiring mistake,
    /// never retried. Names the function.
    #[error("no mailer is wired into function {0}")]
    NotWired(&'static str),
}

impl MailError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, MailError::Unavailable(_))
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends the message and returns the service's message id.
    async fn send(&self, email: &Email) -> Result<String, MailError>;
}
