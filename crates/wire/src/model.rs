//! botocore service models: the exact wire contract, loaded once and used to validate
//! input and to drive the Query/XML codecs.

use std::collections::HashMap;
use std::fmt::Write as _;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

/// A botocore `service-2.json` model, parsed, with compiled member patterns.
#[derive(Debug)]
pub struct Model {
    /// The model's metadata block (apiVersion, targetPrefix, xmlNamespace, ...).
    pub metadata: Metadata,
    /// Operations by name.
    pub operations: HashMap<String, Operation>,
    /// Shapes by name.
    pub shapes: HashMap<String, Shape>,
    patterns: HashMap<String, Regex>,
}

/// The parts of a model's metadata that the codecs use.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The API version, e.g. `2014-03-28`.
    pub api_version: String,
    /// The endpoint prefix, also the SigV4 signing name unless `signingName` is set.
    pub endpoint_prefix: String,
    /// The JSON 1.1 `X-Amz-Target` prefix.
    pub target_prefix: Option<String>,
    /// The XML namespace of Query responses.
    pub xml_namespace: Option<String>,
    /// The SigV4 signing name when it differs from the endpoint prefix.
    pub signing_name: Option<String>,
    /// Every protocol the service accepts, preferred first (`["smithy-rpc-v2-cbor", "json", "query"]`).
    #[serde(default)]
    pub protocols: Vec<String>,
    /// The JSON protocol's version, `1.0` or `1.1`.
    pub json_version: Option<String>,
    /// Present (as `{}`) when the service moved off the Query protocol and keeps its Query
    /// error codes in an `x-amzn-query-error` header (see [`Metadata::aws_query_compatible`]).
    aws_query_compatible: Option<Value>,
}

impl Metadata {
    /// Whether the model carries `awsQueryCompatible`: clients then read the error code from
    /// the `x-amzn-query-error` header rather than from the body's `__type`.
    pub fn aws_query_compatible(&self) -> bool {
        self.aws_query_compatible.is_some()
    }

    /// Whether the service accepts a protocol by botocore's name (`json`, `query`, `smithy-rpc-v2-cbor`).
    pub fn speaks(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|p| p == protocol)
    }
}

/// One operation of a model.
#[derive(Debug, Deserialize)]
pub struct Operation {
    /// The operation's name.
    pub name: String,
    /// The input shape.
    pub input: Option<ShapeRef>,
    /// The output shape (and its Query result wrapper).
    pub output: Option<ShapeRef>,
    /// Where a REST protocol routes the operation (method, URI template, success status).
    pub http: Option<Http>,
    /// Whether the model marks the operation deprecated (a newer one shares its route).
    #[serde(default)]
    pub deprecated: bool,
}

/// The HTTP binding of an operation in a REST protocol.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http {
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The URI template: `/{Bucket}/{Key+}?uploads`.
    pub request_uri: String,
    /// The status of a successful response when it is not 200.
    pub response_code: Option<u16>,
}

/// A reference from an operation or member to a shape.
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ShapeRef {
    /// The referenced shape's name.
    pub shape: String,
    /// The Query protocol's `<XResult>` wrapper element.
    pub result_wrapper: Option<String>,
    /// The wire name when it differs from the member name.
    pub location_name: Option<String>,
    /// Whether a Query list is flattened (`Name.1`) rather than wrapped (`Name.member.1`).
    pub flattened: Option<bool>,
    /// Where a REST protocol carries the member: `uri`, `querystring`, `header`,
    /// `headers` (a prefix map) or `statusCode`; `None` is the body.
    pub location: Option<String>,
}

/// A shape: the type of a value on the wire and its constraints.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    /// structure, list, map, string, integer, long, boolean, timestamp, blob, double, float.
    #[serde(rename = "type")]
    pub kind: String,
    /// Structure members, in model order.
    #[serde(default)]
    pub members: indexmap_like::OrderedMembers,
    /// Required structure members.
    #[serde(default)]
    pub required: Vec<String>,
    /// List element shape.
    pub member: Option<ShapeRef>,
    /// Map key shape.
    pub key: Option<ShapeRef>,
    /// Map value shape.
    pub value: Option<ShapeRef>,
    /// Minimum length or value.
    pub min: Option<f64>,
    /// Maximum length or value.
    pub max: Option<f64>,
    /// A pattern the whole string must match.
    pub pattern: Option<String>,
    /// Allowed string values.
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    /// Whether a Query list is flattened.
    pub flattened: Option<bool>,
    /// Whether the shape is an error.
    #[serde(default)]
    pub exception: bool,
    /// Whether values of the shape are secrets (passwords, secret keys, tokens): masked
    /// in any record of a call.
    #[serde(default)]
    pub sensitive: bool,
    /// The member a REST protocol sends as the whole body.
    pub payload: Option<String>,
    /// How a timestamp is written when not in the protocol's default format.
    pub timestamp_format: Option<String>,
    /// The element name of the shape in XML, when it differs from the shape's name.
    pub location_name: Option<String>,
}

