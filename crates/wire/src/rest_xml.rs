//! The REST-XML protocol (S3), driven by the botocore model: the method, path and query
//! string pick the operation from its `http.requestUri`; input members travel as URI
//! labels, query parameters, headers, `x-amz-meta-*` prefix maps and an XML or raw body,
//! and are decoded into the same JSON value the other protocols produce. Outputs go back
//! the same way: header members as headers, a blob payload as the body, anything else
//! as an XML document.
//!
//! Blobs are carried in the JSON value as base64 strings (botocore's JSON convention),
//! so [`crate::Service::call`] keeps one signature for every protocol. Timestamps are
//! ISO 8601 strings in the value (epoch seconds are accepted too); headers carry them in
//! the HTTP date format unless the model says otherwise.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use percent_encoding::percent_decode_str;
use quick_xml::events::Event;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

use crate::error::AwsError;
use crate::model::{Model, Operation, Shape, ShapeRef};
use crate::query::escape;

/// A received request, as REST routing and decoding read it.
#[derive(Debug, Clone)]
pub struct RestRequest {
    /// The HTTP method.
    pub method: Method,
    /// The request target: raw (percent-encoded) path and query.
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
    /// The request body.
    pub body: Bytes,
}

/// An operation's output written as HTTP: status, headers and body.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RestResponse {
    /// The HTTP status.
    pub status: u16,
    /// Response headers in output-member order, `Content-Type` included when known.
    pub headers: Vec<(String, String)>,
    /// The body: the blob or string payload, or an XML document.
    pub body: Vec<u8>,
}

/// The XML namespace of a REST-XML service's documents (`http://s3.amazonaws.com/doc/2006-03-01/`).
pub fn namespace(model: &Model) -> String {
    model
        .metadata
        .xml_namespace
        .clone()
        .unwrap_or_else(|| format!("http://{}.amazonaws.com/doc/{}/", model.metadata.endpoint_prefix, model.metadata.api_version))
}

/// The operation whose `http` binding the request matches, if any.
///
/// Method and path template must match (`{Label}` takes one non-empty segment, `{Label+}`
/// the non-empty rest; a trailing slash after the last label is allowed) and every query
/// discriminator of the template must be present (`?location`, `?list-type=2`). Among
/// several matches, the one with more discriminators wins, then the one whose required
/// query and header members are all present and most numerous (ListParts over GetObject
/// when `uploadId` is sent), then a non-deprecated one, then the first name.
pub fn match_operation<'m>(model: &'m Model, method: &str, uri: &Uri, headers: &HeaderMap) -> Option<&'m str> {
    let params = query_params(uri.query().unwrap_or(""));
    let mut best: Option<(usize, bool, &'m str)> = None;
    for (name, op) in &model.operations {
        let Some(http) = &op.http else { continue };
        if !http.method.eq_ignore_ascii_case(method) {
            continue;
        }
        let (path_template, discriminators) = split_template(&http.request_uri);
        if bind_labels(path_template, uri.path()).is_none() {
            continue;
        }
        let discriminated = discriminators.iter().all(|(k, v)| params.iter().any(|(pk, pv)| pk == k && v.is_none_or(|v| pv == v)));
        if !discriminated {
            continue;
        }
        let Some(required) = required_present(model, op, &params, headers) else { continue };
        let candidate = (discriminators.len() * 1000 + required, !op.deprecated, name.as_str());
        let better = match best {
            None => true,
            Some((score, current, n)) => {
                (candidate.0, candidate.1) > (score, current) || ((candidate.0, candidate.1) == (score, current) && candidate.2 < n)
            }
        };
        if better {
            best = Some(candidate);
        }
    }
    best.map(|(_, _, name)| name)
}

/// Splits `/{Bucket}?list-type=2&x` into the path template and the query discriminators.
fn split_template(uri: &str) -> (&str, Vec<(&str, Option<&str>)>) {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let discriminators =
        query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').map_or((p, None), |(k, v)| (k, Some(v)))).collect();
    (path, discriminators)
}

