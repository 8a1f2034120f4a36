// Databases: Aurora clusters, their instances and cluster parameter groups, read with
// RDS's Query API; the audit parameters can be changed here, and every cluster links
// to the log groups its exports publish to.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { callQuery, list } from '../aws.js';
import { href } from '../router.js';
import { ErrorBox, Page, Table, Tabs, Status, useAsync, usePages, fmtTime } from '../ui.jsx';
import './rds.css';

const PAGE = 100;
// RDS names its list members after the shape (`<Filter>`, `<Value>`, `<Parameter>`).
const LIST_TAGS = { Filters: 'Filter', Values: 'Value', Parameters: 'Parameter' };

/** The log group Aurora publishes a cluster's `type` log (audit, error, …) to. */
export function clusterLogGroup(clusterId, type = 'audit') {
  return `/aws/rds/cluster/${clusterId}/${type}`;
}

function logsLink(group, stream) {
  return stream ? href(['logs', 'groups', group, 'streams', stream]) : href(['logs', 'groups', group]);
}

function rds(action, input) {
  return callQuery('rds', action, input, { listTag: LIST_TAGS });
}

/** Pages of a Marker-paged RDS list: the first page on load, more on request. */
function useRdsPages(action, input, key, tag, deps) {
  return usePages(async (marker) => {
    const out = await rds(action, { ...input, MaxRecords: PAGE, Marker: marker });
    return { items: list(out[key], tag), next: out.Marker || undefined };
  }, deps);
}

/** Every item of a Marker-paged list, page after page (for lists a page must see whole). */
async function allPages(action, input, key, tag, max = 2000) {
  const items = [];
  let marker;
  do {
    const out = await rds(action, { ...input, MaxRecords: PAGE, Marker: marker });
    items.push(...list(out[key], tag));
    marker = out.Marker || undefined;
  } while (marker && items.length < max);
  return items;
}

function MoreButton({ pages }) {
  if (!pages.more) return null;
  return <div class="toolbar"><button onClick={pages.more} disabled={pages.loading}>{pages.loading ? 'Loading…' : 'Load more'}</button></div>;
}

function memberRole(member) {
  return member.IsClusterWriter === 'true' ? 'writer' : 'reader';
}

function Tags({ values }) {
  if (!values.length) return <span class="muted">—</span>;
  return <span>{values.map((v) => <span key={v} class="tag">{v}</span>)}</span>;
}

/** Databases: clusters, instances and cluster parameter groups. */
export function RdsPage({ route }) {
  const [, section = 'clusters', id] = route.path;
  const tabs = [
    ['Clusters', href(['rds', 'clusters']), section === 'clusters'],
    ['Instances', href(['rds', 'instances']), section === 'instances'],
    ['Parameter groups', href(['rds', 'parameter-groups']), section === 'parameter-groups'],
  ];
  const body = {
    clusters: id ? <ClusterDetail id={id} /> : <ClusterList />,
    instances: id ? <InstanceDetail id={id} /> : <InstanceList />,
    'parameter-groups': id ? <ParameterGroupDetail name={id} /> : <ParameterGroupList />,
  }[section];
  return (
    <div class="rds">
      <Tabs tabs={tabs} />
      {body || <Page title="Databases"><p class="muted">No such page.</p></Page>}
    </div>
  );
}

// ---- Clusters ---------------------------------------------------------------------

function ClusterList() {
  const pages = useRdsPages('DescribeDBClusters', {}, 'DBClusters', 'DBCluster', []);
  const columns = [
    { title: 'Identifier', render: (c) => <a href={href(['rds', 'clusters', c.DBClusterIdentifier])}>{c.DBClusterIdentifier}</a> },
    { title: 'Engine', render: (c) => <span>{c.Engine} <span class="muted">{c.EngineVersion}</span></span> },
    { title: 'Status', render: (c) => <Status value={c.Status} /> },
    { title: 'Members', render: (c) => list(c.DBClusterMembers, 'DBClusterMember').length },
    { title: 'Writer endpoint', render: (c) => <span class="mono">{c.Endpoint ? `${c.Endpoint}:${c.Port}` : '—'}</span> },
    { title: 'Parameter group', render: (c) => <a href={href(['rds', 'parameter-groups', c.DBClusterParameterGroup])}>{c.DBClusterParameterGroup}</a> },
    { title: 'Log exports', render: (c) => <Tags values={list(c.EnabledCloudwatchLogsExports)} /> },
  ];
  return (
    <Page title="Clusters" actions={<button onClick={pages.reload} disabled={pages.loading}>Refresh</button>}>
      <ErrorBox error={pages.error} />
      <Table testid="db-clusters" columns={columns} rows={pages.items} loading={pages.loading} rowKey={(c) => c.DBClusterIdentifier} empty="No clusters." />
      <MoreButton pages={pages} />
    </Page>
  );
}

