// CloudWatch Logs: log groups, their streams, and the events of a stream or a group
// (time range, filter pattern, infinite scroll both ways, live tail).
import { useState } from 'preact/hooks';
import { callJson } from '../aws.js';
import { href, navigate } from '../router.js';
import { ErrorBox, Field, Modal, Page, Table, fmtBytes, fmtRetention, fmtTime, useAction, useAsync } from '../ui.jsx';
import { EventsView } from './events.jsx';

/** The retention periods CloudWatch Logs accepts, in days. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** The Logs area: `#/logs`, `#/logs/groups/<group>`, `…/streams/<stream>`, `…/events`. */
export function LogsPage({ route }) {
  const [, , group, sub, stream] = route.path;
  if (!group) return <LogGroups />;
  if (sub === 'streams' && stream !== undefined) return <EventsView key={`${group}/${stream}`} group={group} stream={stream} route={route} />;
  if (sub === 'events') return <EventsView key={group} group={group} route={route} />;
  return <LogGroup key={group} name={group} />;
}

function groupLink(name) {
  return href(['logs', 'groups', name]);
}

/** The ARN that tags and policies name a group by (without DescribeLogGroups' `:*`). */
function groupArn(group) {
  return group.arn.replace(/:\*$/, '');
}

/** Every log group, searchable by name, with retention, stored bytes and creation. */
function LogGroups() {
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const [pages, setPages] = useState({ groups: [], next: undefined, loadingMore: false, error: null });
  const first = useAsync(async () => {
    const out = await callJson('logs', 'DescribeLogGroups', { limit: 50, ...(search ? { logGroupNamePattern: search } : {}) });
    setPages({ groups: out.logGroups || [], next: out.nextToken, loadingMore: false, error: null });
    return out;
  }, [search]);
  const more = async () => {
    setPages((p) => ({ ...p, loadingMore: true }));
    try {
      const out = await callJson('logs', 'DescribeLogGroups', { limit: 50, nextToken: pages.next, ...(search ? { logGroupNamePattern: search } : {}) });
      setPages((p) => ({ groups: [...p.groups, ...(out.logGroups || [])], next: out.nextToken, loadingMore: false, error: null }));
    } catch (error) {
      setPages((p) => ({ ...p, loadingMore: false, error }));
    }
  };
  return (
    <Page title="Log groups" actions={<button class="primary" onClick={() => setCreating(true)}>Create log group</button>}>
      <div class="toolbar">
        <input type="search" name="logGroupSearch" placeholder="Search log groups by name" value={search} onInput={(e) => setSearch(e.target.value)} />
        <button onClick={first.reload}>Refresh</button>
      </div>
      <ErrorBox error={first.error || pages.error} />
      <Table
        testid="log-groups"
        loading={first.loading}
        rows={pages.groups}
        rowKey={(g) => g.logGroupName}
        empty={search ? 'No log group matches.' : 'No log groups yet.'}
        columns={[
          { title: 'Log group', render: (g) => <a href={groupLink(g.logGroupName)}>{g.logGroupName}</a> },
          { title: 'Retention', render: (g) => fmtRetention(g.retentionInDays) },
          { title: 'Stored bytes', render: (g) => fmtBytes(g.storedBytes) },
          { title: 'Metric filters', render: (g) => g.metricFilterCount ?? 0 },
          { title: 'Created', render: (g) => fmtTime(g.creationTime) },
        ]}
      />
      {pages.next && <button onClick={more} disabled={pages.loadingMore}>{pages.loadingMore ? 'Loading…' : 'Load more'}</button>}
      {creating && <CreateGroup onClose={() => setCreating(false)} />}
    </Page>
  );
}