/// Structure members kept in model order (serde_json's `preserve_order` map).
pub mod indexmap_like {
    use super::ShapeRef;
    use serde::Deserialize;

    /// Members of a structure in the order the model lists them.
    #[derive(Debug, Default)]
    pub struct OrderedMembers(pub Vec<(String, ShapeRef)>);

    impl<'de> Deserialize<'de> for OrderedMembers {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            // Read the map entry by entry: the document order is the wire order of
            // Query/XML members, whatever map type serde_json is built with.
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = OrderedMembers;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a map of structure members")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<OrderedMembers, A::Error> {
                    let mut out = Vec::new();
                    while let Some((name, r)) = map.next_entry::<String, ShapeRef>()? {
                        out.push((name, r));
                    }
                    Ok(OrderedMembers(out))
                }
            }
            d.deserialize_map(Visitor)
        }
    }

    impl OrderedMembers {
        /// The member of that name.
        pub fn get(&self, name: &str) -> Option<&ShapeRef> {
            self.0.iter().find(|(n, _)| n == name).map(|(_, r)| r)
        }
    }
}

#[derive(Deserialize)]
struct RawModel {
    metadata: Metadata,
    operations: HashMap<String, Operation>,
    shapes: HashMap<String, Shape>,
}

impl Model {
    /// Parses a model; panics on a malformed model because models are embedded at build time.
    pub fn parse(json: &str) -> Model {
        let raw: RawModel = serde_json::from_str(json).expect("embedded botocore model parses");
        let mut patterns = HashMap::new();
        for (name, shape) in &raw.shapes {
            let Some(p) = &shape.pattern else { continue };
            // botocore patterns are Java regexes matched against the whole value.
            if let Ok(re) = Regex::new(&format!("^(?:{p})$")) {
                patterns.insert(name.clone(), re);
            }
        }
        Model { metadata: raw.metadata, operations: raw.operations, shapes: raw.shapes, patterns }
    }

    /// The shape of that name; panics if the model references a missing shape.
    pub fn shape(&self, name: &str) -> &Shape {
        self.shapes.get(name).unwrap_or_else(|| panic!("model has shape {name}"))
    }

    /// The SigV4 signing name of the service.
    pub fn signing_name(&self) -> &str {
        self.metadata.signing_name.as_deref().unwrap_or(&self.metadata.endpoint_prefix)
    }

    /// Validates an operation's input against its shape, returning AWS's
    /// "N validation error(s) detected: ..." message when it breaks a constraint.
    pub fn validate_input(&self, operation: &str, input: &Value) -> Result<(), String> {
        let Some(shape) = self.operations.get(operation).and_then(|o| o.input.as_ref()) else {
            return Ok(());
        };
        let mut problems = Vec::new();
        self.validate_structure(&shape.shape, input, &Path::Root, &mut problems);
        if problems.is_empty() {
            return Ok(());
        }
        Err(validation_message(&problems))
    }

    fn validate_structure(&self, shape_name: &str, value: &Value, path: &Path<'_>, out: &mut Vec<String>) {
        let shape = self.shape(shape_name);
        let Value::Object(obj) = value else { return };
        for (name, member) in &shape.members.0 {
            let member_path = Path::Member(path, name);
            match obj.get(name) {
                None | Some(Value::Null) if shape.required.contains(name) => {
                    out.push(format!("Value null at '{member_path}' failed to satisfy constraint: Member must not be null"));
                }
                None | Some(Value::Null) => {}
                Some(v) => self.validate_value(&member.shape, v, &member_path, out),
            }
        }
    }

    fn validate_value(&self, shape_name: &str, value: &Value, path: &Path<'_>, out: &mut Vec<String>) {
        let shape = self.shape(shape_name);
        match (shape.kind.as_str(), value) {
            ("structure", _) => self.validate_structure(shape_name, value, path, out),
            ("list", Value::Array(items)) => {
                self.check_length(shape, items.len(), || display_value(value), path, out);
                let member = shape.member.as_ref().expect("list shapes have a member");
                for (i, item) in items.iter().enumerate() {
                    if item.is_null() {
                        continue;
                    }
                    self.validate_value(&member.shape, item, &Path::Item(path, i + 1), out);
                }
            }
            ("map", Value::Object(map)) => {
                self.check_length(shape, map.len(), || display_value(value), path, out);
                let key = shape.key.as_ref().expect("map shapes have a key");
                let val = shape.value.as_ref().expect("map shapes have a value");
                for (k, v) in map {
                    self.validate_value(&key.shape, &Value::String(k.clone()), &Path::Key(path), out);
                    self.validate_value(&val.shape, v, &Path::Entry(path, k), out);
                }
            }
            ("string", Value::String(s)) => self.validate_string(shape_name, shape, s, path, out),
            ("integer" | "long" | "double" | "float", Value::Number(n)) => {
                let Some(x) = n.as_f64() else { return };
                if let Some(min) = shape.min.filter(|m| x < *m) {
                    out.push(format!(
                        "Value '{n}' at '{path}' failed to satisfy constraint: Member must have value greater than or equal to {}",
                        min as i64
                    ));
                }
                if let Some(max) = shape.max.filter(|m| x > *m) {
                    out.push(format!(
                        "Value '{n}' at '{path}' failed to satisfy constraint: Member must have value less than or equal to {}",
                        max as i64
                    ));
                }
            }
            _ => {}
        }
    }