async function findCluster(id) {
  const out = await rds('DescribeDBClusters', { DBClusterIdentifier: id });
  return list(out.DBClusters, 'DBCluster')[0];
}

function ClusterDetail({ id }) {
  const { data: cluster, error, loading, reload } = useAsync(() => findCluster(id), [id]);
  const breadcrumbs = [['Clusters', href(['rds', 'clusters'])], [id]];
  const actions = <button onClick={reload} disabled={loading}>Refresh</button>;
  if (error) return <Page title={id} breadcrumbs={breadcrumbs} actions={actions}><ErrorBox error={error} /></Page>;
  if (!cluster) return <Page title={id} breadcrumbs={breadcrumbs}><p class="muted">Loading…</p></Page>;
  const members = list(cluster.DBClusterMembers, 'DBClusterMember');
  const exports = list(cluster.EnabledCloudwatchLogsExports);
  const roles = list(cluster.AssociatedRoles, 'DBClusterRole');
  const memberColumns = [
    { title: 'Instance', render: (m) => <a href={href(['rds', 'instances', m.DBInstanceIdentifier])}>{m.DBInstanceIdentifier}</a> },
    { title: 'Role', render: (m) => memberRole(m) },
    { title: 'Parameter group status', render: (m) => <Status value={m.DBClusterParameterGroupStatus} /> },
    { title: 'Promotion tier', render: (m) => m.PromotionTier ?? '—' },
  ];
  return (
    <Page title={id} breadcrumbs={breadcrumbs} actions={actions}>
      <div class="panel">
        <dl class="kv" data-testid="cluster-settings">
          <dt>Engine</dt><dd>{cluster.Engine} {cluster.EngineVersion}</dd>
          <dt>Status</dt><dd><Status value={cluster.Status} /></dd>
          <dt>Endpoint</dt><dd class="mono">{cluster.Endpoint || '—'}</dd>
          <dt>Reader endpoint</dt><dd class="mono">{cluster.ReaderEndpoint || '—'}</dd>
          <dt>Port</dt><dd>{cluster.Port || '—'}</dd>
          <dt>Master username</dt><dd>{cluster.MasterUsername || '—'}</dd>
          <dt>Parameter group</dt><dd><a href={href(['rds', 'parameter-groups', cluster.DBClusterParameterGroup])}>{cluster.DBClusterParameterGroup}</a></dd>
          <dt>Associated roles</dt>
          <dd>{roles.length ? roles.map((r) => <div key={r.RoleArn} class="mono">{r.RoleArn} {r.FeatureName && <span class="tag">{r.FeatureName}</span>} <Status value={r.Status} /></div>) : <span class="muted">None</span>}</dd>
          <dt>Log exports</dt><dd><Tags values={exports} /></dd>
          <dt>Created</dt><dd>{fmtTime(cluster.ClusterCreateTime)}</dd>
          <dt>ARN</dt><dd class="mono">{cluster.DBClusterArn}</dd>
        </dl>
      </div>
      <h3>Members</h3>
      <Table testid="db-cluster-members" columns={memberColumns} rows={members} rowKey={(m) => m.DBInstanceIdentifier} empty="No instances in this cluster." />
      <h3>Published logs</h3>
      <ClusterLogs id={id} exports={exports} members={members} />
    </Page>
  );
}

function ClusterLogs({ id, exports, members }) {
  if (!exports.length) return <p class="muted">This cluster publishes no logs to CloudWatch Logs.</p>;
  return (
    <div class="panel rds-logs" data-testid="cluster-logs">
      {exports.map((type) => {
        const group = clusterLogGroup(id, type);
        return (
          <div key={type} class="rds-log">
            <div>
              <span class="tag">{type}</span> <a href={logsLink(group)}>{group}</a>
              {' · '}<a href={href(['insights'], { group })}>Query in Logs Insights</a>
            </div>
            {members.length > 0 && (
              <ul class="rds-streams">
                {members.map((m) => (
                  <li key={m.DBInstanceIdentifier}>
                    <a href={logsLink(group, m.DBInstanceIdentifier)}>{m.DBInstanceIdentifier}</a> <span class="muted">{memberRole(m)}</span>
                  </li>
                ))}
              </ul>
            )}
          </div>
        );
      })}
      <p class="muted small">Aurora publishes each log to its group with one stream per instance, named by the instance.</p>
    </div>
  );
}

