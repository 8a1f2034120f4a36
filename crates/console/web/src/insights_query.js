// Reading a Logs Insights query in the browser: its commands, and the query that counts
// what it matches for the histogram. Plain JavaScript, so node's test runner checks it.

/** The query's commands, split at the pipes that are not inside quotes or a `/regex/`. */
export function commands(query) {
  const out = [];
  let current = '';
  let quote = null;
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (quote) {
      if (c === '\\') {
        current += c + (query[i + 1] ?? '');
        i++;
        continue;
      }
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c;
    } else if (c === '/' && /(like|=~|in)\s*$/i.test(current)) {
      quote = '/';
    } else if (c === '|') {
      out.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  out.push(current.trim());
  return out.filter(Boolean);
}

/** For a query without `stats`, the query that counts what it matches per bin of the
 * range (its `fields`, `parse` and `filter` commands, then `stats count(*) by bin`), so
 * the histogram shows every match, not only the rows a `limit` returns; else null. */
export function histogramQuery(query, startMs, endMs) {
  if (/^\s*select\b/i.test(query)) return null;
  const parts = commands(query);
  if (parts.some((c) => /^stats\b/i.test(c))) return null;
  const kept = parts.filter((c) => /^(fields|parse|filter)\b/i.test(c));
  const seconds = Math.max(1, Math.ceil((endMs - startMs) / 60 / 1000));
  return [...kept, `stats count(*) as records by bin(${seconds}s)`].join(' | ');
}
