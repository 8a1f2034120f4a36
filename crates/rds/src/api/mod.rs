//! The RDS operations: each changes or reads documents in the catalog; the supervisor
//! does the slow part (starting servers, dumping, stopping) and moves the states on.

mod clusters;
mod events;
mod groups;
mod instances;
mod snapshots;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wire::{AwsError, CallContext};

use crate::Rds;
use crate::docs::Home;

/// Runs one operation.
pub async fn call(rds: &Rds, ctx: &CallContext, name: &str, input: &Value) -> Result<Value, AwsError> {
    let home = Home { account_id: ctx.account_id.clone(), region: ctx.region.clone() };
    let r = Request { rds, home, input, now: ctx.now_millis };
    match name {
        "CreateDBClusterParameterGroup"
        | "DescribeDBClusterParameterGroups"
        | "DescribeDBClusterParameters"
        | "ModifyDBClusterParameterGroup"
        | "ResetDBClusterParameterGroup"
        | "DeleteDBClusterParameterGroup" => groups::call(&r, name).await,
        "CreateDBCluster"
        | "DescribeDBClusters"
        | "ModifyDBCluster"
        | "DeleteDBCluster"
        | "AddRoleToDBCluster"
        | "RemoveRoleFromDBCluster" => clusters::call(&r, name).await,
        "CreateDBInstance" | "DescribeDBInstances" | "ModifyDBInstance" | "RebootDBInstance" | "DeleteDBInstance" => {
            instances::call(&r, name).await
        }
        "CreateDBSnapshot" | "DescribeDBSnapshots" | "DeleteDBSnapshot" => snapshots::call(&r, name).await,
        "DescribeEvents" => events::describe(&r).await,
        other => Err(AwsError::client("InvalidAction", format!("Could not find operation {other}"))),
    }
}

/// One call: the state, where it acts, its input and its time.
pub(crate) struct Request<'a> {
    pub rds: &'a Rds,
    pub home: Home,
    pub input: &'a Value,
    pub now: i64,
}

impl Request<'_> {
    /// A string member.
    pub fn str(&self, member: &str) -> Option<&str> {
        self.input.get(member).and_then(Value::as_str)
    }

    pub fn bool(&self, member: &str) -> Option<bool> {
        self.input.get(member).and_then(Value::as_bool)
    }

    pub fn int(&self, member: &str) -> Option<i64> {
        self.input.get(member).and_then(Value::as_i64)
    }

    /// A list of strings member.
    pub fn strings(&self, member: &str) -> Vec<String> {
        self.input
            .get(member)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// An identifier member, checked as RDS checks identifiers and lower-cased as RDS keeps them.
    pub fn identifier(&self, member: &str) -> Result<String, AwsError> {
        let value = self.str(member).unwrap_or_default();
        let b = value.as_bytes();
        let valid = !b.is_empty()
            && b.len() <= 255
            && b[0].is_ascii_alphabetic()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && !value.ends_with('-')
            && !value.contains("--");
        if !valid {
            return Err(invalid(format!(
                "The parameter {member} is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens."
            )));
        }
        Ok(value.to_lowercase())
    }

    /// A document, if it exists.
    pub async fn load<T: DeserializeOwned>(&self, kind: &str, name: &str) -> Result<Option<T>, AwsError> {
        let body = self.rds.store.rds_get(&self.home.account_id, &self.home.region, kind, name).await.map_err(internal)?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| internal(format!("stored {kind} {name}: {e}")))).transpose()
    }

    /// Every document of a kind here.
    pub async fn list<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<T>, AwsError> {
        let bodies = self.rds.store.rds_list(&self.home.account_id, &self.home.region, kind).await.map_err(internal)?;
        bodies.iter().map(|b| serde_json::from_str(b).map_err(|e| internal(format!("stored {kind}: {e}")))).collect()
    }

    /// Creates a document; `exists` is the error when the name is taken.
    pub async fn insert<T: Serialize>(&self, kind: &str, name: &str, doc: &T, exists: AwsError) -> Result<(), AwsError> {
        let body = serde_json::to_string(doc).map_err(internal)?;
        let created = self.rds.store.rds_insert(&self.home.account_id, &self.home.region, kind, name, &body).await.map_err(internal)?;
        if created { Ok(()) } else { Err(exists) }
    }

    /// Replaces a document.
    pub async fn save<T: Serialize>(&self, kind: &str, name: &str, doc: &T) -> Result<(), AwsError> {
        let body = serde_json::to_string(doc).map_err(internal)?;
        self.rds.store.rds_update(&self.home.account_id, &self.home.region, kind, name, &body).await.map_err(internal)?;
        Ok(())
    }

    /// One page of `items` (sorted by name) after the request's Marker, at most MaxRecords.
    pub fn page<T>(&self, items: Vec<T>, name: impl Fn(&T) -> &str) -> Result<(Vec<T>, Option<String>), AwsError> {
        let max = self.int("MaxRecords").unwrap_or(100);
        if !(20..=100).contains(&max) {
            return Err(invalid(format!("Invalid value {max} for MaxRecords. Must be between 20 and 100")));
        }
        let after = self.str("Marker").map(str::to_owned);
        let mut items: Vec<T> = match &after {
            Some(m) => items.into_iter().skip_while(|i| name(i) <= m.as_str()).collect(),
            None => items,
        };
        let max = max as usize;
        let marker = (items.len() > max).then(|| name(&items[max - 1]).to_owned());
        items.truncate(max);
        Ok((items, marker))
    }

    /// The values of a Describe call's `Filters` entry of that name.
    pub fn filter(&self, name: &str) -> Option<Vec<String>> {
        let filters = self.input.get("Filters")?.as_array()?;
        let f = filters.iter().find(|f| f["Name"].as_str() == Some(name))?;
        Some(f["Values"].as_array()?.iter().filter_map(|v| v.as_str().map(str::to_lowercase)).collect())
    }

    /// Refuses filters the call does not know, as RDS does.
    pub fn known_filters(&self, known: &[&str]) -> Result<(), AwsError> {
        let Some(filters) = self.input.get("Filters").and_then(Value::as_array) else { return Ok(()) };
        for f in filters {
            let name = f["Name"].as_str().unwrap_or_default();
            if !known.contains(&name) {
                return Err(invalid(format!("Unrecognized filter name: {name}.")));
            }
        }
        Ok(())
    }
}

