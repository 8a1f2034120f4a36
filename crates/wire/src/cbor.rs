//! The Smithy RPC v2 CBOR protocol (CloudWatch metrics): `POST /service/{Service}/operation/{Operation}`
//! routing, CBOR bodies turned into the same JSON value every other codec produces (and back)
//! by walking the botocore shapes, and CBOR error bodies.
//!
//! What the pipeline must do around these functions (checked against botocore's
//! `RpcV2CBORSerializer`/`RpcV2CBORParser` and the Smithy specification):
//! - Requests arrive as `POST`, with `smithy-protocol: rpc-v2-cbor`, `Content-Type: application/cbor`
//!   and `Accept: application/cbor`; botocore adds `x-amzn-query-mode: true` for services whose
//!   model is [`awsQueryCompatible`](crate::model::Metadata::aws_query_compatible). The service
//!   segment of the path is the model's `targetPrefix` (`GraniteServiceVersion20100801`).
//!   Requests carrying `X-Amz-Target` must be refused: the specification calls them malformed.
//! - Responses are 200 with `smithy-protocol: rpc-v2-cbor` and `Content-Type: application/cbor`;
//!   an operation without an output shape answers with no body and no `Content-Type`.
//! - Errors use the error's own status (400 client, 500 server, or the code's modelled status)
//!   with [`encode_error`]'s body. For an `awsQueryCompatible` service the pipeline must also set
//!   `x-amzn-query-error` to [`query_error_header`]: botocore and the AWS SDK for Rust then take
//!   the error code (and Sender/Receiver) from that header instead of `__type`.
//!
//! Who sends CBOR: Smithy-generated SDKs (the AWS SDK for Rust's CloudWatch client encodes
//! with `aws-smithy-cbor`). botocore, and so boto3 and both aws CLIs, does not: it picks the
//! first of its own priority list (`json`, `rest-json`, `rest-xml`, `smithy-rpc-v2-cbor`, ...)
//! that the model lists, so it calls CloudWatch with JSON 1.0 (`X-Amz-Target:
//! GraniteServiceVersion20100801.PutMetricData`, `x-amzn-query-mode: true`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ciborium::Value as Cbor;
use serde_json::{Map, Number, Value};

use crate::error::AwsError;
use crate::json::serialization_error;
use crate::model::Model;

/// The content type of RPC v2 CBOR requests and responses.
pub const CONTENT_TYPE: &str = "application/cbor";

/// The header naming the protocol on every request and response.
pub const PROTOCOL_HEADER: &str = "smithy-protocol";

/// The value of [`PROTOCOL_HEADER`].
pub const PROTOCOL: &str = "rpc-v2-cbor";

/// The header carrying `Code;Sender` (or `Code;Receiver`) on errors of `awsQueryCompatible` services.
pub const QUERY_ERROR_HEADER: &str = "x-amzn-query-error";

/// The header (`true`) clients send to `awsQueryCompatible` services.
pub const QUERY_MODE_HEADER: &str = "x-amzn-query-mode";

/// CBOR's tag for an epoch-based date/time (RFC 8949 §3.4.2), how the protocol marks timestamps.
const EPOCH_TAG: u64 = 1;

/// Parses the request path `/service/{ServiceName}/operation/{OperationName}`; returns (service, operation).
pub fn parse_path(path: &str) -> Option<(&str, &str)> {
    // Only the last four segments route: the specification allows a prefix (`/v1/service/...`).
    let mut segments = path.rsplitn(5, '/');
    let operation = segments.next()?;
    (segments.next()? == "operation").then_some(())?;
    let service = segments.next()?;
    (segments.next()? == "service").then_some(())?;
    // Whatever precedes `/service` (the prefix, or nothing) must exist: the path is absolute.
    segments.next()?;
    // Services should accept an absolute shape ID with `#` written as `.`
    // (`com.amazonaws.cloudwatch.GraniteServiceVersion20100801`); operations must not.
    let service = service.rsplit('.').next()?;
    (is_identifier(service) && is_identifier(operation)).then_some((service, operation))
}