/// Binds the labels of a path template to the decoded segments of a raw path.
fn bind_labels<'t>(template: &'t str, path: &str) -> Option<Vec<(&'t str, String)>> {
    let mut rest = Some(path.strip_prefix('/').unwrap_or(path));
    let mut out = Vec::new();
    for segment in template.strip_prefix('/').unwrap_or(template).split('/') {
        let remaining = rest?;
        if let Some(label) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if let Some(greedy) = label.strip_suffix('+') {
                if remaining.is_empty() {
                    return None;
                }
                out.push((greedy, decode_path(remaining)));
                rest = None;
                continue;
            }
            let (value, after) = remaining.split_once('/').map_or((remaining, None), |(v, a)| (v, Some(a)));
            if value.is_empty() {
                return None;
            }
            out.push((label, decode_path(value)));
            rest = after;
        } else {
            let (value, after) = remaining.split_once('/').map_or((remaining, None), |(v, a)| (v, Some(a)));
            if value != segment {
                return None;
            }
            rest = after;
        }
    }
    matches!(rest, None | Some("")).then_some(out)
}

/// Percent-decodes a path piece; `+` stays a plus in paths.
fn decode_path(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// Decoded query parameters in order; `?location` gives `("location", "")`.
fn query_params(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// `Some(number of required query/header members present)`, or `None` when one is missing.
fn required_present(model: &Model, op: &Operation, params: &[(String, String)], headers: &HeaderMap) -> Option<usize> {
    let Some(input) = &op.input else { return Some(0) };
    let shape = model.shape(&input.shape);
    let mut present = 0;
    for name in &shape.required {
        let Some(member) = shape.members.get(name) else { continue };
        let wire = member.location_name.as_deref().unwrap_or(name);
        let found = match member.location.as_deref() {
            Some("querystring") => params.iter().any(|(k, _)| k == wire),
            Some("header") => headers.contains_key(wire),
            _ => continue,
        };
        if !found {
            return None;
        }
        present += 1;
    }
    Some(present)
}

/// Decodes the request into the JSON value of the operation's input shape.
pub fn decode_input(model: &Model, operation: &str, req: &RestRequest) -> Result<Value, AwsError> {
    let Some(op) = model.operations.get(operation) else { return Ok(Value::Object(Map::new())) };
    let Some(input) = &op.input else { return Ok(Value::Object(Map::new())) };
    let shape = model.shape(&input.shape);
    let labels = op.http.as_ref().and_then(|h| bind_labels(split_template(&h.request_uri).0, req.uri.path())).unwrap_or_default();
    let params = query_params(req.uri.query().unwrap_or(""));
    let mut obj = Map::new();
    for (name, member) in &shape.members.0 {
        let wire = member.location_name.as_deref().unwrap_or(name);
        let member_shape = model.shape(&member.shape);
        let value = match member.location.as_deref() {
            Some("uri") => labels.iter().find(|(l, _)| *l == wire).map(|(_, v)| scalar(member_shape, v, wire)).transpose()?,
            Some("querystring") => query_member(shape, member_shape, wire, &params)?,
            Some("header") => header_member(member_shape, wire, &req.headers)?,
            Some("headers") => prefix_map(wire, &req.headers),
            Some(_) => None,
            None if shape.payload.as_deref() == Some(name) => payload_member(model, member, &req.body)?,
            None => None,
        };
        if let Some(v) = value {
            obj.insert(name.clone(), v);
        }
    }
    Ok(Value::Object(obj))
}

fn query_member(input: &Shape, shape: &Shape, wire: &str, params: &[(String, String)]) -> Result<Option<Value>, AwsError> {
    match shape.kind.as_str() {
        // A map bound to the query string takes every parameter no other member names.
        "map" => {
            let named = |k: &str| {
                input
                    .members
                    .0
                    .iter()
                    .any(|(n, m)| m.location.as_deref() == Some("querystring") && m.location_name.as_deref().unwrap_or(n) == k)
            };
            let map: Map<String, Value> =
                params.iter().filter(|(k, _)| !named(k)).map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
            Ok((!map.is_empty()).then_some(Value::Object(map)))
        }
        "list" => {
            let items: Vec<Value> = params.iter().filter(|(k, _)| k == wire).map(|(_, v)| Value::String(v.clone())).collect();
            Ok((!items.is_empty()).then_some(Value::Array(items)))
        }
        _ => params.iter().find(|(k, _)| k == wire).map(|(_, v)| scalar(shape, v, wire)).transpose(),
    }
}

fn header_member(shape: &Shape, wire: &str, headers: &HeaderMap) -> Result<Option<Value>, AwsError> {
    let Some(raw) = headers.get(wire) else { return Ok(None) };
    let text = String::from_utf8_lossy(raw.as_bytes());
    if shape.kind == "list" {
        let items = text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned())).collect();
        return Ok(Some(Value::Array(items)));
    }
    scalar(shape, text.trim(), wire).map(Some)
}

