// The console's shell: sign-in, the top bar and the route table. Each area is a page
// module under pages/ that calls trailwatch's AWS APIs through aws.js.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { callQuery } from './aws.js';
import { session, signIn, signOut, onSessionChange } from './session.js';
import { useRoute, href } from './router.js';
import { ErrorBox, Field } from './ui.jsx';
import { LogsPage } from './pages/logs.jsx';
import { TrailPage } from './pages/trail.jsx';
import { IamPage } from './pages/iam.jsx';
import { RdsPage } from './pages/rds.jsx';
import { InsightsPage } from './pages/insights.jsx';
import './style.css';

const AREAS = [
  ['logs', 'Logs', LogsPage],
  ['insights', 'Logs Insights', InsightsPage],
  ['cloudtrail', 'CloudTrail', TrailPage],
  ['iam', 'IAM', IamPage],
  ['rds', 'Databases', RdsPage],
];

function SignIn() {
  const [form, setForm] = useState({ accessKeyId: '', secretAccessKey: '', sessionToken: '', region: 'us-east-1' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value.trim() });
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const credentials = { ...form, sessionToken: form.sessionToken || undefined };
    try {
      // Who these keys are, asked of STS: a wrong key fails here as it would anywhere.
      const me = await callQuery('sts', 'GetCallerIdentity', {}, { credentials });
      signIn({ ...credentials, arn: me.Arn, account: me.Account, userId: me.UserId });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form class="card" onSubmit={submit} aria-label="Sign in">
        <h1><span class="logo">◉</span> trailwatch</h1>
        <p class="muted">Sign in with an access key pair. Every call this console makes is signed with it, allowed or denied by its policies and recorded in CloudTrail.</p>
        <Field label="Access key ID"><input name="accessKeyId" autocomplete="username" required value={form.accessKeyId} onInput={set('accessKeyId')} /></Field>
        <Field label="Secret access key"><input name="secretAccessKey" type="password" autocomplete="current-password" required value={form.secretAccessKey} onInput={set('secretAccessKey')} /></Field>
        <Field label="Session token" hint="Only for temporary (ASIA…) credentials."><input name="sessionToken" value={form.sessionToken} onInput={set('sessionToken')} /></Field>
        <Field label="Region"><input name="region" required value={form.region} onInput={set('region')} /></Field>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}

function Shell({ me }) {
  const route = useRoute();
  const area = AREAS.find(([id]) => id === route.path[0]) || AREAS[0];
  const Page = area[2];
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href={href(['logs'])}><span class="logo">◉</span> trailwatch</a>
        <nav class="areas">
          {AREAS.map(([id, label]) => <a key={id} href={href([id])} class={id === area[0] ? 'active' : ''}>{label}</a>)}
        </nav>
        <div class="whoami">
          <span class="principal" title={me.arn} data-testid="principal">{me.arn}</span>
          <span class="region">{me.region}</span>
          <button class="link" onClick={signOut}>Sign out</button>
        </div>
      </header>
      <main class="content">
        <Page route={{ ...route, path: route.path[0] === area[0] ? route.path : [area[0]] }} />
      </main>
    </div>
  );
}

function App() {
  const [me, setMe] = useState(session());
  useEffect(() => onSessionChange(() => setMe(session())), []);
  return me ? <Shell me={me} /> : <SignIn />;
}

render(<App />, document.getElementById('app'));
