// CloudTrail: event history (LookupEvents, filtered by one lookup attribute and a time
// range, kept in the route so a filtered view is a link) and trails with their status.
import { useState } from 'preact/hooks';
import { callJson } from '../aws.js';
import { href, navigate } from '../router.js';
import { ErrorBox, Json, Page, Status, Table, Tabs, TimeRange, fmtTime, rangeMillis, useAsync, usePages } from '../ui.jsx';
import { ConfigureLogs } from './trail_logs.jsx';
import './trail.css';

/** LookupAttributeKey, in the model's order. */
const ATTRIBUTE_KEYS = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'];
const PAGE_SIZE = 50;

/** CloudTrail's area: event history, one event, trails and one trail. */
export function TrailPage({ route }) {
  const [, tab, arg] = route.path;
  if (tab === 'trails' && arg) return <TrailDetail key={arg} name={arg} />;
  if (tab === 'trails') return <TrailList />;
  if (tab === 'events' && arg) return <EventRecord key={arg} id={arg} />;
  return <EventHistory params={route.params} />;
}

function TrailTabs({ active }) {
  return (
    <Tabs
      tabs={[
        ['Event history', href(['cloudtrail', 'events']), active === 'events'],
        ['Trails', href(['cloudtrail', 'trails']), active === 'trails'],
      ]}
    />
  );
}


/** Epoch seconds (CloudTrail's JSON dates) as the console's time format. */
const fmtSeconds = (s) => (s === undefined || s === null ? '—' : fmtTime(Number(s) * 1000));

/** The record inside an event, or {} when it is not JSON. */
function record(event) {
  try {
    return JSON.parse(event.CloudTrailEvent || '{}');
  } catch {
    return {};
  }
}