function parseTags(text) {
  const tags = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const i = line.indexOf('=');
    if (i < 0) tags[line] = '';
    else tags[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return tags;
}

/** The create dialog: name, retention and tags, as CreateLogGroup and PutRetentionPolicy. */
function CreateGroup({ onClose }) {
  const [name, setName] = useState('');
  const [retention, setRetention] = useState('');
  const [tags, setTags] = useState('');
  const create = useAction(async () => {
    const parsed = parseTags(tags);
    await callJson('logs', 'CreateLogGroup', { logGroupName: name, ...(Object.keys(parsed).length ? { tags: parsed } : {}) });
    if (retention) await callJson('logs', 'PutRetentionPolicy', { logGroupName: name, retentionInDays: Number(retention) });
    onClose();
    navigate(['logs', 'groups', name]);
  });
  const submit = (e) => {
    e.preventDefault();
    create.run();
  };
  return (
    <Modal title="Create log group" onClose={onClose}>
      <form onSubmit={submit} class="page">
        <Field label="Log group name"><input name="logGroupName" required autofocus value={name} onInput={(e) => setName(e.target.value)} /></Field>
        <Field label="Retention">
          <select name="retentionInDays" value={retention} onChange={(e) => setRetention(e.target.value)}>
            <option value="">Never expire</option>
            {RETENTION_DAYS.map((d) => <option key={d} value={d}>{fmtRetention(d)}</option>)}
          </select>
        </Field>
        <Field label="Tags" hint="One key=value per line."><textarea name="tags" rows={3} value={tags} onInput={(e) => setTags(e.target.value)} /></Field>
        <ErrorBox error={create.error} />
        <div class="buttons">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={create.busy}>Create</button>
        </div>
      </form>
    </Modal>
  );
}

async function describeGroup(name) {
  const out = await callJson('logs', 'DescribeLogGroups', { logGroupNamePrefix: name, limit: 50 });
  const group = (out.logGroups || []).find((g) => g.logGroupName === name);
  if (!group) {
    const error = new Error('The specified log group does not exist.');
    error.code = 'ResourceNotFoundException';
    throw error;
  }
  return group;
}

/** One log group: its settings, tags and streams, with delete. */
function LogGroup({ name }) {
  const group = useAsync(() => describeGroup(name), [name]);
  const [deleting, setDeleting] = useState(false);
  const crumbs = [['Log groups', href(['logs'])], [name]];
  if (group.error) return <Page title={name} breadcrumbs={crumbs}><ErrorBox error={group.error} /></Page>;
  const g = group.data;
  return (
    <Page
      title={name}
      breadcrumbs={crumbs}
      actions={
        <>
          <a href={href(['logs', 'groups', name, 'events'], { live: 1 })}><button>Live tail</button></a>
          <a href={href(['logs', 'groups', name, 'events'])}><button>Search all streams</button></a>
          <a href={href(['insights'], { group: name })}><button>Query in Insights</button></a>
          <button class="danger" onClick={() => setDeleting(true)}>Delete log group</button>
        </>
      }
    >
      {g && (
        <div class="panel">
          <dl class="kv">
            <dt>ARN</dt><dd class="mono">{g.arn}</dd>
            <dt>Created</dt><dd>{fmtTime(g.creationTime)}</dd>
            <dt>Stored bytes</dt><dd>{fmtBytes(g.storedBytes)}</dd>
            <dt>Retention</dt><dd><Retention group={g} onChange={group.reload} /></dd>
            <dt>Metric filters</dt><dd>{g.metricFilterCount ?? 0}</dd>
            <dt>Tags</dt><dd><Tags arn={groupArn(g)} /></dd>
          </dl>
        </div>
      )}
      <Streams group={name} />
      {deleting && <DeleteGroup name={name} onClose={() => setDeleting(false)} />}
    </Page>
  );
}

/** The group's retention, changed with PutRetentionPolicy or DeleteRetentionPolicy. */
function Retention({ group, onChange }) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(String(group.retentionInDays || ''));
  const save = useAction(async () => {
    if (value) await callJson('logs', 'PutRetentionPolicy', { logGroupName: group.logGroupName, retentionInDays: Number(value) });
    else await callJson('logs', 'DeleteRetentionPolicy', { logGroupName: group.logGroupName });
    setEditing(false);
    onChange();
  });
  if (!editing) return <span>{fmtRetention(group.retentionInDays)} <button class="link" onClick={() => setEditing(true)}>Edit</button></span>;
  return (
    <span class="toolbar">
      <select name="retention" value={value} onChange={(e) => setValue(e.target.value)}>
        <option value="">Never expire</option>
        {RETENTION_DAYS.map((d) => <option key={d} value={d}>{fmtRetention(d)}</option>)}
      </select>
      <button class="primary" onClick={() => save.run()} disabled={save.busy}>Save</button>
      <button onClick={() => setEditing(false)}>Cancel</button>
      <ErrorBox error={save.error} />
    </span>
  );
}

