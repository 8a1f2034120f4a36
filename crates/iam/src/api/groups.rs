//! Groups and membership: CreateGroup, GetGroup, ListGroups, DeleteGroup,
//! AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.

use serde_json::{Value, json};
use wire::AwsError;

use super::users::{existing as existing_user, user_json};
use super::{Request, already_exists, delete_conflict, iso, limit_exceeded, no_such_entity, page, paged, under};
use crate::Identities;
use crate::directory::{Change, Snapshot};
use crate::entities::{Group, Permissions, arn, new_id};

/// IAM's quota of groups a user may belong to.
const GROUPS_PER_USER: usize = 10;

pub(super) async fn call(ids: &Identities, op: &str, r: &Request<'_>) -> Result<Value, AwsError> {
    let account = ids.account_id();
    match op {
        "GetGroup" => {
            let snapshot = ids.snapshot();
            let group = existing(&snapshot, r.str("GroupName"))?;
            let members: Vec<_> = group.members.iter().filter_map(|m| snapshot.user(m)).collect();
            let (members, next) = page(members, r, |u| u.name.to_lowercase());
            let users: Vec<Value> = members.iter().map(|u| user_json(account, u)).collect();
            return Ok(paged(json!({"Group": group_json(account, group), "Users": users}), next));
        }
        "ListGroups" => {
            let snapshot = ids.snapshot();
            let groups: Vec<&Group> = snapshot.entities.groups.values().filter(|g| under(&g.path, r)).collect();
            let (groups, next) = page(groups, r, |g| g.name.to_lowercase());
            let groups: Vec<Value> = groups.iter().map(|g| group_json(account, g)).collect();
            return Ok(paged(json!({"Groups": groups}), next));
        }
        "ListGroupsForUser" => {
            let snapshot = ids.snapshot();
            let user = existing_user(&snapshot, r.str("UserName"))?;
            let groups: Vec<&Group> = snapshot.groups_of(&user.name).collect();
            let (groups, next) = page(groups, r, |g| g.name.to_lowercase());
            let groups: Vec<Value> = groups.iter().map(|g| group_json(account, g)).collect();
            return Ok(paged(json!({"Groups": groups}), next));
        }
        _ => {}
    }
    let _writing = ids.lock_writes().await?;
    let snapshot = ids.snapshot();
    match op {
        "CreateGroup" => {
            let name = r.str("GroupName");
            if snapshot.group(name).is_some() {
                return Err(already_exists(format!("Group with name {name} already exists.")));
            }
            let group = Group {
                name: name.to_owned(),
                id: new_id("AGPA"),
                path: r.opt("Path").unwrap_or("/").to_owned(),
                created: r.now(),
                members: Vec::new(),
                permissions: Permissions::default(),
            };
            ids.commit(vec![Change::Group(group.clone())]).await?;
            Ok(json!({"Group": group_json(account, &group)}))
        }
        "DeleteGroup" => {
            let group = existing(&snapshot, r.str("GroupName"))?;
            if !group.members.is_empty() {
                return Err(delete_conflict("Cannot delete entity, must remove users from group first."));
            }
            if !group.permissions.inline.is_empty() {
                return Err(delete_conflict("Cannot delete entity, must delete policies first."));
            }
            if !group.permissions.attached.is_empty() {
                return Err(delete_conflict("Cannot delete entity, must detach all policies first."));
            }
            ids.commit(vec![Change::DropGroup(group.name.clone())]).await?;
            Ok(json!({}))
        }
        "AddUserToGroup" => {
            let mut group = existing(&snapshot, r.str("GroupName"))?.clone();
            let user = existing_user(&snapshot, r.str("UserName"))?;
            if group.members.iter().any(|m| m.eq_ignore_ascii_case(&user.name)) {
                return Ok(json!({}));
            }
            if snapshot.groups_of(&user.name).count() >= GROUPS_PER_USER {
                return Err(limit_exceeded(format!("Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")));
            }
            group.members.push(user.name.clone());
            ids.commit(vec![Change::Group(group)]).await?;
            Ok(json!({}))
        }
        "RemoveUserFromGroup" => {
            let mut group = existing(&snapshot, r.str("GroupName"))?.clone();
            let user = existing_user(&snapshot, r.str("UserName"))?;
            let before = group.members.len();
            group.members.retain(|m| !m.eq_ignore_ascii_case(&user.name));
            if group.members.len() == before {
                return Err(no_such_entity(format!("User {} is not in group {}.", user.name, group.name)));
            }
            ids.commit(vec![Change::Group(group)]).await?;
            Ok(json!({}))
        }
        other => unreachable!("groups::call routed {other}"),
    }
}

/// The group of that name, or IAM's NoSuchEntity.
pub(super) fn existing<'a>(snapshot: &'a Snapshot, name: &str) -> Result<&'a Group, AwsError> {
    snapshot.group(name).ok_or_else(|| no_such_entity(format!("The group with name {name} cannot be found.")))
}

fn group_json(account: &str, g: &Group) -> Value {
    json!({
        "Path": g.path,
        "GroupName": g.name,
        "GroupId": g.id,
        "Arn": arn(account, "group", &g.path, &g.name),
        "CreateDate": iso(g.created),
    })
}