    fn validate_string(&self, shape_name: &str, shape: &Shape, s: &str, path: &Path<'_>, out: &mut Vec<String>) {
        // AWS counts string length in UTF-16 code units, as Java does. Only count when a
        // bound exists: this runs over every message of a PutLogEvents batch.
        if shape.min.is_some() || shape.max.is_some() {
            let len = if s.is_ascii() { s.len() } else { s.encode_utf16().count() };
            self.check_length(shape, len, || s.to_owned(), path, out);
        }
        if self.patterns.get(shape_name).is_some_and(|re| !re.is_match(s)) {
            let pattern = shape.pattern.as_deref().unwrap_or_default();
            out.push(format!(
                "Value '{s}' at '{path}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
            ));
        }
        if let Some(values) = shape.enum_values.as_ref().filter(|v| !v.iter().any(|e| e == s)) {
            out.push(format!(
                "Value '{s}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                values.join(", ")
            ));
        }
    }

    /// Checks a length against the shape's bounds; `shown` renders the value only when it is reported.
    fn check_length(&self, shape: &Shape, len: usize, shown: impl Fn() -> String, path: &Path<'_>, out: &mut Vec<String>) {
        if let Some(min) = shape.min.filter(|m| (len as f64) < *m) {
            out.push(format!(
                "Value '{}' at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {}",
                shown(),
                min as i64
            ));
        }
        if let Some(max) = shape.max.filter(|m| (len as f64) > *m) {
            out.push(format!(
                "Value '{}' at '{path}' failed to satisfy constraint: Member must have length less than or equal to {}",
                shown(),
                max as i64
            ));
        }
    }
}

/// Where a value sits in the input, rendered as AWS does (`logEvents.3.member.message`)
/// only when a violation is reported: validation runs over every event of a batch.
enum Path<'a> {
    Root,
    Member(&'a Path<'a>, &'a str),
    Item(&'a Path<'a>, usize),
    Key(&'a Path<'a>),
    Entry(&'a Path<'a>, &'a str),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Member(Path::Root, name) => f.write_str(name),
            Path::Member(parent, name) => write!(f, "{parent}.{name}"),
            Path::Item(parent, i) => write!(f, "{parent}.{i}.member"),
            Path::Key(parent) => write!(f, "{parent}.key"),
            Path::Entry(parent, k) => write!(f, "{parent}.{k}.member"),
        }
    }
}

/// How AWS prints a value inside a validation message: strings bare, lists in brackets.
fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let mut s = String::from("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                let _ = write!(s, "{}", display_value(item));
            }
            s.push(']');
            s
        }
        Value::Object(map) => {
            let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k}={}", display_value(v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// AWS's wording for one or more constraint violations.
pub fn validation_message(problems: &[String]) -> String {
    let n = problems.len();
    let noun = if n == 1 { "error" } else { "errors" };
    format!("{n} validation {noun} detected: {}", problems.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn logs() -> Model {
        Model::parse(include_str!("../models/logs.json"))
    }

    #[test]
    fn missing_required_member() {
        let err = logs().validate_input("CreateLogGroup", &json!({})).unwrap_err();
        assert_eq!(err, "1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null");
    }

    #[test]
    fn pattern_and_length() {
        let err = logs().validate_input("CreateLogGroup", &json!({"logGroupName": "bad name"})).unwrap_err();
        assert_eq!(
            err,
            "1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        );
        let long = "a".repeat(513);
        let err = logs().validate_input("CreateLogGroup", &json!({"logGroupName": long})).unwrap_err();
        assert!(err.ends_with("Member must have length less than or equal to 512"), "{err}");
    }

    #[test]
    fn nested_list_members_and_counts() {
        let input = json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": 1, "message": ""}, {"message": "x"}]});
        let err = logs().validate_input("PutLogEvents", &input).unwrap_err();
        assert!(err.starts_with("2 validation errors detected: "), "{err}");
        assert!(
            err.contains(
                "Value '' at 'logEvents.1.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1"
            ),
            "{err}"
        );
        assert!(err.contains("Value null at 'logEvents.2.member.timestamp'"), "{err}");
    }

    #[test]
    fn enum_and_range() {
        let err = logs().validate_input("DescribeLogGroups", &json!({"limit": 51, "logGroupClass": "GOLD"})).unwrap_err();
        assert!(
            err.contains("Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50"),
            "{err}"
        );
        assert!(err.contains("Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]"), "{err}");
    }

    #[test]
    fn valid_input_passes() {
        let input = json!({"logGroupName": "/aws/rds/cluster/x/audit", "tags": {"team": "db"}});
        assert_eq!(logs().validate_input("CreateLogGroup", &input), Ok(()));
    }
}
