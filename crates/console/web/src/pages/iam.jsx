// IAM: users, roles and managed policies with their documents, and "Why", which asks
// SimulatePrincipalPolicy whether a principal may call an action and which statements decide it.
import { useRef, useState } from 'preact/hooks';
import { callQuery, list } from '../aws.js';
import { href, navigate } from '../router.js';
import { ErrorBox, Field, Json, Page, Table, Tabs, fmtTime, useAsync, usePages } from '../ui.jsx';
import './iam.css';

const PAGE_SIZE = 100;

/** IAM's area: users, roles, policies and the policy simulator ("Why"). */
export function IamPage({ route }) {
  const [, tab = 'users', ...rest] = route.path;
  const name = rest.join('/');
  if (tab === 'roles') return name ? <RoleDetail key={name} name={name} /> : <RoleList />;
  // A policy ARN holds `/`; a link encodes it into one segment, a typed one may not.
  if (tab === 'policies') return name ? <PolicyDetail key={name} arn={name} /> : <PolicyList params={route.params} />;
  if (tab === 'why') return <Why params={route.params} />;
  return name ? <UserDetail key={name} name={name} /> : <UserList />;
}

function IamTabs({ active }) {
  const tab = (label, id) => [label, href(['iam', id]), active === id];
  return <Tabs tabs={[tab('Users', 'users'), tab('Roles', 'roles'), tab('Policies', 'policies'), tab('Why', 'why')]} />;
}


/** One Marker page of an IAM list action: its `key` list and the next Marker if truncated. */
async function iamPage(action, input, key, marker) {
  const out = await callQuery('iam', action, { ...input, Marker: marker, MaxItems: PAGE_SIZE });
  return { items: list(out[key]), next: out.IsTruncated === 'true' ? out.Marker : undefined };
}

function useIamList(action, input, key) {
  return usePages((marker) => iamPage(action, input, key, marker), [action, JSON.stringify(input), key]);
}

function LoadMore({ pages }) {
  return (
    <>
      <ErrorBox error={pages.error} />
      {(pages.more || (pages.loading && pages.items.length > 0)) && (
        <div class="toolbar">
          {pages.more && <button onClick={pages.more}>Load more</button>}
          {pages.loading && <span class="muted">Loading…</span>}
        </div>
      )}
    </>
  );
}

