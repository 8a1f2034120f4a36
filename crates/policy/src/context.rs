//! The request as the evaluator sees it: action, resource, principal and context keys.

use std::borrow::Cow;

use crate::principal::Principal;

/// The request as the evaluator sees it.
///
/// Context keys are case-insensitive ("Key names are case-insensitive", IAM User Guide) and
/// hold one or more string values; numbers, dates, booleans and IP addresses are strings that
/// the condition operators parse. A key set to an empty list counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The action, e.g. `logs:PutLogEvents` (any case).
    pub action: String,
    /// The resource ARN, or `*` for actions without resource types.
    pub resource: String,
    /// Who is calling; `None` is treated like [`Principal::Anonymous`] by Principal elements.
    pub principal: Option<Principal>,
    /// Context keys, lowercased, sorted by [`key_order`]: lookups are a binary search with no
    /// hashing, and most comparisons stop at the lengths.
    keys: Vec<(String, Vec<String>)>,
}

impl RequestContext {
    /// A request for `action` on `resource`, with no principal and no context keys.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> RequestContext {
        RequestContext { action: action.into(), resource: resource.into(), principal: None, keys: Vec::new() }
    }

    /// The same request made by `principal`.
    pub fn with_principal(mut self, principal: Principal) -> RequestContext {
        self.principal = Some(principal);
        self
    }

    /// Sets `key` to the single value `value`, replacing what it held.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut RequestContext {
        self.set_all(key, [value.into()])
    }

    /// Sets `key` to `values` (a multivalued key such as `aws:TagKeys`), replacing what it held.
    pub fn set_all<I, S>(&mut self, key: &str, values: I) -> &mut RequestContext
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        let key = key.to_lowercase();
        match self.keys.binary_search_by(|(k, _)| key_order(k, &key)) {
            Ok(i) => self.keys[i].1 = values,
            Err(i) => self.keys.insert(i, (key, values)),
        }
        self
    }

    /// Adds `value` to the values of `key`.
    pub fn add(&mut self, key: &str, value: impl Into<String>) -> &mut RequestContext {
        let key = key.to_lowercase();
        match self.keys.binary_search_by(|(k, _)| key_order(k, &key)) {
            Ok(i) => self.keys[i].1.push(value.into()),
            Err(i) => self.keys.insert(i, (key, vec![value.into()])),
        }
        self
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) -> &mut RequestContext {
        let key = lower(key);
        if let Ok(i) = self.keys.binary_search_by(|(k, _)| key_order(k, &key)) {
            self.keys.remove(i);
        }
        self
    }

    /// The values of `key` (any case), or `None` when it is absent or empty.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.get_lowercase(&lower(key))
    }

    /// Every key present, lowercased, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter(|(_, v)| !v.is_empty()).map(|(k, _)| k.as_str())
    }

    /// [`RequestContext::get`] for a key that is already lowercase: the evaluator's path.
    pub(crate) fn get_lowercase(&self, key: &str) -> Option<&[String]> {
        let i = self.keys.binary_search_by(|(k, _)| key_order(k, key)).ok()?;
        let values = &self.keys[i].1;
        (!values.is_empty()).then_some(values.as_slice())
    }
}

/// Shorter keys first, then bytewise.
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

fn lower(key: &str) -> Cow<'_, str> {
    if key.chars().any(char::is_uppercase) { Cow::Owned(key.to_lowercase()) } else { Cow::Borrowed(key) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive() {
        let mut c = RequestContext::new("a:b", "*");
        c.set("aws:PrincipalTag/Team", "x");
        assert_eq!(c.get("AWS:principaltag/team"), Some(&["x".to_string()][..]));
        c.add("aws:principaltag/team", "y");
        assert_eq!(c.get("aws:PrincipalTag/Team").map(<[String]>::len), Some(2));
        c.set_all("aws:TagKeys", Vec::<String>::new());
        assert_eq!(c.get("aws:tagkeys"), None);
        c.remove("AWS:PRINCIPALTAG/TEAM");
        assert_eq!(c.get("aws:principaltag/team"), None);
    }
}
