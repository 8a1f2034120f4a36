// Logs Insights: pick log groups and a time range, write a query, run it with
// StartQuery and poll GetQueryResults; results come as a table and a histogram.
// Saved queries (query definitions) and recent queries are below the editor.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { callJson } from '../aws.js';
import { histogramQuery } from '../insights_query.js';
import { href } from '../router.js';
import {
  ErrorBox, Field, Json, Modal, Page, Status, Table, TimeRange,
  fmtBytes, fmtCount, fmtTime, parseJsonMessage, rangeMillis,
} from '../ui.jsx';
import './insights.css';

export const DEFAULT_QUERY = 'fields @timestamp, @message, @logStream\n| sort @timestamp desc\n| limit 100';
const DEFAULT_RANGE = '1h';
const MAX_GROUPS = 50; // StartQuery's limit on logGroupNames
const TERMINAL = ['Complete', 'Failed', 'Cancelled', 'Timeout', 'Unknown'];
const ROWS_STEP = 500;

/** Editor state from route params: `group` (repeated or comma-separated), `range`, `query`. */
function fromParams(params) {
  return {
    groups: [...new Set(params.getAll('group').flatMap((g) => g.split(',')).map((g) => g.trim()).filter(Boolean))],
    range: params.get('range') || DEFAULT_RANGE,
    query: params.get('query') ?? DEFAULT_QUERY,
  };
}

function toHash({ groups, range, query }) {
  return href(['insights'], {
    group: groups.join(','),
    range: range === DEFAULT_RANGE ? undefined : range,
    query: query === DEFAULT_QUERY ? undefined : query,
  });
}

/** Pages of a JSON list read with nextToken: the first page, then more on request. */
function useTokenPages(operation, input, key, deps) {
  const [state, setState] = useState({ items: [], token: undefined, error: null, loading: true });
  const generation = useRef(0);
  const fetchPage = (token, reset) => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    callJson('logs', operation, token ? { ...input, nextToken: token } : input).then(
      (out) => mine === generation.current && setState((s) => ({
        items: reset ? out[key] || [] : [...s.items, ...(out[key] || [])],
        token: out.nextToken,
        error: null,
        loading: false,
      })),
      (error) => mine === generation.current && setState((s) => ({ ...s, error, loading: false })),
    );
  };
  useEffect(() => fetchPage(undefined, true), deps); // eslint-disable-line react-hooks/exhaustive-deps
  return { ...state, more: state.token ? () => fetchPage(state.token, false) : null, reload: () => fetchPage(undefined, true) };
}