/** A policy document as IAM returns it (URL-encoded JSON), parsed; the raw text if it is not JSON. */
function decodeDocument(encoded) {
  const text = decodeText(encoded);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function decodeText(encoded) {
  try {
    return decodeURIComponent(encoded || '');
  } catch {
    return encoded || '';
  }
}

/** The last segment of an IAM ARN: `arn:aws:iam::1:user/path/alice` → `alice`. */
const arnName = (arn) => String(arn || '').split('/').pop();

/** An attached managed policy's page link. */
const policyLink = (arn, name) => <a href={href(['iam', 'policies', arn])}>{name || arnName(arn)}</a>;

function Panel({ title, actions, children, testid }) {
  return (
    <div class="panel iam-panel" data-testid={testid}>
      <header class="iam-panel-header"><h2>{title}</h2>{actions && <div class="toolbar">{actions}</div>}</header>
      {children}
    </div>
  );
}

function WhyButton({ principal }) {
  return <button onClick={() => navigate(['iam', 'why'], { principal })}>Why…</button>;
}

function Tags({ tags }) {
  const items = list(tags);
  if (!items.length) return '—';
  return items.map((t) => <span key={t.Key} class="tag">{t.Key}{t.Value ? `=${t.Value}` : ''}</span>);
}

// ---- Users ----

/** Users: ListUsers, a page of 100 at a time. */
function UserList() {
  const users = useIamList('ListUsers', {}, 'Users');
  const columns = [
    { title: 'User name', render: (u) => <a href={href(['iam', 'users', u.UserName])}>{u.UserName}</a> },
    { title: 'ARN', render: (u) => <span class="mono">{u.Arn}</span> },
    { title: 'Created', render: (u) => fmtTime(u.CreateDate) },
    { title: 'Path', render: (u) => u.Path },
  ];
  return (
    <Page title="IAM" actions={<button onClick={users.reload} disabled={users.loading}>Refresh</button>}>
      <IamTabs active="users" />
      <Table testid="iam-users" columns={columns} rows={users.items} rowKey={(u) => u.UserId} loading={users.loading} empty="No users." />
      <LoadMore pages={users} />
    </Page>
  );
}

/** Managed policies attached to a user or role (`ListAttached…Policies`). */
function AttachedPolicies({ action, input, testid }) {
  const pages = useIamList(action, input, 'AttachedPolicies');
  const columns = [
    { title: 'Policy name', render: (p) => policyLink(p.PolicyArn, p.PolicyName) },
    { title: 'ARN', render: (p) => <span class="mono">{p.PolicyArn}</span> },
    { title: 'Type', render: (p) => policyType(p.PolicyArn) },
  ];
  return (
    <Panel title="Attached managed policies">
      <Table testid={testid} columns={columns} rows={pages.items} rowKey={(p) => p.PolicyArn} loading={pages.loading} empty="No managed policies attached." />
      <LoadMore pages={pages} />
    </Panel>
  );
}

function InlinePolicy({ getAction, input, name }) {
  const { data, error, loading } = useAsync(() => callQuery('iam', getAction, { ...input, PolicyName: name }), [getAction, JSON.stringify(input), name]);
  return (
    <div class="iam-inline-policy" data-testid="inline-policy">
      <h3>{name}</h3>
      <ErrorBox error={error} />
      {loading && <p class="muted">Loading…</p>}
      {data && <Json value={decodeDocument(data.PolicyDocument)} />}
    </div>
  );
}

/** Inline policies: their names (`List…Policies`), each with its document (`Get…Policy`). */
function InlinePolicies({ listAction, getAction, input }) {
  const pages = useIamList(listAction, input, 'PolicyNames');
  return (
    <Panel title="Inline policies" testid="inline-policies">
      {!pages.loading && !pages.error && pages.items.length === 0 && <p class="muted">No inline policies.</p>}
      {pages.items.map((name) => <InlinePolicy key={name} getAction={getAction} input={input} name={name} />)}
      <LoadMore pages={pages} />
    </Panel>
  );
}

function UserGroups({ name }) {
  const pages = useIamList('ListGroupsForUser', { UserName: name }, 'Groups');
  const columns = [
    { title: 'Group name', render: (g) => g.GroupName },
    { title: 'ARN', render: (g) => <span class="mono">{g.Arn}</span> },
    { title: 'Created', render: (g) => fmtTime(g.CreateDate) },
  ];
  return (
    <Panel title="Groups">
      <Table testid="user-groups" columns={columns} rows={pages.items} rowKey={(g) => g.GroupId} loading={pages.loading} empty="Not in any group." />
      <LoadMore pages={pages} />
    </Panel>
  );
}

/** The user's access keys: ID, status and creation only (IAM never returns a secret again). */
function AccessKeys({ name }) {
  const pages = useIamList('ListAccessKeys', { UserName: name }, 'AccessKeyMetadata');
  const columns = [
    { title: 'Access key ID', render: (k) => <span class="mono">{k.AccessKeyId}</span> },
    { title: 'Status', render: (k) => <span class={`status ${k.Status === 'Active' ? 'ok' : 'bad'}`}>{k.Status}</span> },
    { title: 'Created', render: (k) => fmtTime(k.CreateDate) },
    { title: 'Events', render: (k) => <a href={href(['cloudtrail', 'events'], { key: 'AccessKeyId', value: k.AccessKeyId })}>Event history</a> },
  ];
  return (
    <Panel title="Access keys">
      <Table testid="access-keys" columns={columns} rows={pages.items} rowKey={(k) => k.AccessKeyId} loading={pages.loading} empty="No access keys." />
      <LoadMore pages={pages} />
    </Panel>
  );
}

/** One user: GetUser, its policies, groups and access keys. */
function UserDetail({ name }) {
  const { data, error, loading } = useAsync(() => callQuery('iam', 'GetUser', { UserName: name }), [name]);
  const user = data?.User;
  const input = { UserName: name };
  return (
    <Page
      title={name}
      breadcrumbs={[['IAM', href(['iam'])], ['Users', href(['iam', 'users'])], [name]]}
      actions={user && <WhyButton principal={user.Arn} />}
    >
      <ErrorBox error={error} />
      {loading && <p class="muted">Loading…</p>}
      {user && (
        <Panel title="Summary" testid="user-summary">
          <dl class="kv">
            <dt>ARN</dt><dd class="mono">{user.Arn}</dd>
            <dt>User ID</dt><dd class="mono">{user.UserId}</dd>
            <dt>Path</dt><dd>{user.Path}</dd>
            <dt>Created</dt><dd>{fmtTime(user.CreateDate)}</dd>
            <dt>Password last used</dt><dd>{user.PasswordLastUsed ? fmtTime(user.PasswordLastUsed) : '—'}</dd>
            <dt>Permissions boundary</dt><dd>{user.PermissionsBoundary ? policyLink(user.PermissionsBoundary.PermissionsBoundaryArn) : '—'}</dd>
            <dt>Tags</dt><dd><Tags tags={user.Tags} /></dd>
            <dt>Activity</dt><dd><a href={href(['cloudtrail', 'events'], { key: 'Username', value: name })}>Event history</a></dd>
          </dl>
        </Panel>
      )}
      {user && <AttachedPolicies action="ListAttachedUserPolicies" input={input} testid="user-attached-policies" />}
      {user && <InlinePolicies listAction="ListUserPolicies" getAction="GetUserPolicy" input={input} />}
      {user && <UserGroups name={name} />}
      {user && <AccessKeys name={name} />}
    </Page>
  );
}

// ---- Roles ----

/** Roles: ListRoles, a page of 100 at a time. */
function RoleList() {
  const roles = useIamList('ListRoles', {}, 'Roles');
  const columns = [
    { title: 'Role name', render: (r) => <a href={href(['iam', 'roles', r.RoleName])}>{r.RoleName}</a> },
    { title: 'ARN', render: (r) => <span class="mono">{r.Arn}</span> },
    { title: 'Created', render: (r) => fmtTime(r.CreateDate) },
    { title: 'Path', render: (r) => r.Path },
    { title: 'Description', render: (r) => r.Description || '' },
  ];
  return (
    <Page title="IAM" actions={<button onClick={roles.reload} disabled={roles.loading}>Refresh</button>}>
      <IamTabs active="roles" />
      <Table testid="iam-roles" columns={columns} rows={roles.items} rowKey={(r) => r.RoleId} loading={roles.loading} empty="No roles." />
      <LoadMore pages={roles} />
    </Page>
  );
}

function fmtDuration(seconds) {
  const s = Number(seconds);
  if (!s) return '—';
  const h = s / 3600;
  return Number.isInteger(h) ? `${h} hour${h === 1 ? '' : 's'} (${s} s)` : `${s} seconds`;
}

/** One role: GetRole with its trust policy, and its attached and inline policies. */
function RoleDetail({ name }) {
  const { data, error, loading } = useAsync(() => callQuery('iam', 'GetRole', { RoleName: name }), [name]);
  const role = data?.Role;
  const input = { RoleName: name };
  return (
    <Page
      title={name}
      breadcrumbs={[['IAM', href(['iam'])], ['Roles', href(['iam', 'roles'])], [name]]}
      actions={role && <WhyButton principal={role.Arn} />}
    >
      <ErrorBox error={error} />
      {loading && <p class="muted">Loading…</p>}
      {role && (
        <Panel title="Summary" testid="role-summary">
          <dl class="kv">
            <dt>ARN</dt><dd class="mono">{role.Arn}</dd>
            <dt>Role ID</dt><dd class="mono">{role.RoleId}</dd>
            <dt>Path</dt><dd>{role.Path}</dd>
            <dt>Description</dt><dd>{role.Description || '—'}</dd>
            <dt>Created</dt><dd>{fmtTime(role.CreateDate)}</dd>
            <dt>Maximum session duration</dt><dd>{fmtDuration(role.MaxSessionDuration)}</dd>
            <dt>Last used</dt><dd>{role.RoleLastUsed?.LastUsedDate ? `${fmtTime(role.RoleLastUsed.LastUsedDate)} ${role.RoleLastUsed.Region || ''}` : '—'}</dd>
            <dt>Permissions boundary</dt><dd>{role.PermissionsBoundary ? policyLink(role.PermissionsBoundary.PermissionsBoundaryArn) : '—'}</dd>
            <dt>Tags</dt><dd><Tags tags={role.Tags} /></dd>
          </dl>
        </Panel>
      )}
      {role && (
        <Panel title="Trust policy" testid="trust-policy">
          <Json value={decodeDocument(role.AssumeRolePolicyDocument)} />
        </Panel>
      )}
      {role && <AttachedPolicies action="ListAttachedRolePolicies" input={input} testid="role-attached-policies" />}
      {role && <InlinePolicies listAction="ListRolePolicies" getAction="GetRolePolicy" input={input} />}
    </Page>
  );
}

// ---- Policies ----

const SCOPES = [['Local', 'Customer managed'], ['AWS', 'AWS managed'], ['All', 'All']];

/** `AWS managed` for `arn:aws:iam::aws:policy/…`, else `Customer managed`. */
function policyType(arn) {
  return /^arn:[^:]+:iam::aws:policy\//.test(arn || '') ? 'AWS managed' : 'Customer managed';
}

/** Managed policies: ListPolicies by scope (in the route), filtered by name on the loaded pages. */
function PolicyList({ params }) {
  const scope = params.get('scope') || 'Local';
  const [search, setSearch] = useState('');
  const policies = useIamList('ListPolicies', { Scope: scope }, 'Policies');
  const needle = search.trim().toLowerCase();
  const rows = needle ? policies.items.filter((p) => p.PolicyName.toLowerCase().includes(needle)) : policies.items;
  const columns = [
    { title: 'Policy name', render: (p) => policyLink(p.Arn, p.PolicyName) },
    { title: 'Type', render: (p) => policyType(p.Arn) },
    { title: 'Attachments', render: (p) => p.AttachmentCount },
    { title: 'Default version', render: (p) => p.DefaultVersionId },
    { title: 'Updated', render: (p) => fmtTime(p.UpdateDate) },
  ];
  return (
    <Page title="IAM" actions={<button onClick={policies.reload} disabled={policies.loading}>Refresh</button>}>
      <IamTabs active="policies" />
      <div class="toolbar">
        <select name="scope" value={scope} onChange={(e) => navigate(['iam', 'policies'], { scope: e.target.value === 'Local' ? undefined : e.target.value })} aria-label="Scope">
          {SCOPES.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
        </select>
        <input type="search" name="search" placeholder="Filter loaded policies by name" value={search} onInput={(e) => setSearch(e.target.value)} />
        <span class="muted">{needle ? `${rows.length} of ${policies.items.length} loaded` : `${policies.items.length} loaded`}</span>
      </div>
      <Table testid="iam-policies" columns={columns} rows={rows} rowKey={(p) => p.Arn} loading={policies.loading} empty={needle ? 'No loaded policy matches.' : 'No policies.'} />
      <LoadMore pages={policies} />
    </Page>
  );
}

function PolicyVersionDocument({ arn, version }) {
  const { data, error, loading } = useAsync(() => callQuery('iam', 'GetPolicyVersion', { PolicyArn: arn, VersionId: version }), [arn, version]);
  if (loading) return <p class="muted">Loading…</p>;
  if (error) return <ErrorBox error={error} />;
  return <Json value={decodeDocument(data.PolicyVersion?.Document)} />;
}

function PolicyVersions({ arn }) {
  const pages = useIamList('ListPolicyVersions', { PolicyArn: arn }, 'Versions');
  const columns = [
    { title: 'Version', render: (v) => v.VersionId },
    { title: 'Default', render: (v) => (v.IsDefaultVersion === 'true' ? 'Default' : '') },
    { title: 'Created', render: (v) => fmtTime(v.CreateDate) },
  ];
  return (
    <Panel title="Versions">
      <Table
        testid="policy-versions"
        columns={columns}
        rows={pages.items}
        rowKey={(v) => v.VersionId}
        expand={(v) => <PolicyVersionDocument arn={arn} version={v.VersionId} />}
        loading={pages.loading}
      />
      <LoadMore pages={pages} />
    </Panel>
  );
}

/** One managed policy: GetPolicy, its default version's document and its versions. */
function PolicyDetail({ arn }) {
  const { data, error, loading } = useAsync(() => callQuery('iam', 'GetPolicy', { PolicyArn: arn }), [arn]);
  const policy = data?.Policy;
  return (
    <Page title={policy?.PolicyName || arnName(arn)} breadcrumbs={[['IAM', href(['iam'])], ['Policies', href(['iam', 'policies'])], [arnName(arn)]]}>
      <ErrorBox error={error} />
      {loading && <p class="muted">Loading…</p>}
      {policy && (
        <Panel title="Summary" testid="policy-summary">
          <dl class="kv">
            <dt>ARN</dt><dd class="mono">{policy.Arn}</dd>
            <dt>Type</dt><dd>{policyType(policy.Arn)}</dd>
            <dt>Description</dt><dd>{policy.Description || '—'}</dd>
            <dt>Path</dt><dd>{policy.Path}</dd>
            <dt>Default version</dt><dd>{policy.DefaultVersionId}</dd>
            <dt>Attachments</dt><dd data-testid="attachment-count">{policy.AttachmentCount}</dd>
            <dt>Used as permissions boundary</dt><dd>{policy.PermissionsBoundaryUsageCount || '0'}</dd>
            <dt>Attachable</dt><dd>{policy.IsAttachable === 'true' ? 'Yes' : 'No'}</dd>
            <dt>Created</dt><dd>{fmtTime(policy.CreateDate)}</dd>
            <dt>Updated</dt><dd>{fmtTime(policy.UpdateDate)}</dd>
          </dl>
        </Panel>
      )}
      {policy && (
        <Panel title={`Policy document (${policy.DefaultVersionId})`} testid="policy-document">
          <PolicyVersionDocument arn={policy.Arn} version={policy.DefaultVersionId} />
        </Panel>
      )}
      {policy && <PolicyVersions arn={policy.Arn} />}
    </Page>
  );
}

// ---- Why (policy simulator) ----

/** Splits a comma- or newline-separated list. */
const splitList = (text) => String(text || '').split(/[\n,]+/).map((s) => s.trim()).filter(Boolean);

/** The principals to offer: the first page of users and of roles (either may be refused). */
function usePrincipals() {
  return useAsync(async () => {
    const [users, roles] = await Promise.allSettled([iamPage('ListUsers', {}, 'Users'), iamPage('ListRoles', {}, 'Roles')]);
    return {
      users: users.status === 'fulfilled' ? users.value.items.map((u) => u.Arn) : [],
      roles: roles.status === 'fulfilled' ? roles.value.items.map((r) => r.Arn) : [],
      error: users.reason || roles.reason,
    };
  }, []);
}

/** The simulator's form; "Simulate" puts it in the route, which runs it. */
function WhyForm({ principal, actions, resources }) {
  const [form, setForm] = useState({ principal, actions: actions.join('\n'), resources: resources.join('\n') || '*' });
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const principals = usePrincipals();
  const known = [...(principals.data?.users || []), ...(principals.data?.roles || [])];
  const submit = (e) => {
    e.preventDefault();
    navigate(['iam', 'why'], {
      principal: form.principal.trim(),
      action: splitList(form.actions).join(','),
      resource: splitList(form.resources).join(','),
    });
  };
  return (
    <form class="panel iam-why-form" onSubmit={submit} aria-label="Policy simulator">
      <Field label="Principal" hint="A user or role; pick one, or type any IAM user or role ARN.">
        <div class="iam-principal">
          <select name="principal" value={known.includes(form.principal) ? form.principal : ''} onChange={set('principal')} aria-label="Principal">
            <option value="">{form.principal && !known.includes(form.principal) ? '(typed ARN)' : 'Choose a user or role…'}</option>
            {principals.data?.users.length > 0 && <optgroup label="Users">{principals.data.users.map((a) => <option key={a} value={a}>{a}</option>)}</optgroup>}
            {principals.data?.roles.length > 0 && <optgroup label="Roles">{principals.data.roles.map((a) => <option key={a} value={a}>{a}</option>)}</optgroup>}
          </select>
          <input name="principalArn" class="mono" placeholder="arn:aws:iam::123456789012:user/name" value={form.principal} onInput={set('principal')} aria-label="Principal ARN" />
        </div>
      </Field>
      <ErrorBox error={principals.data?.error} />
      <Field label="Actions" hint="Comma or newline separated, e.g. logs:DeleteLogGroup">
        <textarea name="actions" rows={Math.min(10, Math.max(3, splitList(form.actions).length + 1))} value={form.actions} onInput={set('actions')} />
      </Field>
      <Field label="Resource ARNs" hint="Comma or newline separated; * for any resource.">
        <textarea name="resources" rows={2} value={form.resources} onInput={set('resources')} />
      </Field>
      <div><button type="submit" class="primary" disabled={!form.principal.trim() || !splitList(form.actions).length}>Simulate</button></div>
    </form>
  );
}

/** Policy simulator: SimulatePrincipalPolicy for the route's principal, actions and resources. */
function Why({ params }) {
  const principal = params.get('principal') || '';
  const actions = splitList(params.get('action'));
  const resources = splitList(params.get('resource'));
  return (
    <Page title="IAM">
      <IamTabs active="why" />
      <WhyForm key={params.toString()} principal={principal} actions={actions} resources={resources} />
      {principal && actions.length > 0 && <SimulationResults key={params.toString()} principal={principal} actions={actions} resources={resources.length ? resources : ['*']} />}
    </Page>
  );
}

/** Every EvaluationResult, following Marker pages (the input is the user's short list). */
async function simulate(principal, actions, resources) {
  const results = [];
  let marker;
  for (let page = 0; page < 20; page++) {
    const out = await callQuery('iam', 'SimulatePrincipalPolicy', { PolicySourceArn: principal, ActionNames: actions, ResourceArns: resources, Marker: marker });
    results.push(...list(out.EvaluationResults));
    if (out.IsTruncated !== 'true' || !out.Marker) break;
    marker = out.Marker;
  }
  return results;
}

function policyNames(result) {
  const names = [...new Set(list(result.MatchedStatements).map((s) => s.SourcePolicyId))];
  return names.join(', ') || 'a policy';
}

/** The decision in words, as someone asking "why?" wants it. */
function explain(result) {
  if (result.EvalDecision === 'allowed') return `allowed by ${policyNames(result)}`;
  if (result.EvalDecision === 'explicitDeny') return `explicitly denied by ${policyNames(result)}`;
  return 'no policy allows it (implicit deny)';
}

const position = (p) => (p ? `${p.Line}:${p.Column}` : '?');

function SimulationResults({ principal, actions, resources }) {
  const { data, error, loading } = useAsync(() => simulate(principal, actions, resources), [principal, actions.join(), resources.join()]);
  // Documents are fetched once per policy for all the statements that quote them.
  const documents = useRef(new Map());
  const columns = [
    { title: 'Action', render: (r) => <span class="mono">{r.EvalActionName}</span> },
    { title: 'Resource', render: (r) => <span class="mono">{r.EvalResourceName}</span> },
    { title: 'Decision', render: (r) => <span class={r.EvalDecision === 'allowed' ? 'decision-allowed' : 'decision-denied'}>{r.EvalDecision}</span> },
    { title: 'Why', render: (r) => <span class="iam-explanation">{explain(r)}</span> },
    {
      title: 'Matched statements',
      render: (r) => list(r.MatchedStatements).map((s, i) => (
        <div key={i} class="iam-statement-ref">
          <strong>{s.SourcePolicyId}</strong> <span class="muted">({s.SourcePolicyType})</span> <span class="mono muted">{position(s.StartPosition)}–{position(s.EndPosition)}</span>
        </div>
      )),
    },
    { title: 'Missing context values', render: (r) => list(r.MissingContextValues).map((k) => <span key={k} class="tag">{k}</span>) },
  ];
  return (
    <div class="iam-why-results">
      <ErrorBox error={error} />
      {loading && <p class="muted">Simulating…</p>}
      {data && (
        <Table
          testid="why-results"
          columns={columns}
          rows={data}
          rowKey={(r, i) => `${r.EvalActionName} ${r.EvalResourceName} ${i}`}
          expand={(r) => <MatchedStatements principal={principal} result={r} documents={documents.current} />}
          empty="No evaluation results."
        />
      )}
      {data && data.length > 0 && <p class="muted">Click a result to see the statements that decided it.</p>}
    </div>
  );
}

/** The principal's type and name from its ARN: `user`/`role` and the name. */
function principalParts(arn) {
  const m = /^arn:[^:]+:iam::(\d+):(user|role)\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m ? { account: m[1], kind: m[2], name: m[3] } : {};
}

async function managedDocument(arn) {
  const { Policy } = await callQuery('iam', 'GetPolicy', { PolicyArn: arn });
  const { PolicyVersion } = await callQuery('iam', 'GetPolicyVersion', { PolicyArn: arn, VersionId: Policy.DefaultVersionId });
  return { text: decodeText(PolicyVersion.Document), arn };
}

/** The text of the policy a matched statement is in, found from its type and id. */
async function fetchDocument(principal, type, id) {
  const { account, kind, name } = principalParts(principal);
  if (type === 'user' && kind === 'user') return { text: decodeText((await callQuery('iam', 'GetUserPolicy', { UserName: name, PolicyName: id })).PolicyDocument) };
  if (type === 'role' && kind === 'role') return { text: decodeText((await callQuery('iam', 'GetRolePolicy', { RoleName: name, PolicyName: id })).PolicyDocument) };
  if (type === 'aws-managed') return managedDocument(`arn:aws:iam::aws:policy/${id}`);
  if (type === 'user-managed') {
    // The id is the policy's name; its ARN (path included) is found among the attachments.
    const attached = kind === 'role' ? 'ListAttachedRolePolicies' : 'ListAttachedUserPolicies';
    const out = await callQuery('iam', attached, kind === 'role' ? { RoleName: name } : { UserName: name });
    const found = list(out.AttachedPolicies).find((p) => p.PolicyName === id);
    return managedDocument(found ? found.PolicyArn : `arn:aws:iam::${account}:policy/${id}`);
  }
  if (type === 'group' && kind === 'user') {
    const groups = list((await callQuery('iam', 'ListGroupsForUser', { UserName: name })).Groups);
    for (const g of groups) {
      try {
        return { text: decodeText((await callQuery('iam', 'GetGroupPolicy', { GroupName: g.GroupName, PolicyName: id })).PolicyDocument), group: g.GroupName };
      } catch (e) {
        if (e.code !== 'NoSuchEntity') throw e;
      }
    }
  }
  return null;
}

/** The statement starting at a 1-based line and column: from its `{` to the matching `}`. */
function statementAt(text, start) {
  if (!text || !start) return undefined;
  const lines = text.split('\n');
  const line = Number(start.Line);
  const column = Number(start.Column);
  if (!(line >= 1 && line <= lines.length && column >= 1)) return undefined;
  const i = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
  if (text[i] !== '{') return undefined;
  let depth = 0;
  let inString = false;
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (inString) {
      if (c === '\\') j++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      try {
        return JSON.parse(text.slice(i, j + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function StatementText({ principal, statement, documents }) {
  const key = `${principal}|${statement.SourcePolicyType}|${statement.SourcePolicyId}`;
  if (!documents.has(key)) documents.set(key, fetchDocument(principal, statement.SourcePolicyType, statement.SourcePolicyId));
  const { data, error, loading } = useAsync(() => documents.get(key), [key]);
  if (loading) return <p class="muted">Loading the policy…</p>;
  if (error) return <ErrorBox error={error} />;
  const quoted = statementAt(data?.text, statement.StartPosition);
  return (
    <>
      {data?.arn && <p>Managed policy {policyLink(data.arn)}</p>}
      {data?.group && <p>Inline policy of group <strong>{data.group}</strong></p>}
      {quoted ? <Json value={quoted} /> : <p class="muted">The statement's text is not available here.</p>}
    </>
  );
}

/** The statements that decided a result, each quoted from its policy. */
function MatchedStatements({ principal, result, documents }) {
  const statements = list(result.MatchedStatements);
  const missing = list(result.MissingContextValues);
  return (
    <div class="iam-matched" data-testid="matched-statements">
      <p class={result.EvalDecision === 'allowed' ? 'decision-allowed' : 'decision-denied'}>
        {result.EvalActionName} on {result.EvalResourceName}: {explain(result)}.
      </p>
      {missing.length > 0 && <p>Missing context values: {missing.map((k) => <span key={k} class="tag">{k}</span>)}</p>}
      {statements.map((s, i) => (
        <div key={i} class="iam-statement">
          <h3>{s.SourcePolicyId} <span class="muted">({s.SourcePolicyType}, {position(s.StartPosition)}–{position(s.EndPosition)})</span></h3>
          <StatementText principal={principal} statement={s} documents={documents} />
        </div>
      ))}
    </div>
  );
}