/// Whether a path segment is a Smithy shape name: letters, digits and `_`, not starting with a digit.
fn is_identifier(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| !b.is_ascii_digit()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Decodes a CBOR request body into the JSON value the pipeline validates, walking `shape` (the operation's input shape name). An empty body is `{}`.
pub fn decode_input(model: &Model, shape: Option<&str>, body: &[u8]) -> Result<Value, AwsError> {
    // An operation without input has no body to read (the specification forbids sending one).
    let Some(shape) = shape.filter(|_| !body.is_empty()) else {
        return Ok(Value::Object(Map::new()));
    };
    let mut rest = body;
    let cbor: Cbor = ciborium::de::from_reader(&mut rest).map_err(|e| serialization_error(malformed(e)))?;
    if !rest.is_empty() {
        return Err(serialization_error(format!("Unexpected data after the CBOR body at byte {}", body.len() - rest.len())));
    }
    match cbor {
        Cbor::Map(_) => decode_structure(model, shape, cbor, &Path::Root),
        _ => Err(serialization_error("Expected a CBOR map as the request body")),
    }
}

/// Words a CBOR syntax error for the caller; ciborium's own Display is its Debug form.
fn malformed(err: ciborium::de::Error<std::io::Error>) -> String {
    match err {
        ciborium::de::Error::Io(_) => "Unexpected end of the CBOR body".to_owned(),
        ciborium::de::Error::Syntax(at) => format!("Malformed CBOR at byte {at}"),
        ciborium::de::Error::Semantic(_, msg) => format!("Malformed CBOR: {msg}"),
        ciborium::de::Error::RecursionLimitExceeded => "The CBOR body is nested too deeply".to_owned(),
    }
}

/// Where a value sits in the request, rendered only when it is reported (`MetricData[2].Timestamp`).
enum Path<'a> {
    Root,
    Member(&'a Path<'a>, &'a str),
    Item(&'a Path<'a>, usize),
    Entry(&'a Path<'a>, &'a str),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Member(Path::Root, name) => f.write_str(name),
            Path::Member(parent, name) => write!(f, "{parent}.{name}"),
            Path::Item(parent, i) => write!(f, "{parent}[{i}]"),
            Path::Entry(parent, key) => write!(f, "{parent}[{key:?}]"),
        }
    }
}

/// The error for a value whose CBOR type does not fit its shape.
fn mismatch(expected: &str, path: &Path<'_>) -> AwsError {
    match path {
        Path::Root => serialization_error(format!("Expected {expected}")),
        _ => serialization_error(format!("Expected {expected} at '{path}'")),
    }
}

fn decode_structure(model: &Model, shape_name: &str, value: Cbor, path: &Path<'_>) -> Result<Value, AwsError> {
    let Cbor::Map(entries) = value else { return Err(mismatch("a map", path)) };
    let shape = model.shape(shape_name);
    let mut obj = Map::new();
    for (key, value) in entries {
        let Cbor::Text(key) = key else { return Err(mismatch("text member names", path)) };
        // Null means absent; unknown members are ignored, as the JSON protocol does.
        if value.is_null() {
            continue;
        }
        let found = shape.members.0.iter().find(|(name, r)| *name == key || r.location_name.as_deref() == Some(key.as_str()));
        let Some((name, member)) = found else { continue };
        let decoded = decode_value(model, &member.shape, value, &Path::Member(path, name))?;
        obj.insert(name.clone(), decoded);
    }
    Ok(Value::Object(obj))
}

fn decode_value(model: &Model, shape_name: &str, value: Cbor, path: &Path<'_>) -> Result<Value, AwsError> {
    let shape = model.shape(shape_name);
    match shape.kind.as_str() {
        "structure" => decode_structure(model, shape_name, value, path),
        "list" => {
            let Cbor::Array(items) = value else { return Err(mismatch("an array", path)) };
            let member = shape.member.as_ref().expect("list shapes have a member");
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                // A null item stays null, as in the JSON protocol; validation skips it.
                out.push(if item.is_null() { Value::Null } else { decode_value(model, &member.shape, item, &Path::Item(path, i))? });
            }
            Ok(Value::Array(out))
        }
        "map" => {
            let Cbor::Map(entries) = value else { return Err(mismatch("a map", path)) };
            let value_ref = shape.value.as_ref().expect("map shapes have a value");
            let mut out = Map::new();
            for (key, value) in entries {
                let Cbor::Text(key) = key else { return Err(mismatch("text map keys", path)) };
                if value.is_null() {
                    continue;
                }
                let decoded = decode_value(model, &value_ref.shape, value, &Path::Entry(path, &key))?;
                out.insert(key, decoded);
            }
            Ok(Value::Object(out))
        }
        "string" => match value {
            Cbor::Text(s) => Ok(Value::String(s)),
            _ => Err(mismatch("a text string", path)),
        },
        "boolean" => match value {
            Cbor::Bool(b) => Ok(Value::Bool(b)),
            _ => Err(mismatch("a boolean", path)),
        },
        // The pipeline carries blobs as base64, as the JSON protocol sends them.
        "blob" => match value {
            Cbor::Bytes(b) => Ok(Value::String(BASE64.encode(b))),
            _ => Err(mismatch("a byte string", path)),
        },
        "timestamp" => decode_timestamp(value).ok_or_else(|| mismatch("an epoch-seconds timestamp (tag 1)", path)),
        "integer" | "long" | "short" | "byte" => decode_integer(value).ok_or_else(|| mismatch("an integer", path)),
        "double" | "float" => decode_float(value, shape.kind == "float").ok_or_else(|| mismatch("a number", path)),
        // Shapes the protocol has no rule for (documents) travel as plain data.
        _ => Ok(plain_json(value)),
    }
}

/// A tag-1 epoch as epoch seconds: an integer when whole, as botocore's JSON serializer sends it.
fn decode_timestamp(value: Cbor) -> Option<Value> {
    let inner = match value {
        Cbor::Tag(EPOCH_TAG, inner) => *inner,
        // Tolerate an untagged number: it can only mean epoch seconds here.
        v @ (Cbor::Integer(_) | Cbor::Float(_)) => v,
        _ => return None,
    };
    match inner {
        Cbor::Integer(i) => integer_json(i128::from(i)),
        Cbor::Float(f) if f.is_finite() => whole(f).map(Value::from).or_else(|| Number::from_f64(f).map(Value::Number)),
        _ => None,
    }
}

/// An integer member; a float is accepted only when it is a whole number (no precision lost).
fn decode_integer(value: Cbor) -> Option<Value> {
    match value {
        Cbor::Integer(i) => integer_json(i128::from(i)),
        Cbor::Float(f) => whole(f).map(Value::from),
        _ => None,
    }
}