/** Runs one query at a time: StartQuery, then GetQueryResults every 500 ms until it ends. */
function useQueryRunner(onEnded) {
  const [run, setRun] = useState(null);
  const current = useRef(null);
  const timer = useRef(null);
  useEffect(() => () => { current.current = null; clearTimeout(timer.current); }, []);

  const poll = async (id) => {
    if (current.current !== id) return;
    try {
      const out = await callJson('logs', 'GetQueryResults', { queryId: id });
      if (current.current !== id) return;
      const ended = TERMINAL.includes(out.status);
      setRun((r) => ({ ...r, status: out.status, results: out.results || [], statistics: out.statistics, polling: !ended }));
      if (ended) onEnded();
      else timer.current = setTimeout(() => poll(id), 500);
    } catch (error) {
      if (current.current === id) setRun((r) => ({ ...r, error, polling: false }));
    }
  };

  // The histogram's own query: best effort; without it the histogram counts the rows.
  const countMatches = async (owner, groups, startMs, endMs, query) => {
    const counting = histogramQuery(query, startMs, endMs);
    if (!counting) return;
    try {
      const { queryId } = await callJson('logs', 'StartQuery', {
        logGroupNames: groups,
        startTime: Math.floor(startMs / 1000),
        endTime: Math.floor(endMs / 1000),
        queryString: counting,
      });
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        if (current.current !== owner) return;
        const out = await callJson('logs', 'GetQueryResults', { queryId });
        if (!TERMINAL.includes(out.status)) continue;
        if (out.status === 'Complete' && current.current === owner) setRun((r) => ({ ...r, histogram: out.results || [] }));
        return;
      }
    } catch {
      // The rows' own timestamps still make a histogram.
    }
  };

  const start = async ({ groups, range, query }) => {
    clearTimeout(timer.current);
    current.current = null;
    const span = rangeMillis(range);
    const endMs = span.end ?? Date.now();
    const startMs = span.start ?? endMs - 3600e3;
    setRun({ status: 'Starting', startMs, endMs, results: [], statistics: null, error: null, polling: false });
    try {
      const out = await callJson('logs', 'StartQuery', {
        logGroupNames: groups,
        startTime: Math.floor(startMs / 1000),
        endTime: Math.floor(endMs / 1000),
        queryString: query,
      });
      current.current = out.queryId;
      setRun((r) => ({ ...r, queryId: out.queryId, status: 'Scheduled', polling: true }));
      onEnded();
      poll(out.queryId);
      countMatches(out.queryId, groups, startMs, endMs, query);
    } catch (error) {
      setRun((r) => ({ ...r, status: undefined, error }));
    }
  };

  const stop = async () => {
    if (!run?.queryId) return;
    try {
      const out = await callJson('logs', 'StopQuery', { queryId: run.queryId });
      if (out.success === false) setRun((r) => ({ ...r, note: 'The query had already ended.' }));
    } catch (error) {
      setRun((r) => ({ ...r, error }));
    }
  };

  const running = !!run && (run.status === 'Starting' || run.polling);
  return { run, start, stop, running };
}

/** Logs Insights: query log groups and see the results as a table and a histogram. */
export function InsightsPage({ route }) {
  const routeKey = route.params.toString();
  const initial = useMemo(() => fromParams(route.params), [routeKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const [groups, setGroups] = useState(initial.groups);
  const [range, setRange] = useState(initial.range);
  const [query, setQuery] = useState(initial.query);
  const [definition, setDefinition] = useState(null);
  const recent = useTokenPages('DescribeQueries', { maxResults: 20 }, 'queries', []);
  const runner = useQueryRunner(recent.reload);

  // A link (from the Databases pages, or pasted) opens its prepared query.
  useEffect(() => {
    setGroups(initial.groups);
    setRange(initial.range);
    setQuery(initial.query);
    if (route.params.get('run') === '1' && initial.groups.length) runner.start(initial);
  }, [initial]); // eslint-disable-line react-hooks/exhaustive-deps

  // The address follows the editor, without a history entry per keystroke.
  useEffect(() => {
    const hash = toHash({ groups, range, query });
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }, [groups, range, query]);

  const canRun = groups.length > 0 && query.trim() !== '' && !runner.running;
  const runQuery = () => canRun && runner.start({ groups, range, query });
  const load = (q) => {
    setQuery(q.queryString || '');
    if (q.logGroupNames?.length) setGroups(q.logGroupNames.slice(0, MAX_GROUPS));
    else if (q.logGroupName) setGroups([q.logGroupName]);
    setDefinition(q.queryDefinitionId ? { id: q.queryDefinitionId, name: q.name } : null);
  };

  return (
    <Page title="Logs Insights" actions={definition && <span class="muted">Saved query: <strong>{definition.name}</strong></span>}>
      <div class="ins-editor">
        <GroupPicker selected={groups} onChange={setGroups} />
        <div class="ins-query">
          <TimeRange value={range} onChange={setRange} allowAll={false} />
          <textarea
            name="query"
            rows={7}
            spellcheck={false}
            value={query}
            onInput={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runQuery(); } }}
            aria-label="Query"
          />
          <div class="toolbar">
            <button class="primary" onClick={runQuery} disabled={!canRun}>Run query</button>
            <button onClick={runner.stop} disabled={!runner.running || !runner.run?.queryId}>Stop</button>
            <SaveButton groups={groups} query={query} definition={definition} onSaved={setDefinition} />
            {!groups.length && <span class="muted">Select at least one log group.</span>}
            <span class="muted ins-hint">Ctrl+Enter runs the query.</span>
          </div>
        </div>
      </div>
      <QueryRun run={runner.run} />
      <div class="ins-lists">
        <SavedQueries onLoad={load} current={definition} />
        <RecentQueries pages={recent} onLoad={load} />
      </div>
    </Page>
  );
}