/// The `x-amz-meta-*` style map: every header with the prefix, keyed by the rest of its name.
fn prefix_map(prefix: &str, headers: &HeaderMap) -> Option<Value> {
    let prefix = prefix.to_ascii_lowercase();
    let map: Map<String, Value> = headers
        .iter()
        .filter_map(|(k, v)| {
            k.as_str()
                .strip_prefix(&prefix)
                .map(|rest| (rest.to_owned(), Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned())))
        })
        .collect();
    (!map.is_empty()).then_some(Value::Object(map))
}

fn payload_member(model: &Model, member: &ShapeRef, body: &Bytes) -> Result<Option<Value>, AwsError> {
    if body.is_empty() {
        return Ok(None);
    }
    let shape = model.shape(&member.shape);
    match shape.kind.as_str() {
        "blob" => Ok(Some(Value::String(BASE64.encode(body)))),
        "string" => Ok(Some(Value::String(String::from_utf8_lossy(body).into_owned()))),
        "structure" => {
            let root = parse_xml(body).map_err(|_| malformed_xml())?;
            Ok(Some(xml_value(model, &member.shape, &root)?))
        }
        _ => Ok(None),
    }
}

/// S3's answer to a body that is not the XML document the operation reads.
pub fn malformed_xml() -> AwsError {
    AwsError::client("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
}

/// A scalar from its text form (URI label, query parameter, header or XML text).
fn scalar(shape: &Shape, raw: &str, wire: &str) -> Result<Value, AwsError> {
    let bad = || AwsError::client("InvalidArgument", format!("Invalid value '{raw}' for {wire}"));
    Ok(match shape.kind.as_str() {
        "integer" | "long" => Value::from(raw.trim().parse::<i64>().map_err(|_| bad())?),
        "double" | "float" => Value::from(raw.trim().parse::<f64>().map_err(|_| bad())?),
        "boolean" => match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        "timestamp" => Value::String(format_iso(parse_timestamp(raw.trim()).ok_or_else(bad)?)),
        _ => Value::String(raw.to_owned()),
    })
}

/// Reads a timestamp in any form AWS sends: ISO 8601, HTTP date or epoch seconds.
pub fn parse_timestamp(raw: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(t);
    }
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc2822) {
        return Some(t);
    }
    // `Sun, 06 Nov 1994 08:49:37 GMT`: RFC 2822 in the `time` crate wants a numeric zone.
    if let Some(stripped) = raw.strip_suffix(" GMT")
        && let Ok(t) = OffsetDateTime::parse(&format!("{stripped} +0000"), &Rfc2822)
    {
        return Some(t);
    }
    raw.parse::<f64>().ok().and_then(|secs| OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128).ok())
}

/// ISO 8601 with milliseconds in UTC, as S3 writes timestamps in XML: `2024-01-02T03:04:05.000Z`.
pub fn format_iso(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// The HTTP date format of headers: `Tue, 02 Jan 2024 03:04:05 GMT`.
pub fn format_http_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let weekday = &t.weekday().to_string()[..3];
    let month = &t.month().to_string()[..3];
    format!("{weekday}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT", t.day(), t.year(), t.hour(), t.minute(), t.second())
}

/// One element of a parsed XML document.
#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

/// Parses an XML document into its root element (namespaces dropped, text unescaped).
fn parse_xml(body: &[u8]) -> Result<Element, ()> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|_| ())? {
            Event::Start(e) => stack.push(Element { name: local_name(e.local_name().as_ref()), ..Default::default() }),
            Event::Empty(e) => {
                let el = Element { name: local_name(e.local_name().as_ref()), ..Default::default() };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or(())?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.decode().map_err(|_| ())?);
                }
            }
            Event::CData(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                let Some(el) = stack.last_mut() else { continue };
                if let Some(c) = r.resolve_char_ref().map_err(|_| ())? {
                    el.text.push(c);
                } else {
                    let name = r.decode().map_err(|_| ())?;
                    let entity = format!("&{name};");
                    el.text.push_str(&quick_xml::escape::unescape(&entity).map_err(|_| ())?);
                }
            }
            Event::Eof => return Err(()),
            _ => {}
        }
        buf.clear();
    }
}