/** The IAM principal a record's caller can be simulated as, or undefined (root, services). */
function simulatablePrincipal(identity) {
  const arn = identity?.arn || '';
  const assumed = arn.match(/^arn:([^:]+):sts::(\d+):assumed-role\/([^/]+)\//);
  if (assumed) return `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`;
  return /^arn:[^:]+:iam::\d+:(user|role)\//.test(arn) ? arn : undefined;
}

/** A link to IAM's "Why" for the call a record describes, so a denial can be explained. */
function WhyLink({ rec }) {
  const principal = simulatablePrincipal(rec.userIdentity);
  if (!principal || !rec.eventSource || !rec.eventName) return null;
  const action = `${rec.eventSource.split('.')[0]}:${rec.eventName}`;
  const resource = rec.resources?.[0]?.ARN || '*';
  return <a href={href(['iam', 'why'], { principal, action, resource })}>Why…</a>;
}

/** An event's full record: the error message in words, then the JSON. */
function EventDetail({ event }) {
  const rec = record(event);
  return (
    <div class="event-detail">
      <div class="toolbar">
        <a href={href(['cloudtrail', 'events', event.EventId])}>Open event {event.EventId}</a>
        <WhyLink rec={rec} />
      </div>
      {rec.errorMessage && <p class="event-error-message"><strong class="trail-error">{rec.errorCode}</strong> {rec.errorMessage}</p>}
      <Json value={rec} />
    </div>
  );
}

function ResourceCell({ resources }) {
  const first = resources?.[0];
  if (!first) return '—';
  return (
    <span>
      <span class="muted">{first.ResourceType}</span> {first.ResourceName}
      {resources.length > 1 && <span class="muted"> +{resources.length - 1}</span>}
    </span>
  );
}

const EVENT_COLUMNS = [
  { title: 'Event time', render: (e) => <span class="trail-nowrap">{fmtSeconds(e.EventTime)}</span> },
  { title: 'Event name', render: (e) => <a href={href(['cloudtrail', 'events', e.EventId])} onClick={(ev) => ev.stopPropagation()}>{e.EventName}</a> },
  { title: 'User name', render: (e) => e.Username || '—' },
  { title: 'Event source', render: (e) => e.EventSource },
  { title: 'Resource', render: (e) => <ResourceCell resources={e.Resources} /> },
  { title: 'Error code', render: (e) => (e.errorCode ? <span class="trail-error">{e.errorCode}</span> : '') },
  { title: 'Read only', render: (e) => e.ReadOnly },
];

/** The lookup attribute and time range, applied by "Search" (or by picking a range). */
function EventFilter({ attrKey, attrValue, range }) {
  const [key, setKey] = useState(attrKey);
  const [value, setValue] = useState(attrValue);
  const go = (r) => navigate(['cloudtrail', 'events'], { key: key && value ? key : undefined, value: key && value ? value : undefined, range: r === 'all' ? undefined : r });
  const submit = (e) => {
    e.preventDefault();
    go(range);
  };
  return (
    <div class="trail-filter">
      <form class="toolbar" onSubmit={submit} aria-label="Lookup attributes">
        <select name="attributeKey" value={key} onChange={(e) => setKey(e.target.value)} aria-label="Lookup attribute">
          <option value="">(none)</option>
          {ATTRIBUTE_KEYS.map((k) => <option key={k} value={k}>{k}</option>)}
        </select>
        <input
          name="attributeValue"
          class="grow"
          value={value}
          disabled={!key}
          placeholder={key === 'ReadOnly' ? 'true or false' : key ? `${key} value` : 'Pick an attribute to filter by'}
          onInput={(e) => setValue(e.target.value)}
          aria-label="Attribute value"
        />
        <button type="submit" class="primary">Search</button>
      </form>
      <TimeRange value={range} onChange={go} />
    </div>
  );
}

/** Event history: LookupEvents, 50 at a time, filtered by the route's key, value and range. */
function EventHistory({ params }) {
  const key = params.get('key') || '';
  const value = params.get('value') || '';
  const range = params.get('range') || 'all';
  const events = usePages(async (token) => {
    const { start, end } = rangeMillis(range);
    const out = await callJson('cloudtrail', 'LookupEvents', {
      LookupAttributes: key && value ? [{ AttributeKey: key, AttributeValue: value }] : undefined,
      StartTime: start !== undefined ? Math.floor(start / 1000) : undefined,
      EndTime: end !== undefined ? Math.ceil(end / 1000) : undefined,
      MaxResults: PAGE_SIZE,
      NextToken: token,
    });
    const items = (out.Events || []).map((e) => ({ ...e, errorCode: record(e).errorCode }));
    return { items, next: out.NextToken };
  }, [key, value, range]);
  return (
    <Page title="CloudTrail" actions={<button onClick={events.reload} disabled={events.loading}>Refresh</button>}>
      <TrailTabs active="events" />
      <EventFilter key={params.toString()} attrKey={key} attrValue={value} range={range} />
      <ErrorBox error={events.error} />
      <Table
        testid="event-history"
        columns={EVENT_COLUMNS}
        rows={events.items}
        rowKey={(e) => e.EventId}
        expand={(e) => <EventDetail event={e} />}
        loading={events.loading}
        empty="No events match."
      />
      <div class="toolbar">
        {events.more && <button onClick={events.more}>Load more</button>}
        {events.loading && events.items.length > 0 && <span class="muted">Loading…</span>}
        <span class="muted">{events.items.length} event{events.items.length === 1 ? '' : 's'}</span>
      </div>
    </Page>
  );
}

/** One event by its ID (a deep link): its summary, error and full record. */
function EventRecord({ id }) {
  const { data, error, loading } = useAsync(
    () => callJson('cloudtrail', 'LookupEvents', { LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: id }], MaxResults: 1 }),
    [id],
  );
  const event = data?.Events?.[0];
  const rec = event ? record(event) : {};
  return (
    <Page title={event ? event.EventName : 'Event'} breadcrumbs={[['CloudTrail', href(['cloudtrail'])], ['Event history', href(['cloudtrail', 'events'])], [id]]}>
      <ErrorBox error={error} />
      {loading && <p class="muted">Loading…</p>}
      {data && !event && <p class="notice">No event with ID {id} in the last 90 days.</p>}
      {event && (
        <div class="panel" data-testid="event-record">
          <dl class="kv">
            <dt>Event time</dt><dd>{fmtSeconds(event.EventTime)}</dd>
            <dt>Event name</dt><dd>{event.EventName}</dd>
            <dt>Event source</dt><dd>{event.EventSource}</dd>
            <dt>User name</dt><dd>{event.Username || '—'}</dd>
            <dt>Principal</dt><dd class="mono">{rec.userIdentity?.arn || rec.userIdentity?.type || '—'}</dd>
            <dt>Access key</dt><dd class="mono">{event.AccessKeyId || '—'}</dd>
            <dt>Source IP</dt><dd>{rec.sourceIPAddress || '—'}</dd>
            <dt>Region</dt><dd>{rec.awsRegion || '—'}</dd>
            <dt>Request ID</dt><dd class="mono">{rec.requestID || '—'}</dd>
            <dt>Read only</dt><dd>{event.ReadOnly}</dd>
            <dt>Resources</dt><dd>{(event.Resources || []).map((r, i) => <div key={i}><span class="muted">{r.ResourceType}</span> {r.ResourceName}</div>)}{!event.Resources?.length && '—'}</dd>
            <dt>Error code</dt><dd>{rec.errorCode ? <span class="trail-error">{rec.errorCode}</span> : '—'}</dd>
          </dl>
        </div>
      )}
      {event && <EventDetail event={event} />}
    </Page>
  );
}

