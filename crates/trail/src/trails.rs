//! A trail: where events go (bucket, log group, notification topic), which events
//! (event selectors, regions), and whether it is logging.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::trail::TrailEvent;
use wire::AwsError;

/// Most trails an account may have in a region.
pub const MAX_TRAILS_PER_REGION: usize = 5;

/// A trail as stored in the catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trail {
    /// The trail's name.
    pub name: String,
    /// The owning account.
    pub account_id: String,
    /// The region the trail was created in.
    pub home_region: String,
    /// The bucket log files go to.
    pub s3_bucket: String,
    /// The key prefix inside the bucket.
    pub s3_key_prefix: Option<String>,
    /// The notification topic announced on each delivered file.
    pub sns_topic_name: Option<String>,
    /// Whether IAM's (global) events are included.
    pub include_global_service_events: bool,
    /// Whether events of every region are delivered.
    pub is_multi_region: bool,
    /// Whether hourly signed digests are written.
    pub log_file_validation: bool,
    /// The log group events are also sent to (its ARN, `…:log-group:NAME:*`).
    pub cwl_group_arn: Option<String>,
    /// The role assumed to send them.
    pub cwl_role_arn: Option<String>,
    /// Whether the trail is logging.
    pub logging: bool,
    /// When logging last started, epoch ms.
    pub started_at: Option<i64>,
    /// When logging last stopped, epoch ms.
    pub stopped_at: Option<i64>,
    /// Basic event selectors, as given to PutEventSelectors.
    pub event_selectors: Option<Value>,
    /// Advanced event selectors, as given to PutEventSelectors.
    pub advanced_event_selectors: Option<Value>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl Trail {
    /// A new trail with CloudTrail's defaults: global events included, one region, not
    /// logging, no validation, the default selectors.
    pub fn new(name: &str, account_id: &str, home_region: &str, s3_bucket: &str) -> Self {
        Trail {
            name: name.to_owned(),
            account_id: account_id.to_owned(),
            home_region: home_region.to_owned(),
            s3_bucket: s3_bucket.to_owned(),
            s3_key_prefix: None,
            sns_topic_name: None,
            include_global_service_events: true,
            is_multi_region: false,
            log_file_validation: false,
            cwl_group_arn: None,
            cwl_role_arn: None,
            logging: false,
            started_at: None,
            stopped_at: None,
            event_selectors: None,
            advanced_event_selectors: None,
            tags: BTreeMap::new(),
        }
    }

    /// `arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME`.
    pub fn arn(&self) -> String {
        format!("arn:aws:cloudtrail:{}:{}:trail/{}", self.home_region, self.account_id, self.name)
    }

    /// The name of the log group events are sent to, from its ARN.
    pub fn cwl_group_name(&self) -> Option<String> {
        let arn = self.cwl_group_arn.as_deref()?;
        let (_, rest) = arn.split_once(":log-group:")?;
        Some(rest.strip_suffix(":*").unwrap_or(rest).to_owned())
    }

    /// The trail's fields as CreateTrail, UpdateTrail and GetTrail return them.
    pub fn describe(&self) -> Value {
        let mut v = json!({
            "Name": self.name,
            "S3BucketName": self.s3_bucket,
            "IncludeGlobalServiceEvents": self.include_global_service_events,
            "IsMultiRegionTrail": self.is_multi_region,
            "HomeRegion": self.home_region,
            "TrailARN": self.arn(),
            "LogFileValidationEnabled": self.log_file_validation,
            "HasCustomEventSelectors": self.event_selectors.is_some() || self.advanced_event_selectors.is_some(),
            "HasInsightSelectors": false,
            "IsOrganizationTrail": false,
        });
        let optional = [
            ("S3KeyPrefix", self.s3_key_prefix.clone()),
            ("SnsTopicName", self.sns_topic_name.clone()),
            ("SnsTopicARN", self.sns_topic_name.as_ref().map(|t| format!("arn:aws:sns:{}:{}:{t}", self.home_region, self.account_id))),
            ("CloudWatchLogsLogGroupArn", self.cwl_group_arn.clone()),
            ("CloudWatchLogsRoleArn", self.cwl_role_arn.clone()),
        ];
        for (k, value) in optional {
            if let Some(value) = value {
                v[k] = value.into();
            }
        }
        v
    }

    /// The event selectors in effect: the default selects every management event.
    pub fn effective_selectors(&self) -> Value {
        self.event_selectors.clone().unwrap_or_else(
            || json!([{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": [], "ExcludeManagementEventSources": []}]),
        )
    }

    /// Whether an event belongs in this trail: its region, and its selectors.
    pub fn selects(&self, event: &TrailEvent) -> bool {
        if !self.is_multi_region && event.region != self.home_region {
            return false;
        }
        if !self.include_global_service_events && event.event_source == "iam.amazonaws.com" {
            return false;
        }
        match &self.advanced_event_selectors {
            Some(advanced) => advanced.as_array().is_some_and(|list| list.iter().any(|s| advanced_matches(s, event))),
            None => self.effective_selectors().as_array().is_some_and(|list| list.iter().any(|s| basic_matches(s, event))),
        }
    }
}

fn basic_matches(selector: &Value, event: &TrailEvent) -> bool {
    if !event.management || !selector["IncludeManagementEvents"].as_bool().unwrap_or(true) {
        return false;
    }
    let excluded = selector["ExcludeManagementEventSources"].as_array();
    if excluded.is_some_and(|l| l.iter().any(|s| s.as_str() == Some(event.event_source.as_str()))) {
        return false;
    }
    match selector["ReadWriteType"].as_str().unwrap_or("All") {
        "ReadOnly" => event.read_only,
        "WriteOnly" => !event.read_only,
        _ => true,
    }
}

/// An advanced selector matches when every one of its field selectors does.
fn advanced_matches(selector: &Value, event: &TrailEvent) -> bool {
    let Some(fields) = selector["FieldSelectors"].as_array() else { return false };
    fields.iter().all(|f| {
        let value = match f["Field"].as_str().unwrap_or("") {
            "eventCategory" => if event.management { "Management" } else { "Data" }.to_owned(),
            "readOnly" => event.read_only.to_string(),
            "eventSource" => event.event_source.clone(),
            "eventName" => event.event_name.clone(),
            _ => return true,
        };
        let list = |k: &str| f[k].as_array().map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect::<Vec<_>>());
        let any = |k: &str, test: &dyn Fn(&str) -> bool| list(k).is_none_or(|l| l.is_empty() || l.iter().any(|x| test(x)));
        let none = |k: &str, test: &dyn Fn(&str) -> bool| list(k).is_none_or(|l| !l.iter().any(|x| test(x)));
        any("Equals", &|x| x == value)
            && any("StartsWith", &|x| value.starts_with(x))
            && any("EndsWith", &|x| value.ends_with(x))
            && none("NotEquals", &|x| x == value)
            && none("NotStartsWith", &|x| value.starts_with(x))
            && none("NotEndsWith", &|x| value.ends_with(x))
    })
}

/// Checks a trail name against CloudTrail's rules, with its messages.
pub fn check_name(name: &str) -> Result<(), AwsError> {
    let invalid = |m: &str| Err(AwsError::client("InvalidTrailNameException", m));
    if name.len() < 3 {
        return invalid(&format!(
            "Trail name too short. Minimum allowed length: 3 characters. Specified name length: {} characters.",
            name.len()
        ));
    }
    if name.len() > 128 {
        return invalid(&format!(
            "Trail name too long. Maximum allowed length: 128 characters. Specified name length: {} characters.",
            name.len()
        ));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return invalid(
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
        );
    }
    if !name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric()) {
        return invalid("Trail name must starts with a letter or number.");
    }
    if !name.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric()) {
        return invalid("Trail name must ends with a letter or number.");
    }
    if name.as_bytes().windows(2).any(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric()) {
        return invalid("Trail name cannot have adjacent periods, underscores or dashes.");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return invalid("Trail name cannot be formatted as an IP address.");
    }
    Ok(())
}

