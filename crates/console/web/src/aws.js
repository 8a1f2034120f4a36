// The console's AWS client: every page calls trailwatch's own AWS APIs through here,
// signed with SigV4 as the signed-in principal, exactly as any SDK would call them.
import { sign } from './sigv4.js';
import { session } from './session.js';

/** How each service is spoken: its protocol, JSON target prefix or Query API version. */
const SERVICES = {
  logs: { protocol: 'json', target: 'Logs_20140328' },
  cloudtrail: { protocol: 'json', target: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101' },
  iam: { protocol: 'query', version: '2010-05-08', region: 'us-east-1' },
  sts: { protocol: 'query', version: '2011-06-15' },
  rds: { protocol: 'query', version: '2014-10-31' },
};

/** An error answered by the service: AWS's code and message, shown as AWS shows them. */
export class AwsError extends Error {
  constructor(code, message, status) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
}

async function send(service, { body, headers }, credentials) {
  const spec = SERVICES[service];
  const creds = credentials || session();
  if (!creds) throw new AwsError('NotSignedIn', 'Sign in first.', 0);
  const signed = sign({
    method: 'POST',
    path: '/',
    headers: { host: location.host, ...headers },
    body,
    credentials: creds,
    region: spec.region || creds.region,
    service,
  });
  let response;
  try {
    response = await fetch('/', { method: 'POST', headers: signed.headers, body, cache: 'no-store' });
  } catch (e) {
    throw new AwsError('NetworkError', `Could not reach trailwatch: ${e.message}`, 0);
  }
  return response;
}

/** Calls a JSON-protocol operation (Logs, CloudTrail) and returns its output object. */
export async function callJson(service, operation, input = {}, credentials) {
  const spec = SERVICES[service];
  const body = JSON.stringify(input);
  const response = await send(
    service,
    { body, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${spec.target}.${operation}` } },
    credentials,
  );
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) {
    const type = String(data.__type || response.headers.get('x-amzn-errortype') || 'UnknownError');
    throw new AwsError(type.split('#').pop().split(':')[0], data.message || data.Message || '', response.status);
  }
  return data;
}

/** Flattens `{A: [{B: 1}]}` into Query parameters (`A.member.1.B=1`); `listTag` names
 * a list's member element where the model gives one (RDS's `Parameters.Parameter.N`). */
export function queryParams(input, prefix = '', out = [], listTag = 'member') {
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    const name = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value)) {
      const tag = typeof listTag === 'object' ? listTag[key] || 'member' : listTag;
      if (value.length === 0) out.push([name, '']);
      value.forEach((item, i) => {
        const itemName = `${name}.${tag}.${i + 1}`;
        if (typeof item === 'object') queryParams(item, itemName, out, listTag);
        else out.push([itemName, String(item)]);
      });
    } else if (typeof value === 'object') {
      queryParams(value, name, out, listTag);
    } else {
      out.push([name, String(value)]);
    }
  }
  return out;
}

/** Turns an XML element into plain data: text for a leaf, an object of children
 * otherwise, with repeated children as arrays. `list()` normalizes lists. */
function fromXml(element) {
  const children = [...element.children];
  if (children.length === 0) return element.textContent;
  const out = {};
  for (const child of children) {
    const value = fromXml(child);
    const key = child.localName;
    if (key in out) out[key] = Array.isArray(out[key]) ? [...out[key], value] : [out[key], value];
    else out[key] = value;
  }
  return out;
}

/** The items of a Query-protocol list (`<Users><member>…`), whether it held none, one or many. */
export function list(value, tag = 'member') {
  if (value === undefined || value === null || value === '') return [];
  const inner = value[tag];
  if (inner === undefined) return [];
  return Array.isArray(inner) ? inner : [inner];
}

/** Calls a Query-protocol operation (IAM, STS, RDS) and returns its `…Result` element as data. */
export async function callQuery(service, action, input = {}, { listTag = 'member', credentials } = {}) {
  const spec = SERVICES[service];
  const params = [['Action', action], ['Version', spec.version], ...queryParams(input, '', [], listTag)];
  const body = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const response = await send(
    service,
    { body, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } },
    credentials,
  );
  const text = await response.text();
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  if (!response.ok) {
    const error = doc.getElementsByTagName('Error')[0];
    const field = (name) => error?.getElementsByTagName(name)[0]?.textContent || '';
    throw new AwsError(field('Code') || `HTTP ${response.status}`, field('Message'), response.status);
  }
  const result = doc.getElementsByTagName(`${action}Result`)[0];
  return result ? fromXml(result) : {};
}

/** Calls a JSON operation page after page (`nextToken`/`NextToken`), gathering `key`,
 * until `max` items or the last page. */
export async function callJsonAll(service, operation, input, key, max = 1000) {
  const items = [];
  let token;
  do {
    const out = await callJson(service, operation, token ? { ...input, nextToken: token } : input);
    items.push(...(out[key] || []));
    token = out.nextToken;
  } while (token && items.length < max);
  return items;
}
