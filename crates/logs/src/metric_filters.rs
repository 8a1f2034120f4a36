//! Metric filters. TestMetricFilter so far: the same pattern parser and matcher as
//! FilterLogEvents, answering which sample messages match and what a space-delimited
//! pattern extracts from them (`$1`, `$user`, ...). Events are numbered from 0, as in
//! AWS's sample response.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use wire::AwsError;

use crate::{LogsService, invalid};

/// TestMetricFilter's input.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestMetricFilter {
    filter_pattern: String,
    log_event_messages: Vec<String>,
}

impl LogsService {
    pub(crate) fn test_metric_filter(&self, req: TestMetricFilter) -> Result<Value, AwsError> {
        let pattern = query::FilterPattern::parse(&req.filter_pattern).map_err(|e| invalid(e.message()))?;
        let matches: Vec<Value> = req
            .log_event_messages
            .iter()
            .enumerate()
            .filter_map(|(i, message)| {
                let fields = pattern.extract(message.as_bytes())?;
                let extracted: Map<String, Value> =
                    fields.iter().map(|(k, v)| (k.to_owned(), Value::String(v.to_text().into_owned()))).collect();
                Some(json!({"eventNumber": i, "eventMessage": message, "extractedValues": extracted}))
            })
            .collect();
        Ok(json!({"matches": matches}))
    }
}
