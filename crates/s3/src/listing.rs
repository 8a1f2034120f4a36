//! ListObjects (v1 and v2) semantics over a sorted list of keys: prefix, delimiter and
//! common prefixes, markers and continuation tokens, page size; plus byte ranges.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as TOKEN;
use serde_json::{Value, json};
use wire::AwsError;
use wire::rest_xml::format_iso;

use crate::{str_member, whole_seconds};

/// The most keys one page holds, whatever MaxKeys asks for.
const MAX_KEYS: usize = 1000;

/// Which ListObjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    /// ListObjects: `Marker`, `NextMarker` (with a delimiter), every object's owner.
    V1,
    /// ListObjectsV2: `ContinuationToken`, `StartAfter`, `KeyCount`, owners on request.
    V2,
}

/// One object found under the bucket.
pub(crate) struct Object {
    /// The object's key.
    pub(crate) key: String,
    /// Size and modification time, from the file.
    pub(crate) meta: object_store::ObjectMeta,
}

/// An object of a page with its ETag.
pub(crate) struct ObjectEntry<'a> {
    pub(crate) key: &'a str,
    pub(crate) meta: &'a object_store::ObjectMeta,
    pub(crate) etag: String,
}

/// What a ListObjects call asks for.
pub(crate) struct Request {
    pub(crate) version: Version,
    pub(crate) prefix: String,
    pub(crate) delimiter: Option<String>,
    /// List keys strictly after this one (Marker, StartAfter or the token's key).
    pub(crate) after: Option<String>,
    pub(crate) max_keys: usize,
    /// MaxKeys as asked, echoed back.
    pub(crate) max_keys_echo: i64,
    pub(crate) url_encoded: bool,
    pub(crate) fetch_owner: bool,
    input: Value,
}

impl Request {
    /// Reads the request members; a bad MaxKeys or continuation token is InvalidArgument.
    pub(crate) fn from_input(input: &Value, version: Version) -> Result<Request, AwsError> {
        let max_keys_echo = input.get("MaxKeys").and_then(Value::as_i64).unwrap_or(MAX_KEYS as i64);
        if max_keys_echo < 0 {
            return Err(AwsError::client("InvalidArgument", "Argument maxKeys must be an integer between 0 and 2147483647")
                .with("ArgumentName", "maxKeys")
                .with("ArgumentValue", max_keys_echo.to_string()));
        }
        let after = match version {
            Version::V1 => input.get("Marker").and_then(Value::as_str).filter(|m| !m.is_empty()).map(str::to_owned),
            Version::V2 => match input.get("ContinuationToken").and_then(Value::as_str) {
                Some(token) => Some(decode_token(token)?),
                None => input.get("StartAfter").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned),
            },
        };
        Ok(Request {
            version,
            prefix: str_member(input, "Prefix").to_owned(),
            delimiter: input.get("Delimiter").and_then(Value::as_str).filter(|d| !d.is_empty()).map(str::to_owned),
            after,
            max_keys: (max_keys_echo as usize).min(MAX_KEYS),
            max_keys_echo,
            url_encoded: str_member(input, "EncodingType") == "url",
            fetch_owner: version == Version::V1 || input.get("FetchOwner").and_then(Value::as_bool).unwrap_or(false),
            input: input.clone(),
        })
    }
}

/// A continuation token is the last key or common prefix of the page before, opaque to clients.
fn encode_token(after: &str) -> String {
    TOKEN.encode(after)
}

fn decode_token(token: &str) -> Result<String, AwsError> {
    TOKEN.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| {
        AwsError::client("InvalidArgument", "The continuation token provided is incorrect").with("ArgumentName", "continuation-token")
    })
}

/// One page of results.
pub(crate) struct Page<'a> {
    pub(crate) objects: Vec<&'a Object>,
    pub(crate) common_prefixes: Vec<String>,
    pub(crate) truncated: bool,
    /// The last key or common prefix returned: where the next page starts after.
    pub(crate) last: Option<String>,
}