/// InvalidParameterValue with a message.
pub(crate) fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterValue", message)
}

/// InvalidParameterCombination with a message.
pub(crate) fn combination(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterCombination", message)
}

/// A not-found fault (404).
pub(crate) fn not_found(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(code, 404, message)
}

pub(crate) fn internal(e: impl std::fmt::Display) -> AwsError {
    AwsError::new("InternalFailure", 500, e.to_string())
}

/// Tags from a request's `Tags` member.
pub(crate) fn tags(input: &Value) -> Vec<(String, String)> {
    input
        .get("Tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|t| (t["Key"].as_str().unwrap_or_default().to_owned(), t["Value"].as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The engines trailwatch runs, all on MariaDB.
pub(crate) fn check_engine(engine: &str) -> Result<(), AwsError> {
    match engine {
        "aurora-mysql" | "mysql" | "mariadb" => Ok(()),
        other => Err(invalid(format!("Invalid DB engine: {other}"))),
    }
}

/// Log types an engine can export, checked as RDS checks them.
pub(crate) fn check_log_types(types: &[String], engine: &str) -> Result<(), AwsError> {
    for t in types {
        if !crate::publish::LOG_TYPES.contains(&t.as_str()) {
            return Err(invalid(format!("You cannot use the log type {t} with engine {engine}.")));
        }
    }
    Ok(())
}

/// Checks a master password as RDS does.
pub(crate) fn check_password(password: Option<&str>) -> Result<&str, AwsError> {
    let p = password
        .filter(|p| !p.is_empty())
        .ok_or_else(|| invalid("The parameter MasterUserPassword must be provided and must not be blank."))?;
    if p.len() < 8 || p.len() > 41 {
        return Err(invalid("The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters."));
    }
    if p.chars().any(|c| matches!(c, '/' | '"' | '@') || !c.is_ascii_graphic()) {
        return Err(invalid(
            "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used.",
        ));
    }
    Ok(p)
}

/// Checks a master user name as RDS does.
pub(crate) fn check_username(name: Option<&str>) -> Result<&str, AwsError> {
    let n =
        name.filter(|n| !n.is_empty()).ok_or_else(|| invalid("The parameter MasterUsername must be provided and must not be blank."))?;
    let b = n.as_bytes();
    if b.len() > 16 || !b[0].is_ascii_alphabetic() || !b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_') {
        return Err(invalid(
            "MasterUsername must start with a letter, contain only letters, digits and underscores, and be at most 16 characters.",
        ));
    }
    if matches!(n.to_lowercase().as_str(), "root" | "rdsadmin" | "mysql" | "mariadb.sys") {
        return Err(invalid(format!("MasterUsername {n} cannot be used as it is a reserved word used by the engine")));
    }
    Ok(n)
}

/// A new resource ID like RDS's (`db-`/`cluster-` and 26 base32 characters).
pub(crate) fn resource_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bytes: Vec<u8> = uuid::Uuid::new_v4().into_bytes().into_iter().chain(uuid::Uuid::new_v4().into_bytes()).collect();
    let id: String = bytes.iter().take(26).map(|b| ALPHABET[(*b as usize) % 32] as char).collect();
    format!("{prefix}-{id}")
}
