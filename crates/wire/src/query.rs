//! The Query protocol (IAM, STS, RDS): form-encoded `Action=` requests decoded into the
//! same JSON value the JSON services get, and XML responses and errors written from it,
//! both driven by the botocore model.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::AwsError;
use crate::model::{Model, Shape, ShapeRef};

/// The content type of Query requests.
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// A decoded Query request: its action, version and parameters.
#[derive(Debug, Default, Clone)]
pub struct QueryRequest {
    /// The `Action` parameter: the operation name.
    pub action: Option<String>,
    /// The `Version` parameter: the API version.
    pub version: Option<String>,
    /// Every other parameter, by its flattened name (`Tags.member.1.Key`).
    pub params: BTreeMap<String, String>,
}

/// Parses a form-encoded body (or query string) into a [`QueryRequest`].
pub fn parse_form(body: &[u8]) -> QueryRequest {
    let mut req = QueryRequest::default();
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "Action" => req.action = Some(v.into_owned()),
            "Version" => req.version = Some(v.into_owned()),
            _ => {
                req.params.insert(k.into_owned(), v.into_owned());
            }
        }
    }
    req
}

/// Converts the flattened parameters of an operation into a JSON value shaped by the
/// operation's input shape, so every service validates and reads one representation.
pub fn params_to_value(model: &Model, operation: &str, params: &BTreeMap<String, String>) -> Result<Value, AwsError> {
    let Some(input) = model.operations.get(operation).and_then(|o| o.input.as_ref()) else {
        return Ok(Value::Object(Map::new()));
    };
    Ok(structure_value(model, model.shape(&input.shape), "", params)?.unwrap_or_else(|| Value::Object(Map::new())))
}

fn structure_value(model: &Model, shape: &Shape, prefix: &str, params: &BTreeMap<String, String>) -> Result<Option<Value>, AwsError> {
    let mut obj = Map::new();
    for (name, member) in &shape.members.0 {
        let wire = member.location_name.as_deref().unwrap_or(name);
        let key = if prefix.is_empty() { wire.to_owned() } else { format!("{prefix}.{wire}") };
        if let Some(v) = member_value(model, member, &key, params)? {
            obj.insert(name.clone(), v);
        }
    }
    Ok((!obj.is_empty()).then_some(Value::Object(obj)))
}

fn member_value(model: &Model, member: &ShapeRef, key: &str, params: &BTreeMap<String, String>) -> Result<Option<Value>, AwsError> {
    let shape = model.shape(&member.shape);
    match shape.kind.as_str() {
        "structure" => structure_value(model, shape, key, params),
        "list" => list_value(model, shape, member, key, params),
        "map" => map_value(model, shape, key, params),
        _ => params.get(key).map(|raw| scalar_value(&shape.kind, raw, key)).transpose(),
    }
}

fn list_value(
    model: &Model,
    shape: &Shape,
    member: &ShapeRef,
    key: &str,
    params: &BTreeMap<String, String>,
) -> Result<Option<Value>, AwsError> {
    let item = shape.member.as_ref().expect("list shapes have a member");
    let flattened = member.flattened.or(shape.flattened).unwrap_or(false);
    let base = if flattened { key.to_owned() } else { format!("{key}.{}", item.location_name.as_deref().unwrap_or("member")) };
    // An empty list is sent as `Name=` with no members.
    let explicitly_empty = params.get(key).is_some_and(|v| v.is_empty());
    let mut items = Vec::new();
    for i in 1.. {
        let item_key = format!("{base}.{i}");
        let present =
            params.range(item_key.clone()..).next().is_some_and(|(k, _)| k == &item_key || k.starts_with(&format!("{item_key}.")));
        if !present {
            break;
        }
        items.push(member_value(model, item, &item_key, params)?.unwrap_or(Value::Null));
    }
    if items.is_empty() && !explicitly_empty {
        return Ok(None);
    }
    Ok(Some(Value::Array(items)))
}

fn map_value(model: &Model, shape: &Shape, key: &str, params: &BTreeMap<String, String>) -> Result<Option<Value>, AwsError> {
    let key_ref = shape.key.as_ref().expect("map shapes have a key");
    let value_ref = shape.value.as_ref().expect("map shapes have a value");
    let key_name = key_ref.location_name.as_deref().unwrap_or("key");
    let value_name = value_ref.location_name.as_deref().unwrap_or("value");
    let base = if shape.flattened.unwrap_or(false) { key.to_owned() } else { format!("{key}.entry") };
    let mut map = Map::new();
    for i in 1.. {
        let Some(k) = params.get(&format!("{base}.{i}.{key_name}")) else { break };
        let v = member_value(model, value_ref, &format!("{base}.{i}.{value_name}"), params)?;
        map.insert(k.clone(), v.unwrap_or(Value::Null));
    }
    Ok((!map.is_empty()).then_some(Value::Object(map)))
}

fn scalar_value(kind: &str, raw: &str, key: &str) -> Result<Value, AwsError> {
    let bad = || AwsError::client("MalformedInput", format!("Invalid value '{raw}' for parameter {key}"));
    Ok(match kind {
        "integer" | "long" => Value::from(raw.trim().parse::<i64>().map_err(|_| bad())?),
        "double" | "float" => Value::from(raw.trim().parse::<f64>().map_err(|_| bad())?),
        "boolean" => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        _ => Value::String(raw.to_owned()),
    })
}

/// The XML namespace of a Query service's responses.
pub fn namespace(model: &Model) -> String {
    model
        .metadata
        .xml_namespace
        .clone()
        .unwrap_or_else(|| format!("https://{}.amazonaws.com/doc/{}/", model.metadata.endpoint_prefix, model.metadata.api_version))
}

