// Hash routing: `#/logs/groups/<name>?start=…` → { path: ['logs', 'groups', name], params }.
// Links are plain anchors, so the browser's history, reload and new tabs just work.
import { useEffect, useState } from 'preact/hooks';

function parse(hash) {
  const raw = hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const segments = path ? path.split('/').map(decodeURIComponent) : [];
  return { path: segments, params: new URLSearchParams(query) };
}

/** The current route, updated on every hash change. */
export function useRoute() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return parse(hash);
}

/** A link target for path segments (each encoded, so names may hold `/`) and optional params. */
export function href(segments, params) {
  const query = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString() : '';
  return '#/' + segments.map(encodeURIComponent).join('/') + (query ? `?${query}` : '');
}

/** Goes to a route (as a click on a link would). */
export function navigate(segments, params) {
  location.hash = href(segments, params);
}