/** The error a status reports, newest kind first: delivery, CloudWatch Logs, digest, SNS. */
function lastError(status) {
  if (!status) return '';
  return status.LatestDeliveryError || status.LatestCloudWatchLogsDeliveryError || status.LatestDigestDeliveryError || status.LatestNotificationError || '';
}

function LoggingStatus({ status }) {
  if (!status) return '—';
  if (status.error) return <span class="trail-error" title={status.error.message}>{status.error.code}</span>;
  return <Status value={status.IsLogging ? 'Logging' : 'Stopped'} />;
}

/** Trails: DescribeTrails (this region's, no shadows), each with its GetTrailStatus. */
function TrailList() {
  const { data, error, loading, reload } = useAsync(async () => {
    const out = await callJson('cloudtrail', 'DescribeTrails', { includeShadowTrails: false });
    const trails = out.trailList || [];
    // A trail whose status fails still shows, with its error in place of the status.
    return Promise.all(trails.map(async (t) => {
      try {
        return { ...t, status: await callJson('cloudtrail', 'GetTrailStatus', { Name: t.TrailARN || t.Name }) };
      } catch (e) {
        return { ...t, status: { error: e } };
      }
    }));
  }, []);
  const columns = [
    { title: 'Name', render: (t) => <a href={href(['cloudtrail', 'trails', t.Name])}>{t.Name}</a> },
    { title: 'Home region', render: (t) => <span class="trail-nowrap">{t.HomeRegion || '—'}</span> },
    { title: 'S3 bucket', render: (t) => <span class="trail-nowrap">{t.S3BucketName || '—'}</span> },
    { title: 'Logging', render: (t) => <LoggingStatus status={t.status} /> },
    { title: 'Last delivery', render: (t) => <span class="trail-nowrap">{fmtSeconds(t.status?.LatestDeliveryTime)}</span> },
    { title: 'Last error', render: (t) => <span class="trail-error trail-last-error">{lastError(t.status)}</span> },
  ];
  return (
    <Page title="CloudTrail" actions={<button onClick={reload} disabled={loading}>Refresh</button>}>
      <TrailTabs active="trails" />
      <ErrorBox error={error} />
      <Table testid="trails" columns={columns} rows={data || []} rowKey={(t) => t.TrailARN} loading={loading} empty="No trails in this region." />
    </Page>
  );
}

