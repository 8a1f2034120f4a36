// The events of one stream (GetLogEvents, scrolling both ways from the newest) or of a
// whole group (FilterLogEvents), with a time range, a filter pattern and live tail.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { callJson } from '../aws.js';
import { href } from '../router.js';
import { ErrorBox, Json, Page, TimeRange, fmtTime, parseJsonMessage, rangeMillis } from '../ui.jsx';

/** Events fetched per request: enough to fill a screen twice, small enough to stay fast. */
const PAGE = 100;
/** How often live tail asks for new events. */
const TAIL_MS = 1000;
/** How close to an edge (px) the view must scroll before the next page is fetched. */
const EDGE_PX = 80;

/** The events view. Stream mode reads with GetLogEvents tokens in both directions;
 * with a filter pattern, or for a whole group, it reads forward with FilterLogEvents. */
export function EventsView({ group, stream, route }) {
  const params = route.params;
  const [range, setRange] = useState(params.get('range') || 'all');
  const [pattern, setPattern] = useState(params.get('filter') || '');
  const [applied, setApplied] = useState(params.get('filter') || '');
  const [live, setLive] = useState(params.get('live') === '1');
  const reader = useReader({ group, stream, range, pattern: applied, live });
  const crumbs = [['Log groups', href(['logs'])], [group, href(['logs', 'groups', group])], [stream ?? 'All streams']];
  return (
    <Page
      title={stream ?? `${group}: all streams`}
      breadcrumbs={crumbs}
      actions={
        <button class={live ? 'primary' : ''} onClick={() => setLive(!live)} data-testid="live-tail">
          {live ? <><span class="live-dot" />Stop live tail</> : 'Start live tail'}
        </button>
      }
    >
      <div class="toolbar">
        <form class="toolbar grow" onSubmit={(e) => { e.preventDefault(); setApplied(pattern.trim()); }}>
          <input class="grow" name="filterPattern" placeholder='Filter pattern, e.g. "DROP TABLE" or { $.user = "admin" }' value={pattern} onInput={(e) => setPattern(e.target.value)} />
          <button type="submit">Filter</button>
          {applied && <button type="button" onClick={() => { setPattern(''); setApplied(''); }}>Clear</button>}
        </form>
        <TimeRange value={range} onChange={setRange} />
      </div>
      <ErrorBox error={reader.error} />
      <EventList reader={reader} showStream={stream === undefined} />
      <div class="muted" data-testid="events-count">
        {reader.events.length.toLocaleString('en-US')} events shown{live ? ' · live tail on: new events appear as they arrive' : ''}
      </div>
    </Page>
  );
}

