//! Users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser and user tags.

use serde_json::{Value, json};
use wire::AwsError;

use super::{
    Request, already_exists, boundary_arg, delete_conflict, iso, merge_tags, no_such_entity, page, paged, remove_tags, tags_json, under,
    with_boundary,
};
use crate::Identities;
use crate::directory::{Change, Snapshot};
use crate::entities::{Permissions, User, arn, new_id};

pub(super) async fn call(ids: &Identities, op: &str, r: &Request<'_>) -> Result<Value, AwsError> {
    if op == "GetUser" || op == "ListUsers" || op == "ListUserTags" {
        return read(ids, op, r);
    }
    let _writing = ids.lock_writes().await?;
    let snapshot = ids.snapshot();
    let account = ids.account_id();
    match op {
        "CreateUser" => {
            let name = r.str("UserName");
            if snapshot.user(name).is_some() {
                return Err(already_exists(format!("User with name {name} already exists.")));
            }
            let boundary = boundary_arg(&snapshot, r)?;
            let mut user = User {
                name: name.to_owned(),
                id: new_id("AIDA"),
                path: r.opt("Path").unwrap_or("/").to_owned(),
                created: r.now(),
                tags: Vec::new(),
                permissions: Permissions { boundary, ..Permissions::default() },
            };
            merge_tags(&mut user.tags, r.tags())?;
            ids.commit(vec![Change::User(user.clone())]).await?;
            Ok(json!({"User": user_json(account, &user)}))
        }
        "UpdateUser" => {
            let user = existing(&snapshot, r.str("UserName"))?.clone();
            let new_name = r.opt("NewUserName").unwrap_or(&user.name).to_owned();
            if !new_name.eq_ignore_ascii_case(&user.name) && snapshot.user(&new_name).is_some() {
                return Err(already_exists(format!("User with name {new_name} already exists.")));
            }
            rename(ids, &snapshot, user, &new_name, r.opt("NewPath")).await
        }
        "DeleteUser" => {
            let user = existing(&snapshot, r.str("UserName"))?;
            if snapshot.entities.keys.values().any(|k| k.user.eq_ignore_ascii_case(&user.name)) {
                return Err(delete_conflict("Cannot delete entity, must delete access keys first."));
            }
            if !user.permissions.inline.is_empty() {
                return Err(delete_conflict("Cannot delete entity, must delete policies first."));
            }
            if !user.permissions.attached.is_empty() {
                return Err(delete_conflict("Cannot delete entity, must detach all policies first."));
            }
            if snapshot.groups_of(&user.name).next().is_some() {
                return Err(delete_conflict("Cannot delete entity, must remove users from group first."));
            }
            ids.commit(vec![Change::DropUser(user.name.clone())]).await?;
            Ok(json!({}))
        }
        "TagUser" => {
            let mut user = existing(&snapshot, r.str("UserName"))?.clone();
            merge_tags(&mut user.tags, r.tags())?;
            ids.commit(vec![Change::User(user)]).await?;
            Ok(json!({}))
        }
        "UntagUser" => {
            let mut user = existing(&snapshot, r.str("UserName"))?.clone();
            remove_tags(&mut user.tags, &r.input["TagKeys"]);
            ids.commit(vec![Change::User(user)]).await?;
            Ok(json!({}))
        }
        other => unreachable!("users::call routed {other}"),
    }
}

fn read(ids: &Identities, op: &str, r: &Request<'_>) -> Result<Value, AwsError> {
    let snapshot = ids.snapshot();
    let account = ids.account_id();
    match op {
        "GetUser" => {
            let name = r.user_name()?;
            Ok(json!({"User": user_json(account, existing(&snapshot, &name)?)}))
        }
        "ListUsers" => {
            let users: Vec<&User> = snapshot.entities.users.values().filter(|u| under(&u.path, r)).collect();
            let (users, next) = page(users, r, |u| u.name.to_lowercase());
            // ListUsers leaves tags out, as AWS does; GetUser and ListUserTags return them.
            let users: Vec<Value> = users
                .iter()
                .map(|u| {
                    let mut v = user_json(account, u);
                    v.as_object_mut().map(|o| o.remove("Tags"));
                    v
                })
                .collect();
            Ok(paged(json!({"Users": users}), next))
        }
        "ListUserTags" => {
            let user = existing(&snapshot, r.str("UserName"))?;
            let (tags, next) = page(user.tags.clone(), r, |t| t.key.clone());
            Ok(paged(json!({"Tags": tags_json(&tags)}), next))
        }
        other => unreachable!("users::read routed {other}"),
    }
}

/// Renames a user and/or moves it to a new path: its keys and group memberships follow.
async fn rename(ids: &Identities, snapshot: &Snapshot, mut user: User, new_name: &str, new_path: Option<&str>) -> Result<Value, AwsError> {
    let old = user.name.clone();
    let mut changes = vec![Change::DropUser(old.clone())];
    user.name = new_name.to_owned();
    if let Some(path) = new_path {
        user.path = path.to_owned();
    }
    for key in snapshot.entities.keys.values().filter(|k| k.user.eq_ignore_ascii_case(&old)) {
        let mut key = key.clone();
        key.user = new_name.to_owned();
        changes.push(Change::Key(key));
    }
    for group in snapshot.groups_of(&old) {
        let mut group = group.clone();
        for m in group.members.iter_mut().filter(|m| m.eq_ignore_ascii_case(&old)) {
            *m = new_name.to_owned();
        }
        changes.push(Change::Group(group));
    }
    changes.push(Change::User(user));
    ids.commit(changes).await?;
    Ok(json!({}))
}

/// The user of that name, or IAM's NoSuchEntity.
pub(super) fn existing<'a>(snapshot: &'a Snapshot, name: &str) -> Result<&'a User, AwsError> {
    snapshot.user(name).ok_or_else(|| no_such_entity(format!("The user with name {name} cannot be found.")))
}

/// A user as the model's `User` shape.
pub(super) fn user_json(account: &str, u: &User) -> Value {
    let mut v = json!({
        "Path": u.path,
        "UserName": u.name,
        "UserId": u.id,
        "Arn": arn(account, "user", &u.path, &u.name),
        "CreateDate": iso(u.created),
    });
    if !u.tags.is_empty() {
        v["Tags"] = tags_json(&u.tags);
    }
    with_boundary(v, &u.permissions.boundary)
}