// ---- Instances --------------------------------------------------------------------

/** The clusters the given ids name, by id; a page of instances needs only their own. */
async function clustersById(ids) {
  const unique = [...new Set(ids.filter(Boolean))];
  if (!unique.length) return {};
  const clusters = await allPages('DescribeDBClusters', { Filters: [{ Name: 'db-cluster-id', Values: unique }] }, 'DBClusters', 'DBCluster');
  return Object.fromEntries(clusters.map((c) => [c.DBClusterIdentifier, c]));
}

function roleIn(cluster, instanceId) {
  const member = list(cluster?.DBClusterMembers, 'DBClusterMember').find((m) => m.DBInstanceIdentifier === instanceId);
  return member ? memberRole(member) : undefined;
}

function endpointOf(instance) {
  const e = instance.Endpoint;
  return e && e.Address ? `${e.Address}:${e.Port}` : undefined;
}

function InstanceList() {
  const pages = useRdsPages('DescribeDBInstances', {}, 'DBInstances', 'DBInstance', []);
  const clusterIds = pages.items.map((i) => i.DBClusterIdentifier).join(',');
  const clusters = useAsync(() => clustersById(clusterIds.split(',')), [clusterIds]);
  const columns = [
    { title: 'Identifier', render: (i) => <a href={href(['rds', 'instances', i.DBInstanceIdentifier])}>{i.DBInstanceIdentifier}</a> },
    { title: 'Cluster', render: (i) => i.DBClusterIdentifier ? <a href={href(['rds', 'clusters', i.DBClusterIdentifier])}>{i.DBClusterIdentifier}</a> : '—' },
    { title: 'Class', render: (i) => i.DBInstanceClass },
    { title: 'Engine', render: (i) => i.Engine },
    { title: 'Status', render: (i) => <Status value={i.DBInstanceStatus} /> },
    { title: 'Endpoint', render: (i) => <span class="mono">{endpointOf(i) || '—'}</span> },
    { title: 'Role', render: (i) => roleIn(clusters.data?.[i.DBClusterIdentifier], i.DBInstanceIdentifier) || '—' },
  ];
  const refresh = () => { pages.reload(); clusters.reload(); };
  return (
    <Page title="Instances" actions={<button onClick={refresh} disabled={pages.loading}>Refresh</button>}>
      <ErrorBox error={pages.error || clusters.error} />
      <Table testid="db-instances" columns={columns} rows={pages.items} loading={pages.loading} rowKey={(i) => i.DBInstanceIdentifier} empty="No instances." />
      <MoreButton pages={pages} />
    </Page>
  );
}

async function loadInstance(id) {
  const out = await rds('DescribeDBInstances', { DBInstanceIdentifier: id });
  const instance = list(out.DBInstances, 'DBInstance')[0];
  const cluster = instance?.DBClusterIdentifier ? await findCluster(instance.DBClusterIdentifier) : undefined;
  return { instance, cluster };
}