/** Loads pages of events and keeps the tokens of both ends. */
function useReader({ group, stream, range, pattern, live }) {
  const [state, setState] = useState({ events: [], error: null, atStart: false, atEnd: false, loading: true, generation: 0 });
  // Bumped to load the first page again: live tail retries a stream that is not there yet.
  const [attempt, setAttempt] = useState(0);
  const ends = useRef({});
  const busy = useRef({ older: false, newer: false });
  const byStream = stream !== undefined && !pattern;
  const window = () => rangeMillis(range);

  const getEvents = async (extra) => {
    const { start, end } = window();
    return callJson('logs', 'GetLogEvents', {
      logGroupName: group,
      logStreamName: stream,
      limit: PAGE,
      ...(start !== undefined ? { startTime: start } : {}),
      ...(end !== undefined ? { endTime: end } : {}),
      ...extra,
    });
  };
  const filterEvents = async (extra) => {
    const { start, end } = window();
    return callJson('logs', 'FilterLogEvents', {
      logGroupName: group,
      ...(stream !== undefined ? { logStreamNames: [stream] } : {}),
      ...(pattern ? { filterPattern: pattern } : {}),
      limit: PAGE,
      ...(start !== undefined ? { startTime: start } : {}),
      ...(end !== undefined ? { endTime: end } : {}),
      ...extra,
    });
  };

  // The first page: the newest events of a stream, or the first matches of a filter.
  useEffect(() => {
    let cancelled = false;
    ends.current = {};
    setState((s) => ({ events: [], error: null, atStart: false, atEnd: false, loading: true, generation: s.generation + 1 }));
    (async () => {
      try {
        if (byStream) {
          const { start } = window();
          const out = await getEvents({ startFromHead: start !== undefined });
          if (cancelled) return;
          ends.current = { back: out.nextBackwardToken, forward: out.nextForwardToken };
          setState((s) => ({ ...s, events: out.events.map(keyed(stream)), loading: false, atStart: out.events.length < PAGE && start === undefined }));
        } else if (live && !pattern && range === 'all') {
          // A tail of a whole group starts now rather than at the group's first event.
          ends.current = { since: Date.now() - 5000, seen: new Set() };
          setState((s) => ({ ...s, loading: false, atStart: true, atEnd: true }));
        } else {
          // A filtered page may come back empty with a token (the scan stopped early):
          // follow it until there are matches or the end.
          let out = await filterEvents({});
          for (let pages = 1; out.events.length === 0 && out.nextToken && pages < 50 && !cancelled; pages++) {
            out = await filterEvents({ nextToken: out.nextToken });
          }
          if (cancelled) return;
          const events = out.events.map(keyedFiltered);
          ends.current = { next: out.nextToken, since: lastTime(events), seen: new Set(events.map((e) => e.key)) };
          setState((s) => ({ ...s, events, loading: false, atStart: true, atEnd: !out.nextToken }));
        }
      } catch (error) {
        if (!cancelled) setState((s) => ({ ...s, error, loading: false }));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [group, stream, range, pattern, attempt]); // eslint-disable-line react-hooks/exhaustive-deps

  const older = async () => {
    if (!byStream || busy.current.older || state.atStart || !ends.current.back) return;
    busy.current.older = true;
    try {
      const out = await getEvents({ nextToken: ends.current.back });
      ends.current.back = out.nextBackwardToken;
      // A short page is usually the start; one more (empty) page makes sure of it.
      const atStart = out.events.length === 0 || (out.events.length < PAGE && (await getEvents({ nextToken: out.nextBackwardToken })).events.length === 0);
      setState((s) => ({ ...s, events: [...out.events.map(keyed(stream)), ...s.events], atStart, prepended: out.events.length }));
    } catch (error) {
      setState((s) => ({ ...s, error }));
    } finally {
      busy.current.older = false;
    }
  };

  const newer = async ({ tail } = {}) => {
    if (busy.current.newer) return 0;
    busy.current.newer = true;
    try {
      if (byStream) {
        if (!ends.current.forward) return 0;
        const out = await getEvents({ nextToken: ends.current.forward });
        ends.current.forward = out.nextForwardToken;
        const fresh = out.events.map(keyed(stream, tail));
        setState((s) => ({ ...s, events: [...s.events, ...fresh], atEnd: fresh.length === 0, prepended: 0 }));
        return fresh.length;
      }
      if (ends.current.next && !tail) {
        const out = await filterEvents({ nextToken: ends.current.next });
        const fresh = out.events.map(keyedFiltered).filter((e) => !ends.current.seen.has(e.key));
        fresh.forEach((e) => ends.current.seen.add(e.key));
        ends.current.next = out.nextToken;
        ends.current.since = lastTime(fresh) ?? ends.current.since;
        setState((s) => ({ ...s, events: [...s.events, ...fresh], atEnd: !out.nextToken, prepended: 0 }));
        return fresh.length;
      }
      if (!tail) return 0;
      // Tail by time: everything from the newest event seen on (events of that very
      // millisecond come again and are recognised by their IDs).
      const { end } = window();
      if (end !== undefined) return 0;
      const fresh = [];
      let token;
      do {
        const out = await filterEvents({ startTime: ends.current.since ?? Date.now() - 5000, ...(token ? { nextToken: token } : {}) });
        for (const e of out.events.map((x) => ({ ...keyedFiltered(x), fresh: true }))) {
          if (!ends.current.seen.has(e.key)) {
            ends.current.seen.add(e.key);
            fresh.push(e);
          }
        }
        token = out.nextToken;
      } while (token && fresh.length < 1000);
      if (fresh.length) {
        ends.current.since = Math.max(ends.current.since ?? 0, lastTime(fresh));
        setState((s) => ({ ...s, events: [...s.events, ...fresh], prepended: 0 }));
      }
      return fresh.length;
    } catch (error) {
      setState((s) => ({ ...s, error }));
      return 0;
    } finally {
      busy.current.newer = false;
    }
  };

  // Live tail: ask for what is new every second; if the first page failed (a stream
  // that a publisher has not created yet), ask for it again.
  const failedFirst = state.error && state.events.length === 0;
  useEffect(() => {
    if (!live || state.loading) return undefined;
    const timer = setInterval(() => (failedFirst ? setAttempt((a) => a + 1) : newer({ tail: true })), TAIL_MS);
    return () => clearInterval(timer);
  }, [live, state.loading, state.generation, failedFirst]); // eslint-disable-line react-hooks/exhaustive-deps

  return { ...state, older, newer, live, byStream };
}

let counter = 0;
function keyed(stream, fresh) {
  return (e) => ({ ...e, logStreamName: stream, key: `g${++counter}`, fresh });
}
function keyedFiltered(e) {
  return { ...e, key: e.eventId || `g${++counter}` };
}
function lastTime(events) {
  return events.length ? events[events.length - 1].timestamp : undefined;
}

/** The scrolling list: reaching the top loads older events, the bottom newer ones; with
 * live tail on and the view at the bottom, it follows new events. */
function EventList({ reader, showStream }) {
  const box = useRef(null);
  const pinned = useRef(true);
  const heightBefore = useRef(0);
  const first = useRef(true);

  // Keep the view where it was when older events are put above it, and follow the
  // bottom when pinned there.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    if (first.current && reader.events.length) {
      first.current = false;
      if (reader.byStream) el.scrollTop = el.scrollHeight;
    } else if (reader.prepended) {
      el.scrollTop += el.scrollHeight - heightBefore.current;
    } else if (pinned.current && reader.live) {
      el.scrollTop = el.scrollHeight;
    }
    heightBefore.current = el.scrollHeight;
  }, [reader.events]);

  useEffect(() => {
    first.current = true;
  }, [reader.generation]);

  const onScroll = () => {
    const el = box.current;
    heightBefore.current = el.scrollHeight;
    pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < EDGE_PX;
    if (el.scrollTop < EDGE_PX) reader.older();
    if (pinned.current && !reader.atEnd) reader.newer();
  };

  return (
    <div class="events" ref={box} onScroll={onScroll} data-testid="events">
      {reader.byStream && (
        <div class="edge">{reader.atStart ? 'Start of the stream' : <button class="link" onClick={() => reader.older()}>Load older events (or scroll up)</button>}</div>
      )}
      {reader.events.map((e) => <EventRow key={e.key} event={e} showStream={showStream} />)}
      {!reader.loading && reader.events.length === 0 && <div class="edge">No events{reader.live ? ' yet: waiting for new events…' : ' in this range.'}</div>}
      {reader.loading && <div class="edge">Loading…</div>}
      {!reader.loading && reader.events.length > 0 && !reader.live && (
        <div class="edge">{reader.atEnd ? 'No newer events' : <button class="link" onClick={() => reader.newer()}>Load newer events</button>}</div>
      )}
    </div>
  );
}

/** One event; a click shows it whole (as JSON when it is JSON) with its ingestion time. */
function EventRow({ event, showStream }) {
  const [open, setOpen] = useState(false);
  const json = open ? parseJsonMessage(event.message) : undefined;
  return (
    <div class={`event${event.fresh ? ' fresh' : ''}`} onClick={() => setOpen(!open)} data-testid="event">
      <span class="muted">{open ? '▾' : '▸'}</span>
      <span class="when">{fmtTime(event.timestamp)}</span>
      <div>
        {!open && <span class="message">{showStream ? <span class="tag">{event.logStreamName}</span> : null}{event.message}</span>}
        {open && (
          <div onClick={(e) => e.stopPropagation()}>
            {json !== undefined ? <Json value={json} /> : <pre class="message json">{event.message}</pre>}
            <div class="muted">
              Stream {event.logStreamName} · ingested {fmtTime(event.ingestionTime)}{event.eventId ? ` · event ${event.eventId}` : ''}
            </div>
          </div>
        )}
      </div>
    </div>
  );
}