/** The log group name in a CloudWatch Logs log group ARN (`…:log-group:NAME:*`). */
function logGroupName(arn) {
  const m = /:log-group:(.*?)(:\*)?$/.exec(arn || '');
  return m ? m[1] : undefined;
}

const yesNo = (v) => (v ? 'Yes' : 'No');

function TrailSettings({ trail, onChange }) {
  const [configuring, setConfiguring] = useState(false);
  const group = logGroupName(trail.CloudWatchLogsLogGroupArn);
  const roleName = trail.CloudWatchLogsRoleArn?.split('/').pop();
  return (
    <div class="panel">
      <h2 class="trail-panel-title">Settings</h2>
      <dl class="kv" data-testid="trail-settings">
        <dt>Trail ARN</dt><dd class="mono">{trail.TrailARN}</dd>
        <dt>Home region</dt><dd>{trail.HomeRegion || '—'}</dd>
        <dt>S3 bucket</dt><dd>{trail.S3BucketName || '—'}</dd>
        <dt>S3 key prefix</dt><dd>{trail.S3KeyPrefix || '—'}</dd>
        <dt>Multi-region trail</dt><dd>{yesNo(trail.IsMultiRegionTrail)}</dd>
        <dt>Global service events</dt><dd>{yesNo(trail.IncludeGlobalServiceEvents)}</dd>
        <dt>Log file validation</dt><dd>{trail.LogFileValidationEnabled ? 'Enabled' : 'Disabled'}</dd>
        <dt>Organization trail</dt><dd>{yesNo(trail.IsOrganizationTrail)}</dd>
        <dt>CloudWatch Logs log group</dt>
        <dd class="mono">
          {group ? <a href={href(['logs', 'groups', group])} title={trail.CloudWatchLogsLogGroupArn}>{group}</a> : '—'}{' '}
          <button class="link" onClick={() => setConfiguring(true)}>Configure</button>
        </dd>
        <dt>CloudWatch Logs role</dt>
        <dd class="mono">{trail.CloudWatchLogsRoleArn ? <a href={href(['iam', 'roles', roleName])}>{trail.CloudWatchLogsRoleArn}</a> : '—'}</dd>
        <dt>KMS key</dt><dd class="mono">{trail.KmsKeyId || '—'}</dd>
        <dt>SNS topic</dt><dd class="mono">{trail.SnsTopicARN || trail.SnsTopicName || '—'}</dd>
      </dl>
      {configuring && <ConfigureLogs trail={trail} onClose={() => setConfiguring(false)} onDone={() => { setConfiguring(false); onChange(); }} />}
    </div>
  );
}

/** GetTrailStatus's fields, in the model's order; dates are epoch seconds. */
const STATUS_FIELDS = [
  ['StartLoggingTime', 'Logging started', 'date'],
  ['StopLoggingTime', 'Logging stopped', 'date'],
  ['LatestDeliveryTime', 'Latest delivery', 'date'],
  ['LatestDeliveryError', 'Latest delivery error', 'error'],
  ['LatestDeliveryAttemptTime', 'Latest delivery attempt', 'iso'],
  ['LatestDeliveryAttemptSucceeded', 'Latest delivery attempt succeeded'],
  ['LatestDigestDeliveryTime', 'Latest digest delivery', 'date'],
  ['LatestDigestDeliveryError', 'Latest digest delivery error', 'error'],
  ['LatestCloudWatchLogsDeliveryTime', 'Latest CloudWatch Logs delivery', 'date'],
  ['LatestCloudWatchLogsDeliveryError', 'Latest CloudWatch Logs delivery error', 'error'],
  ['LatestNotificationTime', 'Latest SNS notification', 'date'],
  ['LatestNotificationError', 'Latest SNS notification error', 'error'],
];