/// The page of `objects` (sorted, all under the prefix) that the request asks for. Each
/// key after the prefix that holds the delimiter rolls up into one common prefix, which
/// counts once towards MaxKeys and is skipped when it is not after the marker.
pub(crate) fn page<'a>(objects: &'a [Object], request: &Request) -> Page<'a> {
    let mut page = Page { objects: Vec::new(), common_prefixes: Vec::new(), truncated: false, last: None };
    if request.max_keys == 0 {
        return page;
    }
    let after = request.after.as_deref();
    let mut count = 0;
    for object in objects {
        let key = object.key.as_str();
        if after.is_some_and(|a| key <= a) {
            continue;
        }
        let Some(rest) = key.strip_prefix(request.prefix.as_str()) else { continue };
        let rolled = request.delimiter.as_deref().and_then(|d| rest.find(d).map(|i| &key[..request.prefix.len() + i + d.len()]));
        if let Some(cp) = rolled
            && (after.is_some_and(|a| cp <= a) || page.common_prefixes.last().is_some_and(|last| last == cp))
        {
            continue;
        }
        if count == request.max_keys {
            page.truncated = true;
            break;
        }
        count += 1;
        match rolled {
            Some(cp) => {
                page.common_prefixes.push(cp.to_owned());
                page.last = Some(cp.to_owned());
            }
            None => {
                page.objects.push(object);
                page.last = Some(key.to_owned());
            }
        }
    }
    page
}

/// The ListObjects / ListObjectsV2 output of a page.
pub(crate) fn output(bucket: &str, owner_id: &str, request: &Request, page: &Page<'_>, contents: &[ObjectEntry<'_>]) -> Value {
    let enc = |s: &str| if request.url_encoded { url_encode(s) } else { s.to_owned() };
    let owner = json!({"ID": owner_id});
    let contents: Vec<Value> = contents
        .iter()
        .map(|o| {
            let mut v = json!({
                "Key": enc(o.key),
                "LastModified": format_iso(whole_seconds(o.meta.last_modified.timestamp_millis())),
                "ETag": o.etag,
                "Size": o.meta.size,
                "StorageClass": "STANDARD",
            });
            if request.fetch_owner {
                v["Owner"] = owner.clone();
            }
            v
        })
        .collect();
    let mut out = json!({
        "Name": bucket,
        "Prefix": enc(&request.prefix),
        "MaxKeys": request.max_keys_echo,
        "IsTruncated": page.truncated,
    });
    if !contents.is_empty() {
        out["Contents"] = Value::Array(contents);
    }
    if !page.common_prefixes.is_empty() {
        out["CommonPrefixes"] = page.common_prefixes.iter().map(|p| json!({"Prefix": enc(p)})).collect();
    }
    if let Some(d) = &request.delimiter {
        out["Delimiter"] = json!(enc(d));
    }
    if request.url_encoded {
        out["EncodingType"] = json!("url");
    }
    match request.version {
        Version::V1 => {
            out["Marker"] = json!(enc(str_member(&request.input, "Marker")));
            // S3 names the next marker only when a delimiter is given; without one the
            // last key of the page is the next marker.
            if page.truncated && request.delimiter.is_some() {
                out["NextMarker"] = json!(enc(page.last.as_deref().unwrap_or_default()));
            }
        }
        Version::V2 => {
            out["KeyCount"] = json!(page.objects.len() + page.common_prefixes.len());
            if let Some(token) = request.input.get("ContinuationToken") {
                out["ContinuationToken"] = token.clone();
            }
            if let Some(start_after) = request.input.get("StartAfter").and_then(Value::as_str) {
                out["StartAfter"] = json!(enc(start_after));
            }
            if page.truncated {
                out["NextContinuationToken"] = json!(encode_token(page.last.as_deref().unwrap_or_default()));
            }
        }
    }
    out
}

/// `EncodingType=url`: everything but unreserved characters and `/` as `%XX`, so keys
/// with characters XML 1.0 cannot carry survive (clients unquote with `+` as space, so a
/// plus is encoded too).
fn url_encode(s: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');
    percent_encoding::utf8_percent_encode(s, KEEP).to_string()
}

