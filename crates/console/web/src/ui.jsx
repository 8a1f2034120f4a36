// The console's shared pieces: data loading, errors, tables, dialogs, time ranges,
// JSON and formatting. Pages are built from these and the AWS client only.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** Runs `load` when `deps` change; `{ data, error, loading, reload }`. Stale answers are dropped. */
export function useAsync(load, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => mine === generation.current && setState({ data, error: null, loading: false }),
      (error) => mine === generation.current && setState({ data: undefined, error, loading: false }),
    );
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(run, [run]);
  return { ...state, reload: run };
}

/** Pages of a list: `fetchPage(token)` → `{ items, next }`; `more` loads the next page.
 * A fresh load invalidates answers still in flight; "more" only appends to the current one. */
export function usePages(fetchPage, deps) {
  const [state, setState] = useState({ items: [], next: undefined, error: null, loading: true });
  const generation = useRef(0);
  const load = (token) => {
    const mine = token ? generation.current : ++generation.current;
    setState((s) => (token ? { ...s, loading: true, error: null } : { items: [], next: undefined, error: null, loading: true }));
    fetchPage(token).then(
      ({ items, next }) => mine === generation.current && setState((s) => ({ items: token ? [...s.items, ...items] : items, next, error: null, loading: false })),
      (error) => mine === generation.current && setState((s) => ({ ...s, error, loading: false })),
    );
  };
  useEffect(() => load(undefined), deps); // eslint-disable-line react-hooks/exhaustive-deps
  return { ...state, more: state.next && !state.loading ? () => load(state.next) : null, reload: () => load(undefined) };
}

/** An action run on demand (a dialog's submit): `{ run, busy, error }`; a failure is kept to show. */
export function useAction(act) {
  const [state, setState] = useState({ busy: false, error: null });
  const run = async (...args) => {
    setState({ busy: true, error: null });
    try {
      await act(...args);
      setState({ busy: false, error: null });
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return { ...state, run };
}

/** An AWS error as AWS shows it: its code, then its message. */
export function ErrorBox({ error }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <strong class="error-code">{error.code || 'Error'}</strong> <span class="error-message">{error.message}</span>
    </div>
  );
}

/** A page: title, optional actions on its right, then its content. */
export function Page({ title, actions, children, breadcrumbs }) {
  return (
    <section class="page">
      {breadcrumbs && <nav class="breadcrumbs">{breadcrumbs.map(([label, link], i) => <span key={i}>{link ? <a href={link}>{label}</a> : label}</span>)}</nav>}
      <header class="page-header">
        <h1>{title}</h1>
        <div class="actions">{actions}</div>
      </header>
      {children}
    </section>
  );
}

/** A table of `rows`; each column is `{ title, render(row) }`. `expand(row)` makes rows open. */
export function Table({ columns, rows, empty = 'Nothing here yet.', rowKey = (r, i) => i, expand, loading, testid }) {
  const [open, setOpen] = useState(() => new Set());
  const toggle = (key) => setOpen((s) => { const n = new Set(s); n.has(key) ? n.delete(key) : n.add(key); return n; });
  return (
    <table class="table" data-testid={testid}>
      <thead>
        <tr>
          {expand && <th class="toggle-col" />}
          {columns.map((c) => <th key={c.title}>{c.title}</th>)}
        </tr>
      </thead>
      <tbody>
        {rows && rows.length === 0 && (
          <tr><td class="empty" colSpan={columns.length + (expand ? 1 : 0)}>{loading ? 'Loading…' : empty}</td></tr>
        )}
        {(rows || []).map((row, i) => {
          const key = rowKey(row, i);
          const isOpen = open.has(key);
          return [
            <tr key={key} class={expand ? 'expandable' : ''} onClick={expand ? () => toggle(key) : undefined}>
              {expand && <td class="toggle-col">{isOpen ? '▾' : '▸'}</td>}
              {columns.map((c) => <td key={c.title}>{c.render(row)}</td>)}
            </tr>,
            isOpen && (
              <tr key={`${key}/detail`} class="detail">
                <td colSpan={columns.length + 1}>{expand(row)}</td>
              </tr>
            ),
          ];
        })}
      </tbody>
    </table>
  );
}

/** A dialog over the page; Escape or the close button calls `onClose`. */
export function Modal({ title, onClose, children }) {
  useEffect(() => {
    const key = (e) => e.key === 'Escape' && onClose();
    addEventListener('keydown', key);
    return () => removeEventListener('keydown', key);
  }, [onClose]);
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="modal" role="dialog" aria-label={title}>
        <header><h2>{title}</h2><button class="link" onClick={onClose} aria-label="Close">✕</button></header>
        {children}
      </div>
    </div>
  );
}

/** A labelled form field around an input. */
export function Field({ label, hint, children }) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      {children}
      {hint && <span class="field-hint">{hint}</span>}
    </label>
  );
}