// ---- Log group selection ----------------------------------------------------------

function useDebounced(value, ms) {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

function GroupPicker({ selected, onChange }) {
  const [filter, setFilter] = useState('');
  const pattern = useDebounced(filter.trim(), 250);
  const pages = useTokenPages('DescribeLogGroups', { limit: 50, logGroupNamePattern: pattern || undefined }, 'logGroups', [pattern]);
  const full = selected.length >= MAX_GROUPS;
  const toggle = (name) => onChange(selected.includes(name) ? selected.filter((g) => g !== name) : [...selected, name]);
  return (
    <div class="ins-groups" data-testid="log-group-picker">
      <div class="field-label">Log groups <span class="muted">({selected.length} selected)</span></div>
      <input type="search" name="logGroupFilter" placeholder="Filter log groups" value={filter} onInput={(e) => setFilter(e.target.value)} aria-label="Filter log groups" />
      <div class="ins-group-list">
        {pages.items.map((g) => (
          <label key={g.logGroupName} class="ins-group">
            <input
              type="checkbox"
              name="logGroup"
              value={g.logGroupName}
              checked={selected.includes(g.logGroupName)}
              disabled={full && !selected.includes(g.logGroupName)}
              onChange={() => toggle(g.logGroupName)}
            />
            <span class="mono">{g.logGroupName}</span>
          </label>
        ))}
        {!pages.loading && !pages.items.length && !pages.error && <div class="muted ins-empty">No log groups match.</div>}
        {pages.loading && <div class="muted ins-empty">Loading…</div>}
        {pages.more && !pages.loading && <button class="link" onClick={pages.more}>Load more</button>}
      </div>
      <ErrorBox error={pages.error} />
      {selected.length > 0 && (
        <div class="ins-selected">
          {selected.map((g) => (
            <span key={g} class="tag">
              {g} <button class="link" onClick={() => toggle(g)} aria-label={`Remove ${g}`}>✕</button>
            </span>
          ))}
        </div>
      )}
    </div>
  );
}

// ---- Results ----------------------------------------------------------------------

/** Result rows as objects, and their fields in order of first appearance (without @ptr). */
function shapeResults(results) {
  const fields = [];
  const rows = results.map((row) => {
    const out = {};
    for (const { field, value } of row) {
      out[field] = value;
      if (field !== '@ptr' && !fields.includes(field)) fields.push(field);
    }
    return out;
  });
  return { fields, rows };
}

function QueryRun({ run }) {
  const [shown, setShown] = useState(ROWS_STEP);
  const { fields, rows } = useMemo(() => shapeResults(run?.results || []), [run?.results]);
  useEffect(() => setShown(ROWS_STEP), [run?.queryId]);
  if (!run) return null;
  const stats = run.statistics;
  const columns = fields.map((f) => ({ title: f, render: (r) => <span class={f === '@message' ? 'ins-message' : 'mono'}>{r[f] ?? ''}</span> }));
  return (
    <div class="ins-run">
      <ErrorBox error={run.error} />
      <div class="ins-status" data-testid="query-status">
        {run.status && <span>Status: <Status value={run.status} /></span>}
        {stats && (
          <span class="muted">
            {fmtCount(stats.recordsMatched)} records matched · {fmtCount(stats.recordsScanned)} records scanned · {fmtBytes(stats.bytesScanned)} scanned
          </span>
        )}
        <span class="muted">{fmtTime(run.startMs)} → {fmtTime(run.endMs)} UTC</span>
        {run.note && <span class="muted">{run.note}</span>}
      </div>
      <Histogram fields={fields} rows={rows} counts={run.histogram} startMs={run.startMs} endMs={run.endMs} />
      <Table
        key={run.queryId}
        testid="insights-results"
        columns={columns.length ? columns : [{ title: 'Results', render: () => '' }]}
        rows={rows.slice(0, shown)}
        expand={(r) => <ResultDetail row={r} />}
        loading={!TERMINAL.includes(run.status) && !run.error}
        empty={run.error ? 'No results.' : 'No records matched.'}
      />
      {rows.length > shown && (
        <div class="toolbar">
          <span class="muted">Showing {fmtCount(shown)} of {fmtCount(rows.length)} rows.</span>
          <button onClick={() => setShown(shown + ROWS_STEP)}>Show more</button>
        </div>
      )}
    </div>
  );
}

function ResultDetail({ row }) {
  const json = typeof row['@message'] === 'string' ? parseJsonMessage(row['@message']) : undefined;
  return (
    <div class="ins-detail">
      <dl class="kv">
        {Object.entries(row).map(([k, v]) => [<dt key={`${k}/k`} class="mono">{k}</dt>, <dd key={`${k}/v`} class="mono">{v}</dd>])}
      </dl>
      {json !== undefined && <Json value={json} />}
    </div>
  );
}

// ---- Histogram --------------------------------------------------------------------

const UNITS = { ms: 1, msec: 1, s: 1e3, sec: 1e3, second: 1e3, m: 60e3, min: 60e3, minute: 60e3, h: 3600e3, hr: 3600e3, hour: 3600e3, d: 86400e3, day: 86400e3, w: 7 * 86400e3, week: 7 * 86400e3, mo: 30 * 86400e3, month: 30 * 86400e3, q: 91 * 86400e3, quarter: 91 * 86400e3, y: 365 * 86400e3, year: 365 * 86400e3 };

/** The width of `bin(5m)` in ms, if it can be read. */
function binWidth(field) {
  const m = /^bin\(\s*(?:@timestamp\s*,\s*)?(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*\)$/i.exec(field);
  return m && UNITS[m[2].toLowerCase()] ? Number(m[1]) * UNITS[m[2].toLowerCase()] : undefined;
}

/** Insights writes times as `2026-12-08 00:45:00.000`, in UTC. */
function parseTime(value) {
  if (value === undefined) return NaN;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  return Date.parse(text.replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? '' : 'Z'));
}

const isNumber = (v) => v !== undefined && v !== '' && !Number.isNaN(Number(v));

/** Bars `{t, v}` of width `width`: a `bin(…)` stat per bin, or rows counted in ~60 bins. */
function histogramData(fields, rows, startMs, endMs) {
  const binField = fields.find((f) => f.startsWith('bin('));
  if (binField) {
    const valueField = fields.find((f) => f !== binField && rows.some((r) => r[f] !== undefined) && rows.every((r) => r[f] === undefined || isNumber(r[f])));
    if (valueField) {
      const sums = new Map();
      for (const r of rows) {
        const t = parseTime(r[binField]);
        if (!Number.isNaN(t) && isNumber(r[valueField])) sums.set(t, (sums.get(t) || 0) + Number(r[valueField]));
      }
      if (sums.size) {
        const times = [...sums.keys()].sort((a, b) => a - b);
        const gaps = times.slice(1).map((t, i) => t - times[i]);
        const width = binWidth(binField) || (gaps.length ? Math.min(...gaps) : (endMs - startMs) / 60);
        const bars = times.map((t) => ({ t, v: sums.get(t) }));
        return { bars, width, from: Math.min(startMs, times[0]), to: Math.max(endMs, times[times.length - 1] + width), label: valueField };
      }
    }
  }
  const stamps = rows.map((r) => parseTime(r['@timestamp'])).filter((t) => !Number.isNaN(t));
  if (!stamps.length) return null;
  const bins = 60;
  const width = Math.max(1, (endMs - startMs) / bins);
  const counts = new Array(bins).fill(0);
  for (const t of stamps) {
    const i = Math.floor((t - startMs) / width);
    if (i >= 0 && i < bins) counts[i]++;
    else if (t === endMs) counts[bins - 1]++;
  }
  return { bars: counts.map((v, i) => ({ t: startMs + i * width, v })), width, from: startMs, to: endMs, label: 'records' };
}

function tickLabel(ms, span) {
  const iso = new Date(ms).toISOString();
  if (span <= 15 * 60e3) return iso.slice(11, 19);
  if (span <= 86400e3) return iso.slice(11, 16);
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

function useWidth(ref, fallback) {
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    if (!ref.current) return undefined;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.max(200, Math.floor(entry.contentRect.width))));
    observer.observe(ref.current);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

const HEIGHT = 120;
const PAD = { left: 44, right: 12, top: 10, bottom: 20 };

/** Bars over the range: the counting query's bins when it answered, else the results'. */
function Histogram({ fields, rows, counts, startMs, endMs }) {
  const box = useRef(null);
  const width = useWidth(box, 1000);
  const data = useMemo(() => {
    const counted = counts && shapeResults(counts);
    return counted ? histogramData(counted.fields, counted.rows, startMs, endMs) : histogramData(fields, rows, startMs, endMs);
  }, [fields, rows, counts, startMs, endMs]);
  if (!data) return <div ref={box} />;
  const { bars, from, to, label } = data;
  const max = Math.max(1, ...bars.map((b) => b.v));
  const plotW = width - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (t) => PAD.left + ((t - from) / (to - from || 1)) * plotW;
  const y = (v) => PAD.top + plotH - (v / max) * plotH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => from + f * (to - from));
  return (
    <div ref={box} class="ins-histogram">
      <svg class="histogram" data-testid="histogram" data-total={bars.reduce((sum, b) => sum + b.v, 0)} width="100%" height={HEIGHT} viewBox={`0 0 ${width} ${HEIGHT}`} role="img" aria-label={`${label} over time`}>
        <line x1={PAD.left} x2={width - PAD.right} y1={PAD.top + plotH} y2={PAD.top + plotH} class="ins-axis" />
        <text x={PAD.left - 6} y={PAD.top + 8} text-anchor="end" class="ins-ymax">{fmtCount(max)}</text>
        <text x={PAD.left - 6} y={PAD.top + plotH} text-anchor="end">0</text>
        {bars.map((b) => b.v > 0 && (
          <rect key={b.t} x={x(b.t)} y={y(b.v)} width={Math.max(1, x(b.t + data.width) - x(b.t) - 1)} height={PAD.top + plotH - y(b.v)} data-count={b.v}>
            <title>{`${fmtTime(b.t)}: ${fmtCount(b.v)} ${label}`}</title>
          </rect>
        ))}
        {ticks.map((t, i) => (
          <text key={i} x={x(t)} y={HEIGHT - 5} text-anchor={i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle'}>{tickLabel(t, to - from)}</text>
        ))}
      </svg>
    </div>
  );
}

// ---- Saved and recent queries -----------------------------------------------------

function SaveButton({ groups, query, definition, onSaved }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button onClick={() => setOpen(true)} disabled={!query.trim()}>Save</button>
      {open && <SaveDialog groups={groups} query={query} definition={definition} onClose={() => setOpen(false)} onSaved={(d) => { setOpen(false); onSaved(d); }} />}
    </>
  );
}

