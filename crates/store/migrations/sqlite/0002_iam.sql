-- IAM entities of each account (users, groups, roles, customer managed policies,
-- access keys), one JSON document per entity. IAM state is small and read whole into
-- memory by the iam crate, which owns the documents' shape; the catalog only keeps them
-- durable and applies each change set in one transaction.

CREATE TABLE iam_entities (
    account_id TEXT NOT NULL,
    kind       TEXT NOT NULL,  -- user, group, role, policy, access-key
    key        TEXT NOT NULL,  -- lowercased name (IAM names are case-insensitive), policy ARN or key ID
    body       TEXT NOT NULL,  -- JSON; secrets inside are sealed under the master key
    PRIMARY KEY (account_id, kind, key)
);