/// Writes an operation's result as AWS's `<OpResponse><OpResult>...` XML document.
pub fn response_xml(model: &Model, operation: &str, output: &Value, request_id: &str) -> String {
    let ns = namespace(model);
    let mut xml = format!("<{operation}Response xmlns=\"{ns}\">");
    let out_ref = model.operations.get(operation).and_then(|o| o.output.as_ref());
    if let Some(out_ref) = out_ref {
        let wrapper = out_ref.result_wrapper.clone().unwrap_or_else(|| format!("{operation}Result"));
        xml.push_str(&format!("<{wrapper}>"));
        write_structure(model, model.shape(&out_ref.shape), output, &mut xml);
        xml.push_str(&format!("</{wrapper}>"));
    }
    xml.push_str(&format!("<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{operation}Response>"));
    xml
}

/// Writes an error as the Query protocol's `<ErrorResponse>` document.
pub fn error_xml(namespace: &str, err: &AwsError, request_id: &str) -> String {
    let kind = if err.is_sender_fault() { "Sender" } else { "Receiver" };
    format!(
        "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        escape(&err.code),
        escape(&err.message)
    )
}

fn write_structure(model: &Model, shape: &Shape, value: &Value, xml: &mut String) {
    let Value::Object(obj) = value else { return };
    for (name, member) in &shape.members.0 {
        let Some(v) = obj.get(name).filter(|v| !v.is_null()) else { continue };
        let tag = member.location_name.as_deref().unwrap_or(name);
        write_member(model, member, tag, v, xml);
    }
}

fn write_member(model: &Model, member: &ShapeRef, tag: &str, value: &Value, xml: &mut String) {
    let shape = model.shape(&member.shape);
    match shape.kind.as_str() {
        "list" => {
            let item = shape.member.as_ref().expect("list shapes have a member");
            let item_tag = item.location_name.as_deref().unwrap_or("member");
            let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
            if member.flattened.or(shape.flattened).unwrap_or(false) {
                for v in items {
                    write_member(model, item, tag, v, xml);
                }
                return;
            }
            xml.push_str(&format!("<{tag}>"));
            for v in items {
                write_member(model, item, item_tag, v, xml);
            }
            xml.push_str(&format!("</{tag}>"));
        }
        "map" => {
            xml.push_str(&format!("<{tag}>"));
            let (k_ref, v_ref) = (shape.key.as_ref().expect("map key"), shape.value.as_ref().expect("map value"));
            for (k, v) in value.as_object().into_iter().flatten() {
                xml.push_str("<entry>");
                write_member(model, k_ref, k_ref.location_name.as_deref().unwrap_or("key"), &Value::String(k.clone()), xml);
                write_member(model, v_ref, v_ref.location_name.as_deref().unwrap_or("value"), v, xml);
                xml.push_str("</entry>");
            }
            xml.push_str(&format!("</{tag}>"));
        }
        "structure" => {
            xml.push_str(&format!("<{tag}>"));
            write_structure(model, shape, value, xml);
            xml.push_str(&format!("</{tag}>"));
        }
        kind => {
            let text = match value {
                Value::String(s) => escape(s),
                // Services hand timestamps over as epoch seconds, as the JSON protocols
                // carry them; Query writes ISO 8601.
                Value::Number(n) if kind == "timestamp" => iso8601(n.as_f64().unwrap_or_default()),
                other => other.to_string(),
            };
            xml.push_str(&format!("<{tag}>{text}</{tag}>"));
        }
    }
}

/// Epoch seconds as `2026-11-21T23:50:00.000Z`.
fn iso8601(seconds: f64) -> String {
    let nanos = (seconds * 1e9).round() as i128;
    crate::rest_xml::format_iso(time::OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(time::OffsetDateTime::UNIX_EPOCH))
}

/// Escapes text for an XML element body.
pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sts() -> Model {
        Model::parse(include_str!("../models/sts.json"))
    }

    #[test]
    fn decodes_nested_params() {
        let body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=s&DurationSeconds=900&Tags.member.1.Key=k&Tags.member.1.Value=v&PolicyArns.member.1.arn=arn%3Ap";
        let req = parse_form(body);
        assert_eq!(req.action.as_deref(), Some("AssumeRole"));
        let v = params_to_value(&sts(), "AssumeRole", &req.params).unwrap();
        assert_eq!(v["RoleArn"], "arn:aws:iam::1:role/r");
        assert_eq!(v["DurationSeconds"], 900);
        assert_eq!(v["Tags"], json!([{"Key": "k", "Value": "v"}]));
        assert_eq!(v["PolicyArns"], json!([{"arn": "arn:p"}]));
    }

    #[test]
    fn rejects_non_numeric_integer() {
        let req = parse_form(b"Action=AssumeRole&DurationSeconds=abc");
        assert!(params_to_value(&sts(), "AssumeRole", &req.params).is_err());
    }

    #[test]
    fn writes_result_xml() {
        let out = json!({"UserId": "123", "Account": "123", "Arn": "arn:aws:iam::123:root"});
        let xml = response_xml(&sts(), "GetCallerIdentity", &out, "rid");
        assert_eq!(
            xml,
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><UserId>123</UserId><Account>123</Account><Arn>arn:aws:iam::123:root</Arn></GetCallerIdentityResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
        );
    }

    #[test]
    fn writes_numeric_timestamps_as_iso8601() {
        assert_eq!(iso8601(1_763_769_000.5), "2025-11-21T23:50:00.500Z");
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn writes_error_xml() {
        let e = AwsError::client("SignatureDoesNotMatch", "a < b");
        let xml = error_xml("https://sts.amazonaws.com/doc/2011-06-15/", &e, "r1");
        assert!(xml.contains("<Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>a &lt; b</Message>"));
    }
}