fn local_name(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

/// The JSON value of an XML element read as `shape_name`.
fn xml_value(model: &Model, shape_name: &str, el: &Element) -> Result<Value, AwsError> {
    let shape = model.shape(shape_name);
    match shape.kind.as_str() {
        "structure" => {
            let mut obj = Map::new();
            for (name, member) in &shape.members.0 {
                let tag = member.location_name.as_deref().unwrap_or(name);
                let member_shape = model.shape(&member.shape);
                if member_shape.kind == "list" && member.flattened.or(member_shape.flattened).unwrap_or(false) {
                    let item = member_shape.member.as_ref().expect("list shapes have a member");
                    let items: Vec<Value> =
                        el.children.iter().filter(|c| c.name == tag).map(|c| xml_value(model, &item.shape, c)).collect::<Result<_, _>>()?;
                    if !items.is_empty() {
                        obj.insert(name.clone(), Value::Array(items));
                    }
                    continue;
                }
                if let Some(child) = el.children.iter().find(|c| c.name == tag) {
                    obj.insert(name.clone(), xml_value(model, &member.shape, child)?);
                }
            }
            Ok(Value::Object(obj))
        }
        "list" => {
            let item = shape.member.as_ref().expect("list shapes have a member");
            let tag = item.location_name.as_deref().unwrap_or("member");
            el.children
                .iter()
                .filter(|c| c.name == tag)
                .map(|c| xml_value(model, &item.shape, c))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        "map" => {
            let (k, v) = (shape.key.as_ref().expect("map key"), shape.value.as_ref().expect("map value"));
            let (k_tag, v_tag) = (k.location_name.as_deref().unwrap_or("key"), v.location_name.as_deref().unwrap_or("value"));
            let mut map = Map::new();
            for entry in el.children.iter().filter(|c| c.name == "entry") {
                let key = entry.children.iter().find(|c| c.name == k_tag).map(|c| c.text.clone()).unwrap_or_default();
                let value = entry.children.iter().find(|c| c.name == v_tag).map(|c| xml_value(model, &v.shape, c)).transpose()?;
                map.insert(key, value.unwrap_or(Value::Null));
            }
            Ok(Value::Object(map))
        }
        _ => scalar(shape, &el.text, &el.name).map_err(|_| malformed_xml()),
    }
}

/// The root element of an operation's XML output. The botocore JSON model drops the
/// Smithy `@xmlName` of output structures, so S3's names are listed here; any other
/// output is `<OperationResult>`.
fn root_element(operation: &str) -> Cow<'static, str> {
    match operation {
        "ListObjects" | "ListObjectsV2" => "ListBucketResult".into(),
        "ListBuckets" => "ListAllMyBucketsResult".into(),
        "GetBucketLocation" => "LocationConstraint".into(),
        "ListObjectVersions" => "ListVersionsResult".into(),
        "GetBucketVersioning" => "VersioningConfiguration".into(),
        "GetBucketTagging" | "GetObjectTagging" => "Tagging".into(),
        "GetBucketAcl" | "GetObjectAcl" => "AccessControlPolicy".into(),
        other => format!("{other}Result").into(),
    }
}

/// Writes an operation's output: header members as headers, the payload or an XML body.
pub fn encode_output(model: &Model, operation: &str, output: &Value) -> RestResponse {
    let op = model.operations.get(operation);
    let mut response =
        RestResponse { status: op.and_then(|o| o.http.as_ref()).and_then(|h| h.response_code).unwrap_or(200), ..Default::default() };
    let Some(out_ref) = op.and_then(|o| o.output.as_ref()) else { return response };
    let shape = model.shape(&out_ref.shape);
    let obj = output.as_object();
    let get = |name: &str| obj.and_then(|o| o.get(name)).filter(|v| !v.is_null());
    let mut has_body_members = false;
    for (name, member) in &shape.members.0 {
        let wire = member.location_name.as_deref().unwrap_or(name);
        match member.location.as_deref() {
            Some("header") => {
                if let Some(v) = get(name) {
                    response.headers.push((wire.to_owned(), header_text(model.shape(&member.shape), v)));
                }
            }
            Some("headers") => {
                for (k, v) in get(name).and_then(Value::as_object).into_iter().flatten() {
                    response.headers.push((format!("{wire}{k}"), v.as_str().map_or_else(|| v.to_string(), str::to_owned)));
                }
            }
            Some("statusCode") => {
                if let Some(code) = get(name).and_then(Value::as_u64).and_then(|c| u16::try_from(c).ok()) {
                    response.status = code;
                }
            }
            Some(_) => {}
            None => has_body_members = true,
        }
    }
    if let Some(payload) = shape.payload.as_deref() {
        let member = shape.members.get(payload).expect("the payload is a member");
        let member_shape = model.shape(&member.shape);
        match (member_shape.kind.as_str(), get(payload)) {
            ("blob", Some(Value::String(b64))) => response.body = BASE64.decode(b64).unwrap_or_default(),
            ("string", Some(Value::String(s))) => response.body = s.clone().into_bytes(),
            ("structure", Some(v)) => {
                let tag = member.location_name.as_deref().or(member_shape.location_name.as_deref()).unwrap_or(&member.shape);
                let mut xml = String::from(XML_DECLARATION);
                write_root(model, member_shape, tag, &namespace(model), v, &mut xml);
                response.body = xml.into_bytes();
                set_default_content_type(&mut response, "application/xml");
            }
            _ => {}
        }
        // A blob that is a byte range of the whole is 206 Partial Content (RFC 9110 §15.3.7).
        if member_shape.kind == "blob"
            && response.status == 200
            && response.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-range"))
        {
            response.status = 206;
        }
        return response;
    }
    if has_body_members {
        let root = root_element(operation);
        let mut xml = String::from(XML_DECLARATION);
        write_root(model, shape, &root, &namespace(model), output, &mut xml);
        response.body = xml.into_bytes();
        set_default_content_type(&mut response, "application/xml");
    }
    response
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

fn set_default_content_type(response: &mut RestResponse, content_type: &str) {
    if !response.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        response.headers.push(("Content-Type".to_owned(), content_type.to_owned()));
    }
}

/// Writes `<root xmlns=...>members</root>`. A structure whose only body member is named
/// like the root is written as the root's text (S3's `<LocationConstraint>eu-west-1</LocationConstraint>`).
fn write_root(model: &Model, shape: &Shape, root: &str, ns: &str, value: &Value, xml: &mut String) {
    let body_members: Vec<&(String, ShapeRef)> = shape.members.0.iter().filter(|(_, m)| m.location.is_none()).collect();
    if let [(name, member)] = body_members[..]
        && name == root
        && model.shape(&member.shape).kind != "structure"
    {
        match value.get(name.as_str()).map(|v| scalar_text(model.shape(&member.shape), v)).filter(|t| !t.is_empty()) {
            Some(text) => xml.push_str(&format!("<{root} xmlns=\"{ns}\">{}</{root}>", escape(&text))),
            None => xml.push_str(&format!("<{root} xmlns=\"{ns}\"/>")),
        }
        return;
    }
    xml.push_str(&format!("<{root} xmlns=\"{ns}\">"));
    if let Value::Object(obj) = value {
        for (name, member) in body_members {
            let Some(v) = obj.get(name).filter(|v| !v.is_null()) else { continue };
            write_member(model, member, member.location_name.as_deref().unwrap_or(name), v, xml);
        }
    }
    xml.push_str(&format!("</{root}>"));
}

fn write_member(model: &Model, member: &ShapeRef, tag: &str, value: &Value, xml: &mut String) {
    let shape = model.shape(&member.shape);
    match shape.kind.as_str() {
        "list" => {
            let item = shape.member.as_ref().expect("list shapes have a member");
            let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
            if member.flattened.or(shape.flattened).unwrap_or(false) {
                for v in items {
                    write_member(model, item, tag, v, xml);
                }
                return;
            }
            let item_tag = item.location_name.as_deref().unwrap_or("member");
            xml.push_str(&format!("<{tag}>"));
            for v in items {
                write_member(model, item, item_tag, v, xml);
            }
            xml.push_str(&format!("</{tag}>"));
        }
        "map" => {
            let (k_ref, v_ref) = (shape.key.as_ref().expect("map key"), shape.value.as_ref().expect("map value"));
            let flattened = member.flattened.or(shape.flattened).unwrap_or(false);
            if !flattened {
                xml.push_str(&format!("<{tag}>"));
            }
            // Each entry is `<entry>` inside the map's element, or the map's element itself when flattened.
            let entry_tag = if flattened { tag } else { "entry" };
            for (k, v) in value.as_object().into_iter().flatten() {
                xml.push_str(&format!("<{entry_tag}>"));
                write_member(model, k_ref, k_ref.location_name.as_deref().unwrap_or("key"), &Value::String(k.clone()), xml);
                write_member(model, v_ref, v_ref.location_name.as_deref().unwrap_or("value"), v, xml);
                xml.push_str(&format!("</{entry_tag}>"));
            }
            if !flattened {
                xml.push_str(&format!("</{tag}>"));
            }
        }
        "structure" => {
            xml.push_str(&format!("<{tag}>"));
            for (name, m) in &shape.members.0 {
                let Some(v) = value.get(name).filter(|v| !v.is_null()) else { continue };
                write_member(model, m, m.location_name.as_deref().unwrap_or(name), v, xml);
            }
            xml.push_str(&format!("</{tag}>"));
        }
        _ => xml.push_str(&format!("<{tag}>{}</{tag}>", escape(&scalar_text(shape, value)))),
    }
}

/// The text of a scalar in XML: timestamps in ISO 8601, everything else as is.
fn scalar_text(shape: &Shape, value: &Value) -> String {
    match (shape.kind.as_str(), value) {
        ("timestamp", v) => timestamp_of(v).map(format_iso).unwrap_or_default(),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// The text of a header member: timestamps as HTTP dates unless the model asks for ISO
/// 8601 or epoch seconds, lists comma-separated.
fn header_text(shape: &Shape, value: &Value) -> String {
    match (shape.kind.as_str(), value) {
        ("timestamp", v) => {
            let Some(t) = timestamp_of(v) else { return String::new() };
            match shape.timestamp_format.as_deref() {
                Some("iso8601") => format_iso(t),
                Some("unixTimestamp") => t.unix_timestamp().to_string(),
                _ => format_http_date(t),
            }
        }
        ("list", Value::Array(items)) => {
            items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect::<Vec<_>>().join(",")
        }
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

fn timestamp_of(value: &Value) -> Option<OffsetDateTime> {
    match value {
        Value::String(s) => parse_timestamp(s),
        Value::Number(n) => n.as_f64().and_then(|secs| OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128).ok()),
        _ => None,
    }
}

/// Writes an error as S3 does: `<Error><Code/><Message/>[details]<RequestId/></Error>`.
pub fn error_xml(err: &AwsError, request_id: &str) -> String {
    let mut xml = format!("{XML_DECLARATION}<Error><Code>{}</Code><Message>{}</Message>", escape(&err.code), escape(&err.message));
    for (name, value) in &err.details {
        xml.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    }
    xml.push_str(&format!("<RequestId>{}</RequestId></Error>", escape(request_id)));
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s3() -> Model {
        Model::parse(include_str!("../models/s3.json"))
    }

    fn route(method: &str, target: &str, headers: &[(&str, &str)]) -> Option<String> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        match_operation(&s3(), method, &target.parse().unwrap(), &map).map(str::to_owned)
    }

    fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> RestRequest {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        RestRequest { method: method.parse().unwrap(), uri: target.parse().unwrap(), headers: map, body: Bytes::from(body.to_owned()) }
    }

    #[test]
    fn routes_by_method_path_and_discriminators() {
        assert_eq!(route("GET", "/", &[]).as_deref(), Some("ListBuckets"));
        assert_eq!(route("GET", "/b", &[]).as_deref(), Some("ListObjects"));
        assert_eq!(route("GET", "/b/", &[]).as_deref(), Some("ListObjects"));
        assert_eq!(route("GET", "/b?prefix=x&marker=y", &[]).as_deref(), Some("ListObjects"));
        assert_eq!(route("GET", "/b?list-type=2&prefix=", &[]).as_deref(), Some("ListObjectsV2"));
        assert_eq!(route("GET", "/b?location", &[]).as_deref(), Some("GetBucketLocation"));
        assert_eq!(route("GET", "/b?lifecycle", &[]).as_deref(), Some("GetBucketLifecycleConfiguration"));
        assert_eq!(route("GET", "/b/a/b/c.json.gz", &[]).as_deref(), Some("GetObject"));
        assert_eq!(route("GET", "/b/k?uploadId=u", &[]).as_deref(), Some("ListParts"));
        assert_eq!(route("HEAD", "/b", &[]).as_deref(), Some("HeadBucket"));
        assert_eq!(route("HEAD", "/b/k", &[]).as_deref(), Some("HeadObject"));
        assert_eq!(route("PUT", "/b", &[]).as_deref(), Some("CreateBucket"));
        assert_eq!(route("PUT", "/b/k", &[]).as_deref(), Some("PutObject"));
        assert_eq!(route("PUT", "/b/k", &[("x-amz-copy-source", "/o/k")]).as_deref(), Some("CopyObject"));
        assert_eq!(route("PUT", "/b/k?partNumber=1&uploadId=u", &[]).as_deref(), Some("UploadPart"));
        assert_eq!(route("DELETE", "/b/k", &[]).as_deref(), Some("DeleteObject"));
        assert_eq!(route("POST", "/b?delete", &[]).as_deref(), Some("DeleteObjects"));
        assert_eq!(route("POST", "/b/k", &[]), None);
        assert_eq!(route("PATCH", "/b", &[]), None);
    }

    #[test]
    fn decodes_labels_query_headers_and_prefix_maps() {
        let m = s3();
        let req = request(
            "GET",
            "/my-bucket/a%20b/c+d%2Be?versionId=v1",
            &[("Range", "bytes=0-9"), ("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")],
            "",
        );
        let v = decode_input(&m, "GetObject", &req).unwrap();
        assert_eq!(
            v,
            json!({"Bucket": "my-bucket", "Key": "a b/c+d+e", "VersionId": "v1", "Range": "bytes=0-9", "IfModifiedSince": "1994-11-06T08:49:37.000Z"})
        );

        let req = request("GET", "/b?list-type=2&max-keys=5&fetch-owner=true&start-after=x%2Fy&encoding-type=url", &[], "");
        let v = decode_input(&m, "ListObjectsV2", &req).unwrap();
        assert_eq!(v, json!({"Bucket": "b", "MaxKeys": 5, "FetchOwner": true, "StartAfter": "x/y", "EncodingType": "url"}));

        let req = request("GET", "/b?max-keys=lots", &[], "");
        assert_eq!(decode_input(&m, "ListObjects", &req).unwrap_err().code, "InvalidArgument");

        let req = request("PUT", "/b/k", &[("x-amz-meta-Color", "blue"), ("x-amz-meta-size", "2")], "hi");
        let v = decode_input(&m, "PutObject", &req).unwrap();
        assert_eq!(v["Metadata"], json!({"color": "blue", "size": "2"}));
        assert_eq!(v["Body"], "aGk=");
    }

    #[test]
    fn decodes_an_xml_payload() {
        let m = s3();
        let body = r#"<?xml version="1.0" encoding="UTF-8"?><CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"#;
        let v = decode_input(&m, "CreateBucket", &request("PUT", "/b", &[], body)).unwrap();
        assert_eq!(v, json!({"Bucket": "b", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}));
        let err = decode_input(&m, "CreateBucket", &request("PUT", "/b", &[], "<CreateBucketConfiguration>")).unwrap_err();
        assert_eq!(err.code, "MalformedXML");
        let body = "<Tagging><TagSet><Tag><Key>a&amp;b</Key><Value>&#x41;</Value></Tag></TagSet></Tagging>";
        let v = decode_input(&m, "PutBucketTagging", &request("PUT", "/b?tagging", &[], body)).unwrap();
        assert_eq!(v["Tagging"], json!({"TagSet": [{"Key": "a&b", "Value": "A"}]}));
    }

    #[test]
    fn encodes_list_results_as_xml() {
        let m = s3();
        let out = json!({
            "Name": "b", "Prefix": "", "MaxKeys": 1000, "IsTruncated": false,
            "Contents": [{"Key": "a<b", "LastModified": "2024-01-02T03:04:05.000Z", "ETag": "\"e\"", "Size": 3, "StorageClass": "STANDARD"}],
            "CommonPrefixes": [{"Prefix": "d/"}],
        });
        let r = encode_output(&m, "ListObjects", &out);
        assert_eq!(r.status, 200);
        assert_eq!(r.headers, [("Content-Type".to_owned(), "application/xml".to_owned())]);
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsTruncated>false</IsTruncated><Contents><Key>a&lt;b</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;e&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents><Name>b</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys><CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes></ListBucketResult>"
        );
        let r = encode_output(&m, "ListBuckets", &json!({"Buckets": [{"Name": "b", "CreationDate": 0}], "Owner": {"ID": "abc"}}));
        assert!(String::from_utf8(r.body).unwrap().ends_with(
            "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Buckets><Bucket><Name>b</Name><CreationDate>1970-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets><Owner><ID>abc</ID></Owner></ListAllMyBucketsResult>"
        ));
    }

    #[test]
    fn bucket_location_is_the_root_text() {
        let m = s3();
        let r = encode_output(&m, "GetBucketLocation", &json!({}));
        assert!(String::from_utf8(r.body).unwrap().ends_with("<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>"));
        let r = encode_output(&m, "GetBucketLocation", &json!({"LocationConstraint": "eu-west-1"}));
        assert!(
            String::from_utf8(r.body)
                .unwrap()
                .ends_with("<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">eu-west-1</LocationConstraint>")
        );
    }

    #[test]
    fn encodes_objects_as_headers_and_body() {
        let m = s3();
        let out = json!({
            "Body": "aGVsbG8=", "ContentLength": 5, "ETag": "\"5d41402abc4b2a76b9719d911017c592\"",
            "LastModified": "2024-01-02T03:04:05.000Z", "ContentType": "binary/octet-stream",
            "Metadata": {"signature": "abc", "signing-algorithm": "SHA256withRSA"},
        });
        let r = encode_output(&m, "GetObject", &out);
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"hello");
        let header = |name: &str| r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        assert_eq!(header("Last-Modified"), Some("Tue, 02 Jan 2024 03:04:05 GMT"));
        assert_eq!(header("Content-Length"), Some("5"));
        assert_eq!(header("ETag"), Some("\"5d41402abc4b2a76b9719d911017c592\""));
        assert_eq!(header("x-amz-meta-signature"), Some("abc"));
        assert_eq!(header("x-amz-meta-signing-algorithm"), Some("SHA256withRSA"));
        assert_eq!(header("Content-Type"), Some("binary/octet-stream"));

        let partial = encode_output(&m, "GetObject", &json!({"Body": "aGU=", "ContentRange": "bytes 0-1/5"}));
        assert_eq!(partial.status, 206);
        let head = encode_output(&m, "HeadObject", &json!({"ContentLength": 5, "Metadata": {"a": "b"}}));
        assert!(head.body.is_empty());
        assert!(head.headers.contains(&("x-amz-meta-a".to_owned(), "b".to_owned())));
        assert_eq!(encode_output(&m, "DeleteObject", &json!({})).status, 204);
    }

    #[test]
    fn errors_are_s3_documents() {
        let e = AwsError::new("NoSuchKey", 404, "The specified key does not exist.").with("Key", "a&b");
        assert_eq!(
            error_xml(&e, "r1"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&amp;b</Key><RequestId>r1</RequestId></Error>"
        );
    }

    #[test]
    fn timestamps_round_trip() {
        let t = parse_timestamp("Tue, 02 Jan 2024 03:04:05 GMT").unwrap();
        assert_eq!(format_iso(t), "2024-01-02T03:04:05.000Z");
        assert_eq!(format_http_date(parse_timestamp("2024-01-02T03:04:05.250Z").unwrap()), "Tue, 02 Jan 2024 03:04:05 GMT");
        assert_eq!(parse_timestamp("0").map(format_iso).as_deref(), Some("1970-01-01T00:00:00.000Z"));
    }
}
