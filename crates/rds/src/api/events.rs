//! DescribeEvents: what happened to RDS resources, from the supervisor and the publishers.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use wire::AwsError;

use super::{Request, invalid};

/// Events of the last `Duration` minutes (60 by default) or between StartTime and EndTime.
pub(super) async fn describe(r: &Request<'_>) -> Result<Value, AwsError> {
    let time = |member: &str| -> Result<Option<i64>, AwsError> {
        r.str(member)
            .map(|t| {
                OffsetDateTime::parse(t, &Iso8601::DEFAULT)
                    .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
                    .map_err(|_| invalid(format!("Invalid value {t} for {member}")))
            })
            .transpose()
    };
    let (start, end) = (time("StartTime")?, time("EndTime")?);
    let end = end.unwrap_or(r.now);
    let start = match (start, r.int("Duration")) {
        (Some(s), _) => s,
        (None, Some(minutes)) => end - minutes * 60_000,
        (None, None) => end - 3_600_000,
    };
    let source_type = r.str("SourceType");
    let source_id = r.str("SourceIdentifier").map(str::to_lowercase);
    if source_id.is_some() && source_type.is_none() {
        return Err(invalid("Cannot specify SourceIdentifier without specifying SourceType"));
    }
    let categories = r.strings("EventCategories");
    let events = r.rds.store.rds_events(&r.home.account_id, &r.home.region, start, end).await.map_err(super::internal)?;
    let mut listed: Vec<(String, Value)> = Vec::new();
    for (n, e) in events.iter().enumerate() {
        if source_type.is_some_and(|t| t != e.source_type) || source_id.as_ref().is_some_and(|i| *i != e.source_id) {
            continue;
        }
        let body: Value = serde_json::from_str(&e.body).map_err(super::internal)?;
        let cats: Vec<&str> = body["EventCategories"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        if !categories.is_empty() && !cats.iter().any(|c| categories.iter().any(|w| w == c)) {
            continue;
        }
        listed.push((format!("{:020}-{n:08}", e.at_millis), body));
    }
    let (page, marker) = r.page(listed, |(k, _)| k.as_str())?;
    let mut out = json!({"Events": page.into_iter().map(|(_, v)| v).collect::<Vec<_>>()});
    if let Some(m) = marker {
        out["Marker"] = json!(m);
    }
    Ok(out)
}
