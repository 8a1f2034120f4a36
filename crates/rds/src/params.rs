//! The DB cluster parameters trailwatch knows: their metadata as DescribeDBClusterParameters
//! reports it, how a value is checked, and what the running servers are told.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use wire::AwsError;

/// One parameter's description.
pub struct ParameterSpec {
    pub name: &'static str,
    pub default: &'static str,
    pub description: &'static str,
    pub data_type: &'static str,
    pub allowed: &'static str,
    /// Applied to running servers without a restart.
    pub dynamic: bool,
    pub modifiable: bool,
}

const fn spec(
    name: &'static str,
    default: &'static str,
    data_type: &'static str,
    allowed: &'static str,
    description: &'static str,
) -> ParameterSpec {
    ParameterSpec { name, default, description, data_type, allowed, dynamic: true, modifiable: true }
}

/// The audit events Aurora's server_audit_events takes.
pub const AUDIT_EVENTS: &[&str] = &["CONNECT", "QUERY", "QUERY_DCL", "QUERY_DDL", "QUERY_DML", "TABLE"];

/// Every parameter of a cluster parameter group, ordered by name.
pub static PARAMETERS: &[ParameterSpec] = &[
    spec(
        "aws_default_logs_role",
        "",
        "string",
        "",
        "IAM role ARN used when publishing logs to CloudWatch Logs; without it nothing is published.",
    ),
    ParameterSpec {
        name: "character_set_server",
        default: "utf8mb4",
        description: "The server's default character set.",
        data_type: "string",
        allowed: "big5,dec8,cp850,hp8,koi8r,latin1,latin2,swe7,ascii,ujis,sjis,hebrew,tis620,euckr,koi8u,gb2312,greek,cp1250,gbk,latin5,armscii8,utf8mb3,ucs2,cp866,keybcs2,macce,macroman,cp852,latin7,utf8mb4,cp1251,utf16,cp1256,cp1257,utf32,binary,geostd8,cp932,eucjpms",
        dynamic: false,
        modifiable: true,
    },
    spec("general_log", "0", "boolean", "0,1", "Whether the general query log is written."),
    spec("long_query_time", "10", "float", "0-31536000", "Queries taking longer than this many seconds go to the slow query log."),
    spec(
        "server_audit_events",
        "",
        "list",
        "CONNECT,QUERY,QUERY_DCL,QUERY_DDL,QUERY_DML,TABLE",
        "Which events Advanced Auditing records; empty records nothing.",
    ),
    spec("server_audit_excl_users", "", "string", "", "Users whose activity is not audited (server_audit_incl_users wins)."),
    spec("server_audit_incl_users", "", "string", "", "Only these users' activity is audited, when set."),
    spec("server_audit_logging", "0", "boolean", "0,1", "Whether Advanced Auditing is on."),
    spec("server_audit_logs_upload", "0", "boolean", "0,1", "Whether audit logs are published to CloudWatch Logs."),
    spec("slow_query_log", "0", "boolean", "0,1", "Whether the slow query log is written."),
];

/// The spec of a parameter, if trailwatch knows it.
pub fn find(name: &str) -> Option<&'static ParameterSpec> {
    PARAMETERS.iter().find(|p| p.name == name)
}

/// Checks a value for a parameter, with RDS's error when it does not fit.
pub fn check(spec: &ParameterSpec, value: &str) -> Result<(), AwsError> {
    let invalid = || AwsError::client("InvalidParameterValue", format!("Value: {value} is not a valid value for parameter: {}", spec.name));
    match spec.data_type {
        "boolean" if !matches!(value, "0" | "1") => Err(invalid()),
        "float" => match value.parse::<f64>() {
            Ok(v) if (0.0..=31_536_000.0).contains(&v) => Ok(()),
            _ => Err(invalid()),
        },
        "list" if !value.is_empty() && value.split(',').any(|e| !AUDIT_EVENTS.contains(&e)) => Err(invalid()),
        "string" if !spec.allowed.is_empty() && !spec.allowed.split(',').any(|a| a == value) => Err(invalid()),
        "string" if spec.name == "aws_default_logs_role" && !value.is_empty() && !value.starts_with("arn:aws:iam::") => Err(invalid()),
        _ => Ok(()),
    }
}

