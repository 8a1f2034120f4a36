//! Access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey.
//! The secret is returned once, at creation, and stored only sealed.

use serde_json::{Value, json};
use wire::AwsError;

use super::users::existing;
use super::{Request, iso, limit_exceeded, no_such_entity, page, paged};
use crate::Identities;
use crate::directory::{Change, seal_key};
use crate::entities::{AccessKey, new_access_key_id, new_secret};

/// IAM's quota of access keys per user.
const KEYS_PER_USER: usize = 2;

pub(super) async fn call(ids: &Identities, op: &str, r: &Request<'_>) -> Result<Value, AwsError> {
    if op == "ListAccessKeys" {
        let snapshot = ids.snapshot();
        let user = existing(&snapshot, &r.user_name()?)?.name.clone();
        let keys: Vec<&AccessKey> = snapshot.entities.keys.values().filter(|k| k.user.eq_ignore_ascii_case(&user)).collect();
        let (keys, next) = page(keys, r, |k| k.id.clone());
        let keys: Vec<Value> = keys.iter().map(|k| key_json(&user, k)).collect();
        return Ok(paged(json!({"AccessKeyMetadata": keys}), next));
    }
    if op == "GetAccessKeyLastUsed" {
        let snapshot = ids.snapshot();
        let id = r.str("AccessKeyId");
        let key = snapshot.entities.keys.get(id).ok_or_else(|| not_found(id))?;
        return Ok(json!({"UserName": key.user, "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}));
    }
    let _writing = ids.lock_writes().await?;
    let snapshot = ids.snapshot();
    let user = existing(&snapshot, &r.user_name()?)?.name.clone();
    match op {
        "CreateAccessKey" => {
            if snapshot.entities.keys.values().filter(|k| k.user.eq_ignore_ascii_case(&user)).count() >= KEYS_PER_USER {
                return Err(limit_exceeded(format!("Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}")));
            }
            let secret = new_secret();
            let key = AccessKey {
                id: new_access_key_id("AKIA"),
                user: user.clone(),
                sealed_secret: seal_key(&ids.dir.store, &secret),
                status: "Active".to_owned(),
                created: r.now(),
            };
            ids.commit(vec![Change::Key(key.clone())]).await?;
            let mut out = key_json(&user, &key);
            out["SecretAccessKey"] = json!(secret);
            Ok(json!({"AccessKey": out}))
        }
        "UpdateAccessKey" => {
            let mut key = owned_key(&snapshot.entities.keys, r.str("AccessKeyId"), &user)?;
            key.status = r.str("Status").to_owned();
            ids.commit(vec![Change::Key(key)]).await?;
            Ok(json!({}))
        }
        "DeleteAccessKey" => {
            let key = owned_key(&snapshot.entities.keys, r.str("AccessKeyId"), &user)?;
            ids.commit(vec![Change::DropKey(key.id)]).await?;
            Ok(json!({}))
        }
        other => unreachable!("keys::call routed {other}"),
    }
}

fn owned_key(keys: &std::collections::BTreeMap<String, AccessKey>, id: &str, user: &str) -> Result<AccessKey, AwsError> {
    keys.get(id).filter(|k| k.user.eq_ignore_ascii_case(user)).cloned().ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> AwsError {
    no_such_entity(format!("The Access Key with id {id} cannot be found."))
}

fn key_json(user: &str, k: &AccessKey) -> Value {
    json!({"UserName": user, "AccessKeyId": k.id, "Status": k.status, "CreateDate": iso(k.created)})
}