function statusValue(status, [field, , kind]) {
  const v = status[field];
  if (v === undefined || v === null || v === '') return '—';
  if (kind === 'date') return fmtSeconds(v);
  if (kind === 'iso') return fmtTime(v);
  if (kind === 'error') return <span class="trail-error">{v}</span>;
  return String(v);
}

/** The trail's status with Start/Stop logging, which refresh it. */
function TrailStatus({ name }) {
  const status = useAsync(() => callJson('cloudtrail', 'GetTrailStatus', { Name: name }), [name]);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState(null);
  const act = async (operation) => {
    setBusy(true);
    setActionError(null);
    try {
      await callJson('cloudtrail', operation, { Name: name });
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
      status.reload();
    }
  };
  const s = status.data;
  return (
    <div class="panel">
      <header class="trail-panel-header">
        <h2 class="trail-panel-title">Status {s && <Status value={s.IsLogging ? 'Logging' : 'Stopped'} />}</h2>
        <div class="toolbar">
          <button class="primary" onClick={() => act('StartLogging')} disabled={busy || s?.IsLogging === true}>Start logging</button>
          <button class="danger" onClick={() => act('StopLogging')} disabled={busy || s?.IsLogging === false}>Stop logging</button>
          <button onClick={status.reload} disabled={status.loading}>Refresh</button>
        </div>
      </header>
      <ErrorBox error={actionError} />
      <ErrorBox error={status.error} />
      {s && (
        <dl class="kv" data-testid="trail-status">
          <dt>Logging</dt><dd>{s.IsLogging ? 'Yes' : 'No'}</dd>
          {STATUS_FIELDS.map((f) => [<dt key={`${f[0]}-t`}>{f[1]}</dt>, <dd key={`${f[0]}-d`}>{statusValue(s, f)}</dd>])}
        </dl>
      )}
    </div>
  );
}

function EventSelectors({ name }) {
  const { data, error } = useAsync(() => callJson('cloudtrail', 'GetEventSelectors', { TrailName: name }), [name]);
  const advanced = data?.AdvancedEventSelectors?.length > 0;
  return (
    <div class="panel">
      <h2 class="trail-panel-title">Event selectors {data && <span class="tag">{advanced ? 'Advanced' : 'Basic'}</span>}</h2>
      <ErrorBox error={error} />
      {data && <Json value={advanced ? data.AdvancedEventSelectors : data.EventSelectors || []} />}
    </div>
  );
}

function TrailTags({ arn }) {
  const { data, error } = useAsync(() => callJson('cloudtrail', 'ListTags', { ResourceIdList: [arn] }), [arn]);
  const tags = data?.ResourceTagList?.[0]?.TagsList || [];
  return (
    <div class="panel">
      <h2 class="trail-panel-title">Tags</h2>
      <ErrorBox error={error} />
      {data && (tags.length ? (
        <div data-testid="trail-tags">{tags.map((t) => <span key={t.Key} class="tag">{t.Key}{t.Value ? `=${t.Value}` : ''}</span>)}</div>
      ) : <p class="muted">No tags.</p>)}
    </div>
  );
}

/** One trail: GetTrail's settings, its status, event selectors and tags. */
function TrailDetail({ name }) {
  const { data, error, loading, reload } = useAsync(() => callJson('cloudtrail', 'GetTrail', { Name: name }), [name]);
  const trail = data?.Trail;
  return (
    <Page title={name} breadcrumbs={[['CloudTrail', href(['cloudtrail'])], ['Trails', href(['cloudtrail', 'trails'])], [name]]}>
      <ErrorBox error={error} />
      {loading && <p class="muted">Loading…</p>}
      {trail && <TrailSettings trail={trail} onChange={reload} />}
      {trail && <TrailStatus name={trail.TrailARN} />}
      {trail && <EventSelectors name={trail.TrailARN} />}
      {trail && <TrailTags arn={trail.TrailARN} />}
    </Page>
  );
}