/// A trail named by name or ARN: (region, account, name) when an ARN.
pub fn parse_trail_arn(value: &str) -> Result<Option<(String, String, String)>, AwsError> {
    let Some(rest) = value.strip_prefix("arn:") else { return Ok(None) };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let invalid = || {
        AwsError::client(
            "CloudTrailARNInvalidException",
            format!("Invalid trail ARN: {value}. The ARN must be in the format arn:aws:cloudtrail:region:account-id:trail/trail-name."),
        )
    };
    let [_, service, region, account, resource] = parts.as_slice() else { return Err(invalid()) };
    let name = resource.strip_prefix("trail/").ok_or_else(invalid)?;
    if *service != "cloudtrail" || region.is_empty() || account.len() != 12 || name.is_empty() {
        return Err(invalid());
    }
    Ok(Some(((*region).to_owned(), (*account).to_owned(), name.to_owned())))
}

/// Checks a CloudWatch Logs group ARN as CloudTrail accepts it (`…:log-group:NAME:*`).
pub fn check_group_arn(arn: &str, account: &str) -> Result<(), AwsError> {
    let invalid = || AwsError::client("InvalidCloudWatchLogsLogGroupArnException", "Invalid CloudWatchLogs log group arn");
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", "aws", "logs", region, acct, "log-group", rest] if !region.is_empty() && *acct == account && !rest.is_empty() => {
            if rest.strip_suffix(":*").is_some_and(|n| !n.is_empty() && !n.contains(':')) { Ok(()) } else { Err(invalid()) }
        }
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(region: &str, source: &str, read_only: bool) -> TrailEvent {
        TrailEvent {
            seq: 1,
            region: region.into(),
            event_time: 0,
            event_id: "e".into(),
            event_name: "CreateLogGroup".into(),
            event_source: source.into(),
            read_only,
            management: true,
            username: None,
            access_key_id: None,
            resources: "[]".into(),
            body: "{}".into(),
        }
    }

    fn trail() -> Trail {
        let mut t = Trail::new("t", "123456789012", "us-east-1", "b");
        t.logging = true;
        t
    }

    #[test]
    fn single_region_trails_see_their_region_only() {
        let mut t = trail();
        assert!(t.selects(&event("us-east-1", "logs.amazonaws.com", false)));
        assert!(!t.selects(&event("eu-west-1", "logs.amazonaws.com", false)));
        t.is_multi_region = true;
        assert!(t.selects(&event("eu-west-1", "logs.amazonaws.com", false)));
    }

    #[test]
    fn basic_selectors_filter_reads_writes_and_sources() {
        let mut t = trail();
        t.event_selectors = Some(json!([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]));
        assert!(t.selects(&event("us-east-1", "logs.amazonaws.com", false)));
        assert!(!t.selects(&event("us-east-1", "logs.amazonaws.com", true)));
        t.event_selectors = Some(json!([{"ReadWriteType": "All", "ExcludeManagementEventSources": ["logs.amazonaws.com"]}]));
        assert!(!t.selects(&event("us-east-1", "logs.amazonaws.com", false)));
        assert!(t.selects(&event("us-east-1", "iam.amazonaws.com", false)));
    }

    #[test]
    fn advanced_selectors_match_all_fields() {
        let mut t = trail();
        t.advanced_event_selectors = Some(json!([{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]},
            {"Field": "readOnly", "Equals": ["false"]},
            {"Field": "eventSource", "NotEquals": ["iam.amazonaws.com"]}
        ]}]));
        assert!(t.selects(&event("us-east-1", "logs.amazonaws.com", false)));
        assert!(!t.selects(&event("us-east-1", "logs.amazonaws.com", true)));
        assert!(!t.selects(&event("us-east-1", "iam.amazonaws.com", false)));
    }

    #[test]
    fn names_follow_cloudtrail_rules() {
        assert!(check_name("my-trail.1").is_ok());
        for bad in ["ab", "-trail", "trail-", "my-_trail", "my trail", "192.168.1.1"] {
            assert_eq!(check_name(bad).unwrap_err().code, "InvalidTrailNameException", "{bad}");
        }
    }

    #[test]
    fn group_arns_need_the_wildcard_suffix() {
        assert!(check_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs:*", "123456789012").is_ok());
        assert!(check_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs", "123456789012").is_err());
        assert!(check_group_arn("arn:aws:logs:us-east-1:999999999999:log-group:x:*", "123456789012").is_err());
    }
}
