// SigV4 request signing for the browser, over @noble/hashes so that it also works
// on plain-HTTP origins, where WebCrypto's `crypto.subtle` is not available.
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

const ALGORITHM = 'AWS4-HMAC-SHA256';

/** `20150830T123600Z` for a Date. */
export function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** RFC 3986 encoding as SigV4 wants it (everything but unreserved characters). */
export function uriEncode(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function canonicalQuery(query) {
  return [...query]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function canonicalPath(path) {
  return path.split('/').map((segment) => uriEncode(decodeURIComponent(segment))).join('/') || '/';
}

/**
 * Signs a request and returns the headers to send: the given headers (names lower
 * case) plus `x-amz-date`, `x-amz-content-sha256` when asked, the session token and
 * `authorization`. `host` must be among the headers: it is signed but browsers set it.
 */
export function sign({ method, path = '/', query = [], headers, body = '', credentials, region, service, date = new Date(), signBody = false }) {
  const stamp = amzDate(date);
  const day = stamp.slice(0, 8);
  const payload = bytesToHex(sha256(typeof body === 'string' ? utf8ToBytes(body) : body));
  const all = { ...headers, 'x-amz-date': stamp };
  if (signBody) all['x-amz-content-sha256'] = payload;
  if (credentials.sessionToken) all['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(all).map((n) => n.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = names.map((n) => `${n}:${String(lower[n]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [method, canonicalPath(path), canonicalQuery(query), canonicalHeaders, signedHeaders, payload].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = [ALGORITHM, stamp, scope, bytesToHex(sha256(utf8ToBytes(canonicalRequest)))].join('\n');
  let key = hmac(sha256, utf8ToBytes('AWS4' + credentials.secretAccessKey), utf8ToBytes(day));
  for (const part of [region, service, 'aws4_request']) key = hmac(sha256, key, utf8ToBytes(part));
  const signature = bytesToHex(hmac(sha256, key, utf8ToBytes(toSign)));
  const out = { ...all };
  delete out.host;
  out.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers: out, canonicalRequest, stringToSign: toSign, signature };
}