/** The group's tags, with add and remove (TagResource, UntagResource). */
function Tags({ arn }) {
  const tags = useAsync(() => callJson('logs', 'ListTagsForResource', { resourceArn: arn }), [arn]);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const change = useAction(async (operation, input) => {
    await callJson('logs', operation, { resourceArn: arn, ...input });
    setKey('');
    setValue('');
    tags.reload();
  });
  const entries = Object.entries(tags.data?.tags || {});
  return (
    <div>
      <ErrorBox error={tags.error || change.error} />
      {entries.length === 0 && !tags.loading && <span class="muted">No tags. </span>}
      {entries.map(([k, v]) => (
        <span class="tag" key={k}>{k}={v} <button class="link" title={`Remove ${k}`} onClick={() => change.run('UntagResource', { tagKeys: [k] })}>✕</button></span>
      ))}
      <form class="toolbar" onSubmit={(e) => { e.preventDefault(); change.run('TagResource', { tags: { [key]: value } }); }}>
        <input name="tagKey" placeholder="Key" required value={key} onInput={(e) => setKey(e.target.value)} />
        <input name="tagValue" placeholder="Value" value={value} onInput={(e) => setValue(e.target.value)} />
        <button type="submit">Add tag</button>
      </form>
    </div>
  );
}

/** The group's streams, most recent event first (or by name when searching a prefix). */
function Streams({ group }) {
  const [prefix, setPrefix] = useState('');
  const [state, setState] = useState({ streams: [], next: undefined, error: null, loading: true });
  const input = (next) => ({
    logGroupName: group,
    limit: 50,
    // AWS refuses a prefix together with ordering by last event time.
    ...(prefix ? { logStreamNamePrefix: prefix, orderBy: 'LogStreamName' } : { orderBy: 'LastEventTime', descending: true }),
    ...(next ? { nextToken: next } : {}),
  });
  const load = async (append) => {
    setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const out = await callJson('logs', 'DescribeLogStreams', input(append ? state.next : undefined));
      setState((s) => ({ streams: append ? [...s.streams, ...(out.logStreams || [])] : out.logStreams || [], next: out.nextToken, error: null, loading: false }));
    } catch (error) {
      setState((s) => ({ ...s, error, loading: false }));
    }
  };
  useAsync(() => load(false), [group, prefix]);
  return (
    <>
      <div class="toolbar">
        <h2>Log streams</h2>
        <input type="search" name="logStreamPrefix" placeholder="Filter by stream name prefix" value={prefix} onInput={(e) => setPrefix(e.target.value)} />
        <button onClick={() => load(false)}>Refresh</button>
      </div>
      <ErrorBox error={state.error} />
      <Table
        testid="log-streams"
        loading={state.loading}
        rows={state.streams}
        rowKey={(s) => s.logStreamName}
        empty="No log streams."
        columns={[
          { title: 'Log stream', render: (s) => <a href={href(['logs', 'groups', group, 'streams', s.logStreamName])}>{s.logStreamName}</a> },
          { title: 'Last event', render: (s) => fmtTime(s.lastEventTimestamp) },
          { title: 'First event', render: (s) => fmtTime(s.firstEventTimestamp) },
          { title: 'Created', render: (s) => fmtTime(s.creationTime) },
        ]}
      />
      {state.next && <button onClick={() => load(true)} disabled={state.loading}>Load more</button>}
    </>
  );
}

/** The delete dialog; a denial shows AWS's message here and leaves the group as it was. */
function DeleteGroup({ name, onClose }) {
  const remove = useAction(async () => {
    await callJson('logs', 'DeleteLogGroup', { logGroupName: name });
    onClose();
    navigate(['logs']);
  });
  return (
    <Modal title="Delete log group" onClose={onClose}>
      <p>Delete <strong>{name}</strong> and all of its streams and events? This cannot be undone.</p>
      <ErrorBox error={remove.error} />
      <div class="buttons">
        <button onClick={onClose}>Cancel</button>
        <button class="danger" onClick={() => remove.run()} disabled={remove.busy}>Delete</button>
      </div>
    </Modal>
  );
}
