// The signed-in principal's credentials. They live in this tab's sessionStorage only:
// closing the tab or signing out forgets them, and they never go anywhere but into
// signatures (the secret itself is never sent).
const KEY = 'trailwatch.console.session';
let listeners = [];

/** The current credentials and who they are, or null when signed out. */
export function session() {
  const raw = sessionStorage.getItem(KEY);
  return raw ? JSON.parse(raw) : null;
}

/** Keeps credentials (accessKeyId, secretAccessKey, sessionToken?, region, arn, account). */
export function signIn(value) {
  sessionStorage.setItem(KEY, JSON.stringify(value));
  listeners.forEach((f) => f());
}

/** Forgets the credentials. */
export function signOut() {
  sessionStorage.removeItem(KEY);
  listeners.forEach((f) => f());
}

/** Calls `f` whenever the session changes; returns the unsubscribe function. */
export function onSessionChange(f) {
  listeners.push(f);
  return () => {
    listeners = listeners.filter((g) => g !== f);
  };
}