function SaveDialog({ groups, query, definition, onClose, onSaved }) {
  const [name, setName] = useState(definition?.name || '');
  const [asNew, setAsNew] = useState(!definition);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const out = await callJson('logs', 'PutQueryDefinition', {
        name: name.trim(),
        queryString: query,
        logGroupNames: groups.length ? groups : undefined,
        queryDefinitionId: asNew ? undefined : definition.id,
      });
      onSaved({ id: out.queryDefinitionId, name: name.trim() });
      dispatchEvent(new Event('insights-saved'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="Save this query" onClose={onClose}>
      <form onSubmit={submit} class="ins-save">
        <Field label="Name" hint="Folders are written as prefixes: audit/drops."><input name="queryName" required value={name} onInput={(e) => setName(e.target.value)} autofocus /></Field>
        {definition && (
          <label class="ins-check"><input type="checkbox" name="saveAsNew" checked={asNew} onChange={(e) => setAsNew(e.target.checked)} /> Save as a new query (instead of updating “{definition.name}”)</label>
        )}
        <div class="muted">Log groups: {groups.length ? groups.join(', ') : 'none'}</div>
        <pre class="ins-preview mono">{query}</pre>
        <ErrorBox error={error} />
        <div class="buttons">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy || !name.trim()}>{busy ? 'Saving…' : 'Save query'}</button>
        </div>
      </form>
    </Modal>
  );
}