/// A float or double member. JSON has no NaN or infinities, so they become the strings the
/// JSON protocol uses for them (`"NaN"`, `"Infinity"`, `"-Infinity"`).
fn decode_float(value: Cbor, single: bool) -> Option<Value> {
    match value {
        Cbor::Integer(i) => integer_json(i128::from(i)),
        Cbor::Float(f) if f.is_nan() => Some(Value::String("NaN".to_owned())),
        Cbor::Float(f) if f.is_infinite() => Some(Value::String(if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned())),
        // A single-precision value widened to f64 would show its binary noise (0.1 → 0.10000000149011612);
        // its shortest f32 rendering is the number the caller wrote.
        Cbor::Float(f) if single => (f as f32).to_string().parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number),
        Cbor::Float(f) => Number::from_f64(f).map(Value::Number),
        _ => None,
    }
}

/// The whole number a float holds, if it holds one that fits an i64.
fn whole(f: f64) -> Option<i64> {
    // -2^63 and 2^63 are exact as f64; anything at or beyond 2^63 does not fit.
    (f.is_finite() && f.fract() == 0.0 && f >= i64::MIN as f64 && f < -(i64::MIN as f64)).then_some(f as i64)
}

fn integer_json(i: i128) -> Option<Value> {
    i64::try_from(i).map(Value::from).or_else(|_| u64::try_from(i).map(Value::from)).ok()
}

