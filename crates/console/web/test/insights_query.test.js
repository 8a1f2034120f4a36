// Splitting a Logs Insights query into commands, and the counting query behind the histogram.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commands, histogramQuery } from '../src/insights_query.js';

test('pipes inside quotes and regular expressions do not split commands', () => {
  assert.deepEqual(commands('fields @message | filter @message like /a|b/ | filter user = "x|y" | limit 5'), [
    'fields @message',
    'filter @message like /a|b/',
    'filter user = "x|y"',
    'limit 5',
  ]);
});

test('a query without stats is counted per bin with its filters', () => {
  const hour = 3600e3;
  assert.equal(
    histogramQuery('fields @timestamp, @message | filter user = "mallory" | sort @timestamp desc | limit 3', 0, hour),
    'fields @timestamp, @message | filter user = "mallory" | stats count(*) as records by bin(60s)',
  );
  assert.equal(histogramQuery('stats count(*) by bin(5m)', 0, hour), null);
  assert.equal(histogramQuery('SELECT count(*) FROM `g`', 0, hour), null);
});
