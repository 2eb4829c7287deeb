//! The Lambda side of the functions the table's stream and a schedule both invoke
//! (`referral-delivery`, `org-report-email-job`): which kind an invocation is, the string keys
//! of a record, and the batch item failure that makes Lambda deliver a record again.

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::DynamoDbBatchItemFailure;

/// What invoked the function.
#[derive(Debug)]
pub enum Invocation {
    /// A batch of the table's stream (the event has `Records`).
    Stream(Event),
    /// The schedule (any other event): sweep what the stream left behind.
    Schedule,
}

impl Invocation {
    /// Reads an invocation's payload: a stream batch when it has `Records`, else the schedule.
    pub fn of(event: serde_json::Value) -> Result<Invocation, serde_json::Error> {
        if event.get("Records").is_some() {
            return serde_json::from_value(event).map(Invocation::Stream);
        }
        Ok(Invocation::Schedule)
    }
}

/// The record's key attributes `pk` and `sk`, when both are strings.
pub fn string_keys(record: &EventRecord) -> Option<(String, String)> {
    let keys = serde_json::to_value(&record.change.keys).ok()?;
    let attribute = |name: &str| keys.get(name)?.get("S")?.as_str().map(str::to_string);
    Some((attribute("pk")?, attribute("sk")?))
}

/// The batch item failure naming `record` (its sequence number, else its event id): Lambda
/// delivers the batch again from there.
pub fn batch_item_failure(record: &EventRecord) -> DynamoDbBatchItemFailure {
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = record
        .change
        .sequence_number
        .clone()
        .or_else(|| Some(record.event_id.clone()));
    failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_batches_and_schedules_are_told_apart_and_records_named() {
        let batch = serde_json::json!({"Records": [
            {"eventID": "1", "eventName": "INSERT", "awsRegion": "us-east-1",
             "dynamodb": {"Keys": {"pk": {"S": "JOB#job-1"}, "sk": {"S": "JOB"}},
                          "SequenceNumber": "100", "SizeBytes": 10}},
            {"eventID": "2", "eventName": "INSERT", "awsRegion": "us-east-1",
             "dynamodb": {"Keys": {"pk": {"S": "A"}, "sk": {"N": "1"}}, "SizeBytes": 10}}
        ]});
        let Ok(Invocation::Stream(event)) = Invocation::of(batch) else {
            panic!("a stream batch");
        };
        assert_eq!(
            string_keys(&event.records[0]),
            Some(("JOB#job-1".into(), "JOB".into()))
        );
        assert_eq!(string_keys(&event.records[1]), None);
        assert_eq!(
            batch_item_failure(&event.records[0])
                .item_identifier
                .as_deref(),
            Some("100")
        );
        assert_eq!(
            batch_item_failure(&event.records[1])
                .item_identifier
                .as_deref(),
            Some("2")
        );
        let schedule =
            serde_json::json!({"source": "aws.events", "detail-type": "Scheduled Event"});
        assert!(matches!(Invocation::of(schedule), Ok(Invocation::Schedule)));
    }
}