/** Tabs as links: `[label, href, active]`. */
export function Tabs({ tabs }) {
  return <nav class="tabs">{tabs.map(([label, link, active]) => <a key={label} href={link} class={active ? 'active' : ''}>{label}</a>)}</nav>;
}

export const RELATIVE_RANGES = [['5m', 5 * 60e3], ['15m', 15 * 60e3], ['1h', 3600e3], ['3h', 3 * 3600e3], ['12h', 12 * 3600e3], ['1d', 86400e3], ['1w', 7 * 86400e3], ['30d', 30 * 86400e3]];

/** `{ start, end }` in epoch ms for a range value: `'1h'`-style relative, `'all'`, or `'abs:START:END'`. */
export function rangeMillis(value, now = Date.now()) {
  if (!value || value === 'all') return {};
  if (value.startsWith('abs:')) {
    const [, start, end] = value.split(':');
    return { start: start ? Number(start) : undefined, end: end ? Number(end) : undefined };
  }
  const found = RELATIVE_RANGES.find(([k]) => k === value);
  return found ? { start: now - found[1], end: undefined } : {};
}

function toLocalInput(ms) {
  if (ms === undefined) return '';
  return new Date(ms).toISOString().slice(0, 19);
}

/** A time range picker: relative buttons, or absolute UTC start and end. */
export function TimeRange({ value, onChange, allowAll = true }) {
  const [custom, setCustom] = useState(value?.startsWith('abs:'));
  const abs = value?.startsWith('abs:') ? rangeMillis(value) : {};
  const [start, setStart] = useState(toLocalInput(abs.start));
  const [end, setEnd] = useState(toLocalInput(abs.end));
  const apply = (e) => {
    e.preventDefault();
    const s = start ? Date.parse(start + 'Z') : '';
    const t = end ? Date.parse(end + 'Z') : '';
    onChange(`abs:${Number.isNaN(s) ? '' : s}:${Number.isNaN(t) ? '' : t}`);
  };
  return (
    <div class="time-range" data-testid="time-range">
      {allowAll && <button type="button" class={value === 'all' || !value ? 'seg active' : 'seg'} onClick={() => { setCustom(false); onChange('all'); }}>All</button>}
      {RELATIVE_RANGES.map(([k]) => (
        <button type="button" key={k} class={value === k ? 'seg active' : 'seg'} onClick={() => { setCustom(false); onChange(k); }}>{k}</button>
      ))}
      <button type="button" class={custom ? 'seg active' : 'seg'} onClick={() => setCustom(true)}>Custom</button>
      {custom && (
        <form class="custom-range" onSubmit={apply}>
          <input type="datetime-local" step="1" value={start} onInput={(e) => setStart(e.target.value)} aria-label="Start (UTC)" />
          <span>→</span>
          <input type="datetime-local" step="1" value={end} onInput={(e) => setEnd(e.target.value)} aria-label="End (UTC)" />
          <button type="submit">Apply</button>
          <span class="muted">UTC</span>
        </form>
      )}
    </div>
  );
}

/** Pretty, colored JSON. */
export function Json({ value }) {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  const parts = [];
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    parts.push(text.slice(last, m.index));
    if (m[1]) parts.push(<span class={m[2] ? 'j-key' : 'j-str'}>{m[1]}</span>, m[2] || '');
    else if (m[3]) parts.push(<span class="j-lit">{m[3]}</span>);
    else parts.push(<span class="j-num">{m[4]}</span>);
    last = re.lastIndex;
  }
  parts.push(text.slice(last));
  return <pre class="json">{parts}</pre>;
}

/** The JSON inside a log message, or undefined when it holds none. */
export function parseJsonMessage(message) {
  const t = message.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

/** `2026-12-08 00:41:51.123` (UTC) for epoch ms. */
export function fmtTime(ms) {
  if (ms === undefined || ms === null || ms === '') return '—';
  const n = typeof ms === 'number' ? ms : Number.isNaN(Number(ms)) ? Date.parse(ms) : Number(ms);
  if (Number.isNaN(n)) return String(ms);
  return new Date(n).toISOString().replace('T', ' ').replace('Z', '');
}

/** `1.2 MB` for a byte count. */
export function fmtBytes(n) {
  if (n === undefined || n === null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Number(n);
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** A count with thousands separators. */
export function fmtCount(n) {
  return n === undefined || n === null ? '—' : Number(n).toLocaleString('en-US');
}

/** `Never expire`, or `30 days`, as AWS's console shows retention. */
export function fmtRetention(days) {
  return days ? `${days} day${days === 1 ? '' : 's'}` : 'Never expire';
}

/** A status word with its color. */
export function Status({ value }) {
  const v = String(value || '').toLowerCase();
  const tone = /available|active|logging|in-sync|success|allowed|complete|true/.test(v)
    ? 'ok'
    : /fail|error|denied|deleting|stopped|false|incompatible/.test(v)
      ? 'bad'
      : 'busy';
  return <span class={`status ${tone}`}>{value}</span>;
}