function SavedQueries({ onLoad, current }) {
  const pages = useTokenPages('DescribeQueryDefinitions', { maxResults: 50 }, 'queryDefinitions', []);
  const [confirming, setConfirming] = useState(null);
  const [error, setError] = useState(null);
  const reload = pages.reload;
  useEffect(() => {
    addEventListener('insights-saved', reload);
    return () => removeEventListener('insights-saved', reload);
  }, [reload]);
  const remove = async (id) => {
    setError(null);
    try {
      await callJson('logs', 'DeleteQueryDefinition', { queryDefinitionId: id });
      setConfirming(null);
      reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="panel ins-saved" data-testid="saved-queries">
      <h2>Saved queries</h2>
      <ErrorBox error={pages.error || error} />
      {!pages.loading && !pages.items.length && !pages.error && <p class="muted">No saved queries yet.</p>}
      <ul class="ins-saved-list">
        {pages.items.map((d) => (
          <li key={d.queryDefinitionId} class={current?.id === d.queryDefinitionId ? 'current' : ''}>
            <button class="link ins-saved-name" onClick={() => onLoad(d)} title={d.queryString}>{d.name}</button>
            <span class="muted ins-saved-meta">{(d.logGroupNames || []).join(', ')}</span>
            {confirming === d.queryDefinitionId
              ? <span><button class="danger" onClick={() => remove(d.queryDefinitionId)}>Confirm delete</button> <button onClick={() => setConfirming(null)}>Cancel</button></span>
              : <button class="link" onClick={() => setConfirming(d.queryDefinitionId)} aria-label={`Delete ${d.name}`}>Delete</button>}
          </li>
        ))}
      </ul>
      {pages.more && <button onClick={pages.more} disabled={pages.loading}>Load more</button>}
    </section>
  );
}

function RecentQueries({ pages, onLoad }) {
  const rows = [...pages.items].sort((a, b) => (b.createTime || 0) - (a.createTime || 0));
  const columns = [
    { title: 'Started', render: (q) => <span class="mono">{fmtTime(q.createTime)}</span> },
    { title: 'Status', render: (q) => <Status value={q.status} /> },
    { title: 'Log group', render: (q) => <span class="mono">{q.logGroupName || '—'}</span> },
    { title: 'Query', render: (q) => <button class="link ins-recent-query" onClick={() => onLoad(q)} title="Open in the editor">{q.queryString}</button> },
  ];
  return (
    <section class="panel ins-recent">
      <header class="ins-section-head">
        <h2>Recent queries</h2>
        <button class="link" onClick={pages.reload} disabled={pages.loading}>Refresh</button>
      </header>
      <ErrorBox error={pages.error} />
      <Table testid="insights-recent" columns={columns} rows={rows} loading={pages.loading} rowKey={(q) => q.queryId} empty="No queries yet." />
      {pages.more && <button onClick={pages.more} disabled={pages.loading}>Load more</button>}
    </section>
  );
}