/** `{A: {B: 'x'}}` → [['A.B', 'x']]: every setting of a record, however nested. */
function flatten(value, prefix = '', out = []) {
  if (value === null || value === undefined || value === '') return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i + 1}]`, out));
    return out;
  }
  if (typeof value !== 'object') {
    out.push([prefix, value]);
    return out;
  }
  for (const [k, v] of Object.entries(value)) flatten(v, k === 'member' ? prefix : prefix ? `${prefix}.${k}` : k, out);
  return out;
}

function InstanceDetail({ id }) {
  const { data, error, loading, reload } = useAsync(() => loadInstance(id), [id]);
  const breadcrumbs = [['Instances', href(['rds', 'instances'])], [id]];
  const actions = <button onClick={reload} disabled={loading}>Refresh</button>;
  if (error) return <Page title={id} breadcrumbs={breadcrumbs} actions={actions}><ErrorBox error={error} /></Page>;
  if (!data) return <Page title={id} breadcrumbs={breadcrumbs}><p class="muted">Loading…</p></Page>;
  const { instance: i, cluster } = data;
  const clusterId = i.DBClusterIdentifier;
  const auditing = list(cluster?.EnabledCloudwatchLogsExports).includes('audit');
  const auditGroup = clusterId && clusterLogGroup(clusterId);
  const paramGroups = list(i.DBParameterGroups, 'DBParameterGroup');
  return (
    <Page title={id} breadcrumbs={breadcrumbs} actions={actions}>
      <div class="panel">
        <dl class="kv" data-testid="instance-settings">
          <dt>Status</dt><dd><Status value={i.DBInstanceStatus} /></dd>
          <dt>Cluster</dt><dd>{clusterId ? <a href={href(['rds', 'clusters', clusterId])}>{clusterId}</a> : '—'}</dd>
          <dt>Role</dt><dd>{roleIn(cluster, id) || '—'}</dd>
          <dt>Class</dt><dd>{i.DBInstanceClass}</dd>
          <dt>Engine</dt><dd>{i.Engine} {i.EngineVersion}</dd>
          <dt>Endpoint</dt><dd class="mono">{endpointOf(i) || '—'}</dd>
          <dt>Availability zone</dt><dd>{i.AvailabilityZone || '—'}</dd>
          <dt>Master username</dt><dd>{i.MasterUsername || '—'}</dd>
          <dt>Parameter groups</dt>
          <dd>{paramGroups.length ? paramGroups.map((g) => <div key={g.DBParameterGroupName}>{g.DBParameterGroupName} <Status value={g.ParameterApplyStatus} /></div>) : '—'}</dd>
          <dt>Log exports</dt><dd><Tags values={list(i.EnabledCloudwatchLogsExports)} /></dd>
          <dt>Audit log</dt>
          <dd>
            {auditing
              ? <a href={logsLink(auditGroup, id)}>Audit log</a>
              : <span class="muted">{clusterId ? 'The cluster does not export its audit log.' : 'Not in a cluster.'}</span>}
          </dd>
          <dt>Created</dt><dd>{fmtTime(i.InstanceCreateTime)}</dd>
          <dt>ARN</dt><dd class="mono">{i.DBInstanceArn}</dd>
        </dl>
      </div>
      <details class="panel">
        <summary>All settings</summary>
        <dl class="kv rds-all" data-testid="instance-all-settings">
          {flatten(i).map(([k, v]) => [<dt key={`${k}/k`}>{k}</dt>, <dd key={`${k}/v`} class="mono">{String(v)}</dd>])}
        </dl>
      </details>
      <h3>Recent events</h3>
      <InstanceEvents id={id} />
    </Page>
  );
}

function InstanceEvents({ id }) {
  // The last 14 days, the longest RDS keeps events.
  const pages = useRdsPages('DescribeEvents', { SourceType: 'db-instance', SourceIdentifier: id, Duration: 20160 }, 'Events', 'Event', [id]);
  const columns = [
    { title: 'Time', render: (e) => <span class="mono">{fmtTime(e.Date)}</span> },
    { title: 'Message', render: (e) => e.Message },
    { title: 'Categories', render: (e) => <Tags values={list(e.EventCategories, 'EventCategory')} /> },
  ];
  return (
    <div>
      <ErrorBox error={pages.error} />
      <Table testid="db-instance-events" columns={columns} rows={pages.items} loading={pages.loading} empty="No events in the last 14 days." />
      <MoreButton pages={pages} />
    </div>
  );
}

// ---- Parameter groups -------------------------------------------------------------

function ParameterGroupList() {
  const pages = useRdsPages('DescribeDBClusterParameterGroups', {}, 'DBClusterParameterGroups', 'DBClusterParameterGroup', []);
  const columns = [
    { title: 'Name', render: (g) => <a href={href(['rds', 'parameter-groups', g.DBClusterParameterGroupName])}>{g.DBClusterParameterGroupName}</a> },
    { title: 'Family', render: (g) => g.DBParameterGroupFamily },
    { title: 'Description', render: (g) => g.Description },
  ];
  return (
    <Page title="Cluster parameter groups" actions={<button onClick={pages.reload} disabled={pages.loading}>Refresh</button>}>
      <ErrorBox error={pages.error} />
      <Table testid="db-parameter-groups" columns={columns} rows={pages.items} loading={pages.loading} rowKey={(g) => g.DBClusterParameterGroupName} empty="No cluster parameter groups." />
      <MoreButton pages={pages} />
    </Page>
  );
}

async function loadParameterGroup(name) {
  const [groups, parameters] = await Promise.all([
    rds('DescribeDBClusterParameterGroups', { DBClusterParameterGroupName: name }),
    allPages('DescribeDBClusterParameters', { DBClusterParameterGroupName: name }, 'Parameters', 'Parameter'),
  ]);
  return { group: list(groups.DBClusterParameterGroups, 'DBClusterParameterGroup')[0], parameters };
}

function ParameterGroupDetail({ name }) {
  const { data, error, loading, reload } = useAsync(() => loadParameterGroup(name), [name]);
  const audit = useMemo(() => (data ? data.parameters.filter((p) => p.ParameterName.startsWith('server_audit')) : []), [data]);
  const breadcrumbs = [['Parameter groups', href(['rds', 'parameter-groups'])], [name]];
  const actions = <button onClick={reload} disabled={loading}>Refresh</button>;
  if (error) return <Page title={name} breadcrumbs={breadcrumbs} actions={actions}><ErrorBox error={error} /></Page>;
  if (!data) return <Page title={name} breadcrumbs={breadcrumbs}><p class="muted">Loading…</p></Page>;
  const { group, parameters } = data;
  return (
    <Page title={name} breadcrumbs={breadcrumbs} actions={actions}>
      {group && (
        <div class="panel">
          <dl class="kv">
            <dt>Family</dt><dd>{group.DBParameterGroupFamily}</dd>
            <dt>Description</dt><dd>{group.Description || '—'}</dd>
            <dt>ARN</dt><dd class="mono">{group.DBClusterParameterGroupArn}</dd>
          </dl>
        </div>
      )}
      <AuditParameters name={name} parameters={audit} onSaved={reload} />
      <h3>All parameters</h3>
      <ParameterTable parameters={parameters} />
    </Page>
  );
}

const valueOf = (p) => (typeof p.ParameterValue === 'string' ? p.ParameterValue : '');

/** Allowed values as a choice list, unless they are a range (`0-31536000`) or absent. */
function choices(p) {
  if (!p.AllowedValues || /^-?\d+(\.\d+)?-\d+(\.\d+)?$/.test(p.AllowedValues)) return undefined;
  return p.AllowedValues.split(',').map((v) => v.trim()).filter(Boolean);
}

function isListParameter(p) {
  return p.DataType === 'list' || p.ParameterName === 'server_audit_events';
}

/** The audit parameters, editable; saving changes only what changed and reads it back. */
function AuditParameters({ name, parameters, onSaved }) {
  const original = useMemo(() => Object.fromEntries(parameters.map((p) => [p.ParameterName, valueOf(p)])), [parameters]);
  const [values, setValues] = useState(original);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState('');
  useEffect(() => setValues(original), [original]);
  const changed = parameters.filter((p) => (values[p.ParameterName] ?? '') !== original[p.ParameterName]);
  const set = (param, value) => { setNotice(''); setValues((v) => ({ ...v, [param]: value })); };

  const save = async (e) => {
    e.preventDefault();
    if (!changed.length) return;
    setSaving(true);
    setError(null);
    setNotice('');
    const method = (p) => (p.ApplyType === 'static' ? 'pending-reboot' : 'immediate');
    // A value emptied goes back to the engine default: RDS takes no empty values.
    const cleared = changed.filter((p) => values[p.ParameterName] === '');
    const modified = changed.filter((p) => values[p.ParameterName] !== '');
    try {
      if (modified.length) {
        await rds('ModifyDBClusterParameterGroup', {
          DBClusterParameterGroupName: name,
          Parameters: modified.map((p) => ({ ParameterName: p.ParameterName, ParameterValue: values[p.ParameterName], ApplyMethod: method(p) })),
        });
      }
      if (cleared.length) {
        await rds('ResetDBClusterParameterGroup', {
          DBClusterParameterGroupName: name,
          Parameters: cleared.map((p) => ({ ParameterName: p.ParameterName, ApplyMethod: method(p) })),
        });
      }
      setNotice(`Saved ${changed.map((p) => p.ParameterName).join(', ')}.`);
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form class="panel rds-audit" onSubmit={save} aria-label="Audit parameters" data-testid="audit-parameters">
      <h2>Audit parameters</h2>
      {!parameters.length && <p class="muted">This group has no audit parameters.</p>}
      {parameters.map((p) => (
        <div key={p.ParameterName} class={`rds-param${changed.includes(p) ? ' changed' : ''}`}>
          <label class="rds-param-name mono" for={`param-${p.ParameterName}`}>{p.ParameterName}</label>
          <ParameterInput param={p} value={values[p.ParameterName] ?? ''} onChange={(v) => set(p.ParameterName, v)} />
          <span class="muted rds-param-desc">{p.Description}</span>
        </div>
      ))}
      <ErrorBox error={error} />
      {notice && <div class="notice" role="status">{notice}</div>}
      <div class="toolbar">
        <button type="submit" class="primary" disabled={saving || !changed.length}>{saving ? 'Saving…' : 'Save changes'}</button>
        <button type="button" disabled={saving || !changed.length} onClick={() => { setValues(original); setError(null); }}>Discard</button>
        {changed.length > 0 && <span class="muted">{changed.length} changed</span>}
      </div>
    </form>
  );
}

function ParameterInput({ param, value, onChange }) {
  const name = param.ParameterName;
  const id = `param-${name}`;
  if (param.IsModifiable !== 'true') {
    return <span class="mono" id={id}>{value || <span class="muted">(empty)</span>} <span class="muted">not modifiable</span></span>;
  }
  const options = choices(param);
  if (options && isListParameter(param)) return <ListInput id={id} name={name} options={options} value={value} onChange={onChange} />;
  if (options) {
    return (
      <select id={id} name={name} value={value} onChange={(e) => onChange(e.target.value)}>
        {!options.includes(value) && <option value={value}>{value || '(engine default)'}</option>}
        {options.map((o) => <option key={o} value={o}>{o}</option>)}
      </select>
    );
  }
  return <input id={id} name={name} value={value} onInput={(e) => onChange(e.target.value)} placeholder={param.AllowedValues || ''} />;
}

/** A comma-separated subset of `options`: checkboxes, and the text itself for typing. */
function ListInput({ id, name, options, value, onChange }) {
  const chosen = value.split(',').map((v) => v.trim()).filter(Boolean);
  const toggle = (o) => {
    const next = chosen.includes(o) ? chosen.filter((c) => c !== o) : [...chosen, o];
    // Kept in the allowed values' order, as RDS shows them.
    onChange(options.filter((x) => next.includes(x)).concat(next.filter((x) => !options.includes(x))).join(','));
  };
  return (
    <div class="rds-list-input">
      <div class="rds-checks">
        {options.map((o) => (
          <label key={o}><input type="checkbox" checked={chosen.includes(o)} onChange={() => toggle(o)} /> {o}</label>
        ))}
      </div>
      <input id={id} name={name} class="mono" value={value} onInput={(e) => onChange(e.target.value)} placeholder="comma-separated" />
    </div>
  );
}

// Long value lists wrap after their commas rather than mid-word.
function breakable(text) {
  return text.split(',').flatMap((part, i) => (i ? [',', <wbr key={i} />, part] : [part]));
}

function ParameterTable({ parameters }) {
  const [filter, setFilter] = useState('');
  const needle = filter.trim().toLowerCase();
  const rows = needle ? parameters.filter((p) => p.ParameterName.toLowerCase().includes(needle)) : parameters;
  const columns = [
    { title: 'Name', render: (p) => <span class="mono">{p.ParameterName}</span> },
    { title: 'Value', render: (p) => <span class="mono">{valueOf(p) || <span class="muted">—</span>}</span> },
    { title: 'Allowed values', render: (p) => <span class="mono rds-allowed">{p.AllowedValues ? breakable(p.AllowedValues) : '—'}</span> },
    { title: 'Source', render: (p) => p.Source },
    { title: 'Apply type', render: (p) => p.ApplyType },
    { title: 'Modifiable', render: (p) => (p.IsModifiable === 'true' ? 'yes' : 'no') },
  ];
  const detail = (p) => (
    <dl class="kv">
      <dt>Description</dt><dd>{p.Description || '—'}</dd>
      <dt>Data type</dt><dd>{p.DataType || '—'}</dd>
      <dt>Apply method</dt><dd>{p.ApplyMethod || '—'}</dd>
      {p.MinimumEngineVersion && [<dt key="k">Minimum engine version</dt>, <dd key="v">{p.MinimumEngineVersion}</dd>]}
    </dl>
  );
  return (
    <div class="page">
      <div class="toolbar">
        <input type="search" name="parameterFilter" placeholder="Filter parameters by name" value={filter} onInput={(e) => setFilter(e.target.value)} aria-label="Filter parameters by name" />
        <span class="muted">{rows.length} of {parameters.length}</span>
      </div>
      <Table testid="db-parameters" columns={columns} rows={rows} rowKey={(p) => p.ParameterName} expand={detail} empty="No parameters match." />
    </div>
  );
}