/// A parameter as DescribeDBClusterParameters lists it.
pub fn output(spec: &ParameterSpec, values: &BTreeMap<String, String>) -> Value {
    let mut p = json!({
        "ParameterName": spec.name,
        "Description": spec.description,
        "Source": if values.contains_key(spec.name) { "user" } else { "engine-default" },
        "ApplyType": if spec.dynamic { "dynamic" } else { "static" },
        "DataType": spec.data_type,
        "IsModifiable": spec.modifiable,
        "ApplyMethod": if spec.dynamic { "immediate" } else { "pending-reboot" },
        "SupportedEngineModes": ["provisioned"],
    });
    if !spec.allowed.is_empty() {
        p["AllowedValues"] = json!(spec.allowed);
    }
    let value = values.get(spec.name).map(String::as_str).unwrap_or(spec.default);
    if !value.is_empty() {
        p["ParameterValue"] = json!(value);
    }
    p
}

/// What a running server is told: the effective values of a group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// Advanced Auditing on with at least one event (Aurora audits nothing when the list is empty).
    pub audit_on: bool,
    pub audit_events: String,
    pub incl_users: String,
    pub excl_users: String,
    /// Publish audit records (needs `logs_role`).
    pub audit_upload: bool,
    pub logs_role: Option<String>,
    pub general_log: bool,
    pub slow_query_log: bool,
    pub long_query_time: String,
}

impl Settings {
    /// The effective settings of a group's values.
    pub fn from_values(values: &BTreeMap<String, String>) -> Settings {
        let get = |name: &str| values.get(name).cloned().unwrap_or_else(|| find(name).map(|p| p.default.to_owned()).unwrap_or_default());
        let events = get("server_audit_events");
        Settings {
            audit_on: get("server_audit_logging") == "1" && !events.is_empty(),
            audit_events: events,
            incl_users: get("server_audit_incl_users"),
            excl_users: get("server_audit_excl_users"),
            audit_upload: get("server_audit_logs_upload") == "1",
            logs_role: Some(get("aws_default_logs_role")).filter(|r| !r.is_empty()),
            general_log: get("general_log") == "1",
            slow_query_log: get("slow_query_log") == "1",
            long_query_time: get("long_query_time"),
        }
    }

    /// The statements that put a running MariaDB in line with these settings.
    pub fn statements(&self) -> String {
        let on = |b: bool| if b { "ON" } else { "OFF" };
        format!(
            "SET GLOBAL server_audit_events = {};\nSET GLOBAL server_audit_incl_users = {};\nSET GLOBAL server_audit_excl_users = {};\n\
             SET GLOBAL server_audit_logging = {};\nSET GLOBAL general_log = {};\nSET GLOBAL slow_query_log = {};\nSET GLOBAL long_query_time = {};\n",
            sql_string(&self.audit_events),
            sql_string(&self.incl_users),
            sql_string(&self.excl_users),
            on(self.audit_on),
            on(self.general_log),
            on(self.slow_query_log),
            self.long_query_time.parse::<f64>().unwrap_or(10.0),
        )
    }
}

/// A SQL string literal.
pub fn sql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_events_audit_nothing() {
        let mut v = BTreeMap::new();
        v.insert("server_audit_logging".to_owned(), "1".to_owned());
        assert!(!Settings::from_values(&v).audit_on);
        v.insert("server_audit_events".to_owned(), "CONNECT".to_owned());
        assert!(Settings::from_values(&v).audit_on);
    }

    #[test]
    fn values_are_checked() {
        let events = find("server_audit_events").unwrap();
        assert!(check(events, "CONNECT,QUERY_DDL").is_ok());
        assert!(check(events, "").is_ok());
        assert!(check(events, "CONNECT, QUERY").is_err());
        assert!(check(events, "SELECT").is_err());
        assert!(check(find("server_audit_logging").unwrap(), "2").is_err());
        assert!(check(find("aws_default_logs_role").unwrap(), "arn:aws:iam::1:role/r").is_ok());
        assert!(check(find("aws_default_logs_role").unwrap(), "role").is_err());
        assert!(check(find("long_query_time").unwrap(), "0.5").is_ok());
    }

    #[test]
    fn literals_are_escaped() {
        assert_eq!(sql_string("a'b\\c"), "'a''b\\\\c'");
    }
}
