//! The EmailQueue consumer. The queue subscribes to the notifications topic with raw message
//! delivery, so each SQS body is the published message itself:
//! `{orderId, email, subject?, message?, template?, tier?, channel?}`. "Sending" is one
//! structured log line (`notification.sent`) per email. A record whose body is not JSON or
//! lacks `orderId`/`email` fails on its own (partial batch response) and ends in the DLQ.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub order_id: String,
    pub email: String,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub tier: Option<String>,
}

/// The email as sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("body is not a notification: {0}")]
    Invalid(String),
}

/// Renders the email for a notification.
pub fn render(n: &Notification) -> Result<Email, NotifyError> {
    if n.order_id.trim().is_empty() {
        return Err(NotifyError::Invalid("orderId is empty".into()));
    }
    if !n.email.contains('@') || n.email.trim() != n.email {
        return Err(NotifyError::Invalid(format!(
            "{:?} is not an email address",
            n.email
        )));
    }
    let subject = n
        .subject
        .clone()
        .unwrap_or_else(|| match n.template.as_deref() {
            Some("order-shipped") => format!("Your order {} has shipped", n.order_id),
            Some("order-cancelled") => format!("Your order {} was cancelled", n.order_id),
            _ => format!("Update on your order {}", n.order_id),
        });
    let greeting = match n.tier.as_deref() {
        Some("platinum") => "Dear Platinum member",
        Some("gold") => "Dear Gold member",
        _ => "Hello",
    };
    let body = format!(
        "{greeting},\n\n{}\n",
        n.message
            .clone()
            .unwrap_or_else(|| format!("There is news about your order {}.", n.order_id))
    );
    Ok(Email {
        to: n.email.clone(),
        subject,
        body,
    })
}

/// Parses, renders and "sends" one record.
pub fn process(message: &SqsMessage) -> Result<Email, NotifyError> {
    let body = message
        .body
        .as_deref()
        .ok_or_else(|| NotifyError::Invalid("empty body".into()))?;
    let n: Notification =
        serde_json::from_str(body).map_err(|e| NotifyError::Invalid(e.to_string()))?;
    let email = render(&n)?;
    tracing::info!(
        event = "notification.sent",
        channel = "email",
        order_id = %n.order_id,
        to = %email.to,
        subject = %email.subject,
        body_chars = email.body.len(),
        "email sent"
    );
    Ok(email)
}

pub fn handle(event: &SqsEvent) -> SqsBatchResponse {
    let results = event.records.iter().map(|m| {
        let id = m.message_id.clone().unwrap_or_default();
        let span = common::correlation::span(&common::correlation::from_sqs(m));
        let r = span.in_scope(|| {
            let r = process(m);
            if let Err(e) = &r {
                tracing::warn!(message_id = %id, error = %e, "notification rejected");
            }
            r
        });
        (id, r)
    });
    common::batch::sqs_batch_response(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_valid_records_and_fails_invalid_ones() {
        common::init_tracing();
        let event: SqsEvent =
            serde_json::from_str(include_str!("../events/email-queue.json")).unwrap();
        let response = handle(&event);
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["msg-not-json", "msg-no-email"]);
    }

    #[test]
    fn renders_by_template_and_tier() {
        let n = Notification {
            order_id: "ord-1".into(),
            email: "ana@example.com".into(),
            subject: None,
            message: None,
            template: Some("order-shipped".into()),
            tier: Some("gold".into()),
        };
        let e = render(&n).unwrap();
        assert_eq!(e.subject, "Your order ord-1 has shipped");
        assert!(e.body.starts_with("Dear Gold member"));
        assert!(render(&Notification {
            email: "nope".into(),
            ..n
        })
        .is_err());
    }
}