/// The inclusive byte range a `Range` header asks of an object of `size` bytes:
/// `Ok(None)` serves the whole object (no range, or one S3 ignores: malformed or several
/// ranges), `Err` is unsatisfiable (416).
pub(crate) fn parse_range(header: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else { return Ok(None) };
    let (first, last) = (first.trim(), last.trim());
    let range = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => (start, end.min(size.saturating_sub(1))),
        (Ok(_), Ok(_)) => return Ok(None),
        (Ok(start), Err(_)) if last.is_empty() => (start, size.saturating_sub(1)),
        (Err(_), Ok(suffix)) if first.is_empty() => {
            if suffix == 0 {
                return Err(());
            }
            (size.saturating_sub(suffix), size.saturating_sub(1))
        }
        _ => return Ok(None),
    };
    if range.0 >= size {
        return Err(());
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(keys: &[&str]) -> Vec<Object> {
        keys.iter()
            .map(|k| Object {
                key: (*k).to_owned(),
                meta: object_store::ObjectMeta {
                    location: object_store::path::Path::from(*k),
                    last_modified: Default::default(),
                    size: 1,
                    e_tag: None,
                    version: None,
                },
            })
            .collect()
    }

    fn request(input: Value, version: Version) -> Request {
        Request::from_input(&input, version).unwrap()
    }

    fn keys<'a>(page: &Page<'a>) -> Vec<&'a str> {
        page.objects.iter().map(|o| o.key.as_str()).collect()
    }

    const KEYS: &[&str] = &["a", "b/1", "b/2", "b/c/3", "c", "d/1"];

    #[test]
    fn pages_follow_the_marker() {
        let all = objects(KEYS);
        let r = request(json!({"MaxKeys": 2}), Version::V1);
        let p = page(&all, &r);
        assert_eq!((keys(&p), p.truncated, p.last.as_deref()), (vec!["a", "b/1"], true, Some("b/1")));
        let r = request(json!({"MaxKeys": 2, "Marker": "b/1"}), Version::V1);
        let p = page(&all, &r);
        assert_eq!(keys(&p), ["b/2", "b/c/3"]);
        let r = request(json!({"Marker": "b/c/3"}), Version::V1);
        let p = page(&all, &r);
        assert_eq!((keys(&p), p.truncated), (vec!["c", "d/1"], false));
    }

    #[test]
    fn delimiter_rolls_up_common_prefixes() {
        let all = objects(KEYS);
        let r = request(json!({"Delimiter": "/", "MaxKeys": 2}), Version::V1);
        let p = page(&all, &r);
        assert_eq!((keys(&p), p.common_prefixes.clone(), p.truncated), (vec!["a"], vec!["b/".to_owned()], true));
        let out = output("bkt", "owner", &r, &p, &[]);
        assert_eq!(out["NextMarker"], "b/");
        // The next page skips everything under the common prefix it ended on.
        let r = request(json!({"Delimiter": "/", "Marker": "b/"}), Version::V1);
        let p = page(&all, &r);
        assert_eq!((keys(&p), p.common_prefixes.clone(), p.truncated), (vec!["c"], vec!["d/".to_owned()], false));

        let under_b: Vec<Object> = objects(&["b/1", "b/2", "b/c/3"]);
        let r = request(json!({"Delimiter": "/", "Prefix": "b/"}), Version::V1);
        let p = page(&under_b, &r);
        assert_eq!((keys(&p), p.common_prefixes.clone()), (vec!["b/1", "b/2"], vec!["b/c/".to_owned()]));
    }

    #[test]
    fn v2_tokens_and_key_count() {
        let all = objects(KEYS);
        let r = request(json!({"MaxKeys": 4}), Version::V2);
        let p = page(&all, &r);
        let out = output("bkt", "owner", &r, &p, &[]);
        assert_eq!(out["KeyCount"], 4);
        let token = out["NextContinuationToken"].as_str().unwrap().to_owned();
        let r = request(json!({"ContinuationToken": token, "StartAfter": "zzz"}), Version::V2);
        let p = page(&all, &r);
        assert_eq!((keys(&p), p.truncated), (vec!["c", "d/1"], false));
        let out = output("bkt", "owner", &r, &p, &[]);
        assert!(out.get("NextContinuationToken").is_none());
        assert_eq!(out["ContinuationToken"], token.as_str());
        let r = request(json!({"StartAfter": "b/2"}), Version::V2);
        assert_eq!(keys(&page(&all, &r)), ["b/c/3", "c", "d/1"]);
        assert_eq!(Request::from_input(&json!({"ContinuationToken": "!!"}), Version::V2).err().unwrap().code, "InvalidArgument");
    }

    #[test]
    fn max_keys_bounds() {
        let all = objects(KEYS);
        let p = page(&all, &request(json!({"MaxKeys": 0}), Version::V1));
        assert!(p.objects.is_empty() && !p.truncated);
        assert_eq!(request(json!({"MaxKeys": 5000}), Version::V1).max_keys, 1000);
        assert_eq!(Request::from_input(&json!({"MaxKeys": -1}), Version::V1).err().unwrap().code, "InvalidArgument");
    }

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("a b+c/ü~.txt"), "a%20b%2Bc/%C3%BC~.txt");
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(parse_range("bytes=90-200", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=10-", 100), Ok(Some((10, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-200", 100), Ok(Some((0, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Err(()));
        assert_eq!(parse_range("bytes=5-1", 100), Ok(None));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(parse_range("items=0-1", 100), Ok(None));
    }
}