/// A CBOR value without a shape to guide it, as JSON: byte strings as base64, tags dropped.
fn plain_json(value: Cbor) -> Value {
    match value {
        Cbor::Integer(i) => integer_json(i128::from(i)).unwrap_or(Value::Null),
        Cbor::Float(f) => decode_float(Cbor::Float(f), false).unwrap_or(Value::Null),
        Cbor::Bytes(b) => Value::String(BASE64.encode(b)),
        Cbor::Text(s) => Value::String(s),
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Null => Value::Null,
        Cbor::Tag(_, inner) => plain_json(*inner),
        Cbor::Array(items) => Value::Array(items.into_iter().map(plain_json).collect()),
        Cbor::Map(entries) => Value::Object(
            entries
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .filter_map(|(k, v)| match k {
                    Cbor::Text(k) => Some((k, plain_json(v))),
                    _ => None,
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// Encodes an operation's output Value as CBOR, walking the output shape.
///
/// An operation without an output shape has an empty body (the specification forbids one).
/// ciborium writes each float in the shortest form that keeps its value, half precision
/// included; the specification only discourages that, and botocore and the AWS SDKs decode all
/// three widths. Timestamps and doubles are always floats, never integers, because the AWS SDK
/// for Rust reads them with a float-only decoder.
pub fn encode_output(model: &Model, shape: Option<&str>, output: &Value) -> Vec<u8> {
    let Some(shape) = shape else { return Vec::new() };
    write(&encode_structure(model, shape, output))
}

/// Encodes an error as RPC v2 CBOR does: a map with `__type` (the error code) and `message`.
///
/// `__type` is the plain code: botocore and the AWS SDK for Rust strip any `namespace#` prefix
/// before matching, and the botocore model has no Smithy namespace to add.
pub fn encode_error(err: &AwsError) -> Vec<u8> {
    write(&Cbor::Map(vec![
        (Cbor::Text("__type".to_owned()), Cbor::Text(err.code.clone().into_owned())),
        (Cbor::Text("message".to_owned()), Cbor::Text(err.message.clone())),
    ]))
}

/// The `x-amzn-query-error` value for an error of an `awsQueryCompatible` service: `Code;Sender` or `Code;Receiver`.
pub fn query_error_header(err: &AwsError) -> String {
    format!("{};{}", err.code, if err.is_sender_fault() { "Sender" } else { "Receiver" })
}

fn write(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("writing CBOR into a Vec cannot fail");
    out
}

fn encode_structure(model: &Model, shape_name: &str, value: &Value) -> Cbor {
    let shape = model.shape(shape_name);
    let Value::Object(obj) = value else { return Cbor::Map(Vec::new()) };
    let mut entries = Vec::with_capacity(obj.len());
    // Model order, members only: botocore reads members by name and ignores the rest anyway.
    for (name, member) in &shape.members.0 {
        let Some(v) = obj.get(name).filter(|v| !v.is_null()) else { continue };
        entries.push((Cbor::Text(name.clone()), encode_value(model, &member.shape, v)));
    }
    Cbor::Map(entries)
}

fn encode_value(model: &Model, shape_name: &str, value: &Value) -> Cbor {
    let shape = model.shape(shape_name);
    let encoded = match (shape.kind.as_str(), value) {
        ("structure", _) => Some(encode_structure(model, shape_name, value)),
        ("list", Value::Array(items)) => {
            let member = shape.member.as_ref().expect("list shapes have a member");
            Some(Cbor::Array(items.iter().map(|v| if v.is_null() { Cbor::Null } else { encode_value(model, &member.shape, v) }).collect()))
        }
        ("map", Value::Object(map)) => {
            let value_ref = shape.value.as_ref().expect("map shapes have a value");
            let entries = map.iter().filter(|(_, v)| !v.is_null());
            Some(Cbor::Map(entries.map(|(k, v)| (Cbor::Text(k.clone()), encode_value(model, &value_ref.shape, v))).collect()))
        }
        ("string", Value::String(s)) => Some(Cbor::Text(s.clone())),
        ("boolean", Value::Bool(b)) => Some(Cbor::Bool(*b)),
        // Services hand blobs over as base64; a string that is not base64 is sent as its bytes.
        ("blob", Value::String(s)) => Some(Cbor::Bytes(BASE64.decode(s).unwrap_or_else(|_| s.as_bytes().to_vec()))),
        ("timestamp", _) => epoch_seconds(value).map(|secs| Cbor::Tag(EPOCH_TAG, Box::new(Cbor::Float(secs)))),
        ("integer" | "long" | "short" | "byte", Value::Number(n)) => {
            n.as_i64().map(Cbor::from).or_else(|| n.as_u64().map(Cbor::from)).or_else(|| n.as_f64().and_then(whole).map(Cbor::from))
        }
        ("double" | "float", Value::Number(n)) => n.as_f64().map(Cbor::Float),
        ("double" | "float", Value::String(s)) => special_float(s).map(Cbor::Float),
        _ => None,
    };
    // A value that does not fit its shape is still sent as what it is rather than dropped.
    encoded.unwrap_or_else(|| plain_cbor(value))
}

/// A timestamp as epoch seconds: a number as the pipeline carries it, or an RFC 3339 string.
fn epoch_seconds(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
            Some(t.unix_timestamp_nanos() as f64 / 1e9)
        }
        _ => None,
    }
}

/// The JSON protocol's spellings of the floats JSON cannot hold.
fn special_float(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// A JSON value without a shape to guide it, as CBOR; null map members are left out.
fn plain_cbor(value: &Value) -> Cbor {
    match value {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) => {
            n.as_i64().map(Cbor::from).or_else(|| n.as_u64().map(Cbor::from)).unwrap_or_else(|| Cbor::Float(n.as_f64().unwrap_or(0.0)))
        }
        Value::String(s) => Cbor::Text(s.clone()),
        Value::Array(items) => Cbor::Array(items.iter().map(plain_cbor).collect()),
        Value::Object(map) => {
            Cbor::Map(map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (Cbor::Text(k.clone()), plain_cbor(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::LazyLock;

    static CLOUDWATCH: LazyLock<Model> = LazyLock::new(|| Model::parse(include_str!("../models/cloudwatch.json")));

    // Request bodies written by botocore 1.44.5's `RpcV2CBORSerializer` over this crate's
    // cloudwatch.json (the script's inputs are the expected values in the tests below).
    // Response and error bodies are ours, as botocore's `RpcV2CBORParser` accepted them: the
    // parsed results are noted beside each test. Changing the encoder means re-checking there.
    const PUT_METRIC_DATA: &str = concat!(
        "a4694e616d6573706163656a4170702f4f72646572736a4d65747269634461746182a66a4d65747269634e616d65674c6174656e63796a44",
        "696d656e73696f6e7382a2644e616d6567536572766963656556616c756568636865636b6f7574a2644e616d6566526567696f6e6556616c",
        "75656965752d776573742d316954696d657374616d70c11a66322ec06556616c7565fb402900000000000064556e69746c4d696c6c697365",
        "636f6e64737153746f726167655265736f6c7574696f6e01a66a4d65747269634e616d656852657175657374736954696d657374616d70c1",
        "fb41d98c8bb01000006656616c75657383fb3ff0000000000000fb4004000000000000fb4072c0000000000066436f756e747383fb402400",
        "0000000000fb3ff0000000000000fb40000000000000006f53746174697374696356616c756573a46b53616d706c65436f756e74fb402a00",
        "00000000006353756dfb4074000000000000674d696e696d756dfb3ff0000000000000674d6178696d756dfb4072c0000000000064556e69",
        "7465436f756e7470456e746974794d65747269634461746181a266456e74697479a26d4b657941747472696275746573a264547970656753",
        "657276696365644e616d6568636865636b6f75746a41747472696275746573a1654f776e6572667465616d2d616a4d657472696344617461",
        "81a26a4d65747269634e616d65664572726f72736556616c7565fb000000000000000076537472696374456e7469747956616c6964617469",
        "6f6ef4",
    );
    const GET_METRIC_DATA: &str = concat!(
        "a7714d6574726963446174615175657269657382a3624964626d316a4d657472696353746174a4664d6574726963a3694e616d6573706163",
        "656a4170702f4f72646572736a4d65747269634e616d65674c6174656e63796a44696d656e73696f6e7381a2644e616d6567536572766963",
        "656556616c756568636865636b6f757466506572696f64183c64537461746370393964556e69746c4d696c6c697365636f6e64736a526574",
        "75726e44617461f4a46249646265316a45787072657373696f6e666d31202a2032654c6162656c67446f75626c656466506572696f641901",
        "2c69537461727454696d65c11a6631860067456e6454696d65c1fb41d98c66c6200000694e657874546f6b656e63746f6b665363616e4279",
        "7354696d657374616d7044657363656e64696e676d4d617844617461706f696e74731a000189c06c4c6162656c4f7074696f6e73a1685469",
        "6d657a6f6e65652d30313330",
    );
    const PUT_METRIC_DATA_SPECIAL: &str = concat!(
        "a2694e616d657370616365614e6a4d65747269634461746181a26a4d65747269634e616d6561786656616c75657384f97e00f97c00f9fc00",
        "fbc000000000000000",
    );
    const DESCRIBE_ALARMS: &str = concat!(
        "a36a416c61726d4e616d65738161616a4d61785265636f7264730a6a416c61726d5479706573826b4d6574726963416c61726d6e436f6d70",
        "6f73697465416c61726d",
    );
    const LIST_METRICS: &str = "a0";
    const GET_METRIC_DATA_OUTPUT: &str = concat!(
        "a3714d657472696344617461526573756c747382a6624964626d31654c6162656c674c6174656e63796a54696d657374616d707382c1fb41",
        "d98c8bb0000000c1fb41d98c8bbf2000006656616c75657382f94a40f942006a537461747573436f646568436f6d706c657465684d657373",
        "6167657381a264436f64656f41726974686d657469634572726f726556616c75656e646976696465206279207a65726fa46249646265316a",
        "54696d657374616d7073806656616c756573806a537461747573436f64656b5061727469616c44617461694e657874546f6b656e646e6578",
        "74684d6573736167657380",
    );
    const DESCRIBE_ALARMS_OUTPUT: &str = concat!(
        "a26f436f6d706f73697465416c61726d7381a569416c61726d4e616d6569636f6d706f7369746569416c61726d52756c6573414c41524d28",
        "686967682d6c6174656e6379297553746174655570646174656454696d657374616d70c1fb41d98c8bb00000006a537461746556616c7565",
        "624f4b781b416374696f6e7353757070726573736f7257616974506572696f6418786c4d6574726963416c61726d7382b469416c61726d4e",
        "616d656c686967682d6c6174656e637968416c61726d41726e783c61726e3a6177733a636c6f756477617463683a65752d776573742d313a",
        "3132333435363738393031323a616c61726d3a686967682d6c6174656e63797822416c61726d436f6e66696775726174696f6e5570646174",
        "656454696d657374616d70c1fb41d98c8bb007df3b6e416374696f6e73456e61626c6564f5694f4b416374696f6e73806c416c61726d4163",
        "74696f6e7381782661726e3a6177733a736e733a65752d776573742d313a3132333435363738393031323a6f70736a537461746556616c75",
        "6565414c41524d6b5374617465526561736f6e715468726573686f6c642043726f737365647553746174655570646174656454696d657374",
        "616d70c1fb41d98c8bc90000006a4d65747269634e616d65674c6174656e6379694e616d6573706163656a4170702f4f7264657273695374",
        "6174697374696367417665726167656a44696d656e73696f6e7381a2644e616d6567536572766963656556616c756568636865636b6f7574",
        "66506572696f64183c714576616c756174696f6e506572696f6473037144617461706f696e7473546f416c61726d02695468726573686f6c",
        "64f95bd072436f6d70617269736f6e4f70657261746f7274477265617465725468616e5468726573686f6c647054726561744d697373696e",
        "6744617461676d697373696e67781a53746174655472616e736974696f6e656454696d657374616d70c1fb41d98c8bc9000000a469416c61",
        "726d4e616d65646d6174686e416374696f6e73456e61626c6564f4695468726573686f6c64fb3fb999999999999a674d65747269637382a3",
        "624964626d316a4d657472696353746174a3664d6574726963a2694e616d657370616365614e6a4d65747269634e616d65614d6650657269",
        "6f6419012c64537461746353756d6a52657475726e44617461f4a46249646265316a45787072657373696f6e676d31202f203630654c6162",
        "656c6a706572207365636f6e646a52657475726e44617461f5",
    );
    const GET_METRIC_STATISTICS_OUTPUT: &str = concat!(
        "a2654c6162656c674c6174656e63796a44617461706f696e747381a76954696d657374616d70c1fb41d98c8bb00000006b53616d706c6543",
        "6f756e74f942006741766572616765f97e00674d696e696d756df9fc00674d6178696d756df97c0064556e69746c4d696c6c697365636f6e",
        "647372457874656e64656453746174697374696373a163703939f95638",
    );
    const WIDGET_OUTPUT: &str = "a1714d6574726963576964676574496d6167654889504e470d0a1a0a";
    const CLIENT_ERROR: &str = concat!(
        "a2665f5f7479706575496e76616c6964506172616d6574657256616c7565676d657373616765782e5468652076616c7565203020666f7220",
        "706172616d6574657220506572696f64206973206e6f742076616c69642e",
    );
    const SERVER_ERROR: &str = "a2665f5f7479706574496e7465726e616c536572766963654572726f72676d65737361676564626f6f6d";

    fn bytes(hex_text: &str) -> Vec<u8> {
        hex::decode(hex_text).expect("fixtures are hex")
    }

    fn input_shape(op: &str) -> Option<&'static str> {
        CLOUDWATCH.operations[op].input.as_ref().map(|r| r.shape.as_str())
    }

    fn output_shape(op: &str) -> Option<&'static str> {
        CLOUDWATCH.operations[op].output.as_ref().map(|r| r.shape.as_str())
    }

    fn decode(op: &str, body: &[u8]) -> Result<Value, AwsError> {
        decode_input(&CLOUDWATCH, input_shape(op), body)
    }

    fn put_metric_data_input() -> Value {
        json!({
            "Namespace": "App/Orders",
            "MetricData": [{
                "MetricName": "Latency",
                "Dimensions": [{"Name": "Service", "Value": "checkout"}, {"Name": "Region", "Value": "eu-west-1"}],
                "Timestamp": 1714564800, "Value": 12.5, "Unit": "Milliseconds", "StorageResolution": 1
            }, {
                "MetricName": "Requests", "Timestamp": 1714564800.25, "Values": [1.0, 2.5, 300.0], "Counts": [10.0, 1.0, 2.0],
                "StatisticValues": {"SampleCount": 13.0, "Sum": 320.0, "Minimum": 1.0, "Maximum": 300.0}, "Unit": "Count"
            }],
            "EntityMetricData": [{
                "Entity": {"KeyAttributes": {"Type": "Service", "Name": "checkout"}, "Attributes": {"Owner": "team-a"}},
                "MetricData": [{"MetricName": "Errors", "Value": 0.0}]
            }],
            "StrictEntityValidation": false
        })
    }

    fn get_metric_data_input() -> Value {
        json!({
            "MetricDataQueries": [{
                "Id": "m1",
                "MetricStat": {
                    "Metric": {"Namespace": "App/Orders", "MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "checkout"}]},
                    "Period": 60, "Stat": "p99", "Unit": "Milliseconds"
                },
                "ReturnData": false
            }, {"Id": "e1", "Expression": "m1 * 2", "Label": "Doubled", "Period": 300}],
            "StartTime": 1714521600, "EndTime": 1714527000.5, "NextToken": "tok", "ScanBy": "TimestampDescending",
            "MaxDatapoints": 100800, "LabelOptions": {"Timezone": "-0130"}
        })
    }

    fn metric_data_output() -> Value {
        json!({
            "MetricDataResults": [{
                "Id": "m1", "Label": "Latency", "Timestamps": [1714564800, 1714564860.5], "Values": [12.5, 3],
                "StatusCode": "Complete", "Messages": [{"Code": "ArithmeticError", "Value": "divide by zero"}]
            }, {"Id": "e1", "Timestamps": [], "Values": [], "StatusCode": "PartialData"}],
            "NextToken": "next", "Messages": []
        })
    }

    fn describe_alarms_output() -> Value {
        json!({
            "MetricAlarms": [{
                "AlarmName": "high-latency", "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:high-latency",
                "AlarmConfigurationUpdatedTimestamp": 1714564800.123, "ActionsEnabled": true,
                "OKActions": [], "AlarmActions": ["arn:aws:sns:eu-west-1:123456789012:ops"],
                "StateValue": "ALARM", "StateReason": "Threshold Crossed", "StateUpdatedTimestamp": 1714564900,
                "MetricName": "Latency", "Namespace": "App/Orders", "Statistic": "Average",
                "Dimensions": [{"Name": "Service", "Value": "checkout"}], "Period": 60, "EvaluationPeriods": 3,
                "DatapointsToAlarm": 2, "Threshold": 250, "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "missing", "StateTransitionedTimestamp": 1714564900
            }, {
                "AlarmName": "math", "ActionsEnabled": false, "Threshold": 0.1,
                "Metrics": [{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 300, "Stat": "Sum"}, "ReturnData": false},
                            {"Id": "e1", "Expression": "m1 / 60", "Label": "per second", "ReturnData": true}]
            }],
            "CompositeAlarms": [{"AlarmName": "composite", "AlarmRule": "ALARM(high-latency)", "StateValue": "OK",
                                 "StateUpdatedTimestamp": 1714564800, "ActionsSuppressorWaitPeriod": 120}],
            "NextToken": null
        })
    }

    fn statistics_output() -> Value {
        json!({"Label": "Latency", "Datapoints": [{
            "Timestamp": 1714564800, "SampleCount": 3, "Average": "NaN", "Maximum": "Infinity", "Minimum": "-Infinity",
            "Unit": "Milliseconds", "ExtendedStatistics": {"p99": 99.5, "p50": null}
        }]})
    }

    #[test]
    fn decodes_botocore_put_metric_data() {
        // Dimensions, an integer and a fractional tag-1 timestamp, Values/Counts lists,
        // StatisticValues, maps inside EntityMetricData, a boolean.
        assert_eq!(decode("PutMetricData", &bytes(PUT_METRIC_DATA)).unwrap(), put_metric_data_input());
        assert_eq!(CLOUDWATCH.validate_input("PutMetricData", &put_metric_data_input()), Ok(()));
    }

    #[test]
    fn decodes_botocore_get_metric_data() {
        assert_eq!(decode("GetMetricData", &bytes(GET_METRIC_DATA)).unwrap(), get_metric_data_input());
    }

    #[test]
    fn decodes_botocore_special_floats_as_json_protocol_strings() {
        // botocore writes NaN and the infinities as half-precision floats.
        let v = decode("PutMetricData", &bytes(PUT_METRIC_DATA_SPECIAL)).unwrap();
        assert_eq!(v, json!({"Namespace": "N", "MetricData": [{"MetricName": "x", "Values": ["NaN", "Infinity", "-Infinity", -2.0]}]}));
    }

    #[test]
    fn decodes_botocore_lists_of_strings_and_empty_input() {
        let v = decode("DescribeAlarms", &bytes(DESCRIBE_ALARMS)).unwrap();
        assert_eq!(v, json!({"AlarmNames": ["a"], "MaxRecords": 10, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}));
        // botocore sends an empty map for an empty input; other clients may send nothing.
        assert_eq!(decode("ListMetrics", &bytes(LIST_METRICS)).unwrap(), json!({}));
        assert_eq!(decode("ListMetrics", b"").unwrap(), json!({}));
        assert_eq!(decode_input(&CLOUDWATCH, None, &bytes(LIST_METRICS)).unwrap(), json!({}));
    }

    #[test]
    fn decodes_indefinite_lengths_and_narrow_floats() {
        let body = concat!(
            "bf", // map of unknown length
            "694e616d657370616365",
            "7f6241706170ff", // "Namespace": text in two chunks, "Ap" "p"
            "6a4d657472696344617461",
            "9f",
            "bf", // "MetricData": [_ {_
            "6a4d65747269634e616d65",
            "6178", // "MetricName": "x"
            "6556616c7565",
            "f93e00", // "Value": 1.5 as a half
            "6954696d657374616d70",
            "c1fa4ecc645e", // "Timestamp": 1(1714564864.0 as a single)
            "66436f756e7473",
            "82fa3fc00000fb3ff8000000000000", // "Counts": [1.5 single, 1.5 double]
            "64556e6974",
            "f6", // "Unit": null
            "7153746f726167655265736f6c7574696f6e",
            "f7", // "StorageResolution": undefined
            "654578747261",
            "a1666e6573746564820102", // "Extra": {"nested": [1, 2]}, not a member
            "ff",
            "ff",
            "ff",
        );
        let v = decode("PutMetricData", &bytes(body)).unwrap();
        let expected =
            json!({"Namespace": "App", "MetricData": [{"MetricName": "x", "Value": 1.5, "Timestamp": 1714564864, "Counts": [1.5, 1.5]}]});
        assert_eq!(v, expected);
    }

    #[test]
    fn encodes_get_metric_data_output_as_botocore_reads_it() {
        // botocore: MetricDataResults[0].Timestamps == [2024-05-01 12:00:00, 12:01:00.500000],
        // Values == [12.5, 3.0], Messages == [{Code, Value}], NextToken 'next', Messages [].
        let out = encode_output(&CLOUDWATCH, output_shape("GetMetricData"), &metric_data_output());
        assert_eq!(hex::encode(&out), GET_METRIC_DATA_OUTPUT);
        let back = decode_input(&CLOUDWATCH, output_shape("GetMetricData"), &out).unwrap();
        let mut expected = metric_data_output();
        expected["MetricDataResults"][0]["Values"] = json!([12.5, 3.0]);
        assert_eq!(back, expected);
    }

    #[test]
    fn encodes_describe_alarms_output_as_botocore_reads_it() {
        // botocore: AlarmConfigurationUpdatedTimestamp 12:00:00.123000, Threshold 250.0 and 0.1,
        // Period 60, ActionsEnabled True/False, nested Metrics with MetricStat, OKActions [],
        // no NextToken (null is left out).
        let out = encode_output(&CLOUDWATCH, output_shape("DescribeAlarms"), &describe_alarms_output());
        assert_eq!(hex::encode(&out), DESCRIBE_ALARMS_OUTPUT);
        let back = decode_input(&CLOUDWATCH, output_shape("DescribeAlarms"), &out).unwrap();
        let mut expected = describe_alarms_output();
        expected.as_object_mut().unwrap().remove("NextToken");
        expected["MetricAlarms"][0]["Threshold"] = json!(250.0);
        assert_eq!(back, expected);
    }

    #[test]
    fn encodes_special_floats_maps_and_blobs() {
        // botocore: Average nan, Maximum inf, Minimum -inf, ExtendedStatistics {'p99': 99.5}.
        let out = encode_output(&CLOUDWATCH, output_shape("GetMetricStatistics"), &statistics_output());
        assert_eq!(hex::encode(&out), GET_METRIC_STATISTICS_OUTPUT);
        let back = decode_input(&CLOUDWATCH, output_shape("GetMetricStatistics"), &out).unwrap();
        assert_eq!(back["Datapoints"][0]["ExtendedStatistics"], json!({"p99": 99.5}));
        assert_eq!(back["Datapoints"][0]["Average"], "NaN");
        assert_eq!(back["Datapoints"][0]["SampleCount"], json!(3.0));

        // botocore: MetricWidgetImage == b'\x89PNG\r\n\x1a\n' (a byte string, not base64 text).
        let png = BASE64.encode(b"\x89PNG\r\n\x1a\n");
        let out = encode_output(&CLOUDWATCH, output_shape("GetMetricWidgetImage"), &json!({"MetricWidgetImage": png}));
        assert_eq!(hex::encode(&out), WIDGET_OUTPUT);
        let back = decode_input(&CLOUDWATCH, output_shape("GetMetricWidgetImage"), &out).unwrap();
        assert_eq!(back, json!({"MetricWidgetImage": png}));
    }

    #[test]
    fn round_trips_inputs() {
        for (op, input) in [("PutMetricData", put_metric_data_input()), ("GetMetricData", get_metric_data_input())] {
            let out = encode_output(&CLOUDWATCH, input_shape(op), &input);
            assert_eq!(decode(op, &out).unwrap(), input, "{op}");
        }
    }

    #[test]
    fn timestamps_are_tagged_floats_and_accept_rfc3339() {
        let shape = output_shape("GetMetricStatistics");
        let out = encode_output(&CLOUDWATCH, shape, &json!({"Datapoints": [{"Timestamp": "2024-05-01T12:00:00.5Z"}]}));
        let cbor: Cbor = ciborium::de::from_reader(out.as_slice()).unwrap();
        let datapoint = &cbor.as_map().unwrap()[0].1.as_array().unwrap()[0];
        assert_eq!(datapoint.as_map().unwrap()[0].1, Cbor::Tag(1, Box::new(Cbor::Float(1714564800.5))));
        assert_eq!(decode_input(&CLOUDWATCH, shape, &out).unwrap(), json!({"Datapoints": [{"Timestamp": 1714564800.5}]}));
    }

    #[test]
    fn operations_without_output_have_no_body() {
        assert!(encode_output(&CLOUDWATCH, output_shape("PutMetricData"), &json!({})).is_empty());
        // A service that answers nothing for a shaped output still writes a (empty) map.
        assert_eq!(encode_output(&CLOUDWATCH, output_shape("ListMetrics"), &Value::Null), vec![0xa0]);
    }

    #[test]
    fn encodes_errors_as_botocore_reads_them() {
        // botocore, without and with `x-amzn-query-error: InvalidParameterValue;Sender`:
        // Code 'InvalidParameterValue' (a client raises InvalidParameterValueException),
        // Message as sent; with the header also Type 'Sender'.
        let e = AwsError::client("InvalidParameterValue", "The value 0 for parameter Period is not valid.");
        assert_eq!(hex::encode(encode_error(&e)), CLIENT_ERROR);
        assert_eq!(query_error_header(&e), "InvalidParameterValue;Sender");
        let e = AwsError::new("InternalServiceError", 500, "boom");
        assert_eq!(hex::encode(encode_error(&e)), SERVER_ERROR);
        assert_eq!(query_error_header(&e), "InternalServiceError;Receiver");
        let cbor: Cbor = ciborium::de::from_reader(bytes(SERVER_ERROR).as_slice()).unwrap();
        let map = cbor.as_map().unwrap();
        assert_eq!(map[0], (Cbor::Text("__type".into()), Cbor::Text("InternalServiceError".into())));
        assert_eq!(map[1], (Cbor::Text("message".into()), Cbor::Text("boom".into())));
    }

    #[test]
    fn cloudwatch_is_query_compatible() {
        assert!(CLOUDWATCH.metadata.aws_query_compatible());
        assert!(!Model::parse(include_str!("../models/logs.json")).metadata.aws_query_compatible());
        assert_eq!(CLOUDWATCH.metadata.target_prefix.as_deref(), Some("GraniteServiceVersion20100801"));
    }

    fn rejected(op: &str, hex_body: &str) -> AwsError {
        let err = decode(op, &bytes(hex_body)).unwrap_err();
        assert_eq!((err.code.as_ref(), err.status), ("SerializationException", 400), "{err}");
        err
    }

    #[test]
    fn rejects_malformed_bodies() {
        // Truncated: botocore's PutMetricData body without its last byte.
        rejected("PutMetricData", &PUT_METRIC_DATA[..PUT_METRIC_DATA.len() - 2]);
        // Not a map, trailing data, a reserved byte, a byte string claiming 2^64-1 bytes.
        rejected("ListMetrics", "01");
        let err = rejected("ListMetrics", "a0a0");
        assert_eq!(err.message, "Unexpected data after the CBOR body at byte 1");
        rejected("ListMetrics", "a16161fc");
        rejected("ListMetrics", "5bffffffffffffffff00");
    }

    #[test]
    fn rejects_values_that_do_not_fit_their_shape() {
        // {"MetricData": [{"MetricName": "x", "StorageResolution": "1"}]}
        let err =
            rejected("PutMetricData", "a16a4d65747269634461746181a26a4d65747269634e616d6561787153746f726167655265736f6c7574696f6e6131");
        assert_eq!(err.message, "Expected an integer at 'MetricData[0].StorageResolution'");
        // {"StartTime": 0("2024-05-01T00:00:00Z")}: only tag 1 is a timestamp.
        let err = rejected("GetMetricData", "a169537461727454696d65c074323032342d30352d30315430303a30303a30305a");
        assert_eq!(err.message, "Expected an epoch-seconds timestamp (tag 1) at 'StartTime'");
        // {"MaxDatapoints": 1.5}
        rejected("GetMetricData", "a16d4d617844617461706f696e7473f93e00");
        // {"MetricDataQueries": {}}
        rejected("GetMetricData", "a1714d65747269634461746151756572696573a0");
    }

    #[test]
    fn whole_floats_are_accepted_for_integers() {
        // {"MaxDatapoints": 100.0}
        assert_eq!(decode("GetMetricData", &bytes("a16d4d617844617461706f696e7473f95640")).unwrap(), json!({"MaxDatapoints": 100}));
    }

    #[test]
    fn parses_paths() {
        let op = "/service/GraniteServiceVersion20100801/operation/PutMetricData";
        assert_eq!(parse_path(op), Some(("GraniteServiceVersion20100801", "PutMetricData")));
        let absolute = "/service/com.amazonaws.cloudwatch.GraniteServiceVersion20100801/operation/GetMetricData";
        assert_eq!(parse_path(absolute), Some(("GraniteServiceVersion20100801", "GetMetricData")));
        assert_eq!(parse_path("/v1/service/S/operation/Op"), Some(("S", "Op")));
        for bad in [
            "service/S/operation/Op",
            "/service/S/operation/",
            "/service//operation/Op",
            "/service/S/operation/Op/",
            "/services/S/operation/Op",
            "/service/S/operations/Op",
            "/service/S/operation/com.example.Op",
            "/",
        ] {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
    }
}
