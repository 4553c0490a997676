// Signing in to a gateway that has API keys. The dashboard's data (/nodes, /stats, /routing,
// /events) then needs an admin key: the page asks for it once, keeps it for this tab only
// (sessionStorage), and sends it as `Authorization: Bearer` on every fetch; the event stream,
// which cannot send headers, carries it as `?key=`. The playground calls the API's port (the
// dashboard's port serves nothing that uses the fleet), found in /dashboard/config.

const STORAGE = 'hydra.apiKey';
let config = { auth: false, api_port: null };
let pending = null;

/** Reads /dashboard/config: whether keys are on, and where the API listens. */
export async function loadConfig() {
  try {
    const res = await fetch('/dashboard/config', { headers: { Accept: 'application/json' } });
    if (res.ok) config = await res.json();
  } catch {
    // an older gateway, or it is restarting: no sign-in, same-origin API
  }
  return config;
}

export function authRequired() {
  return Boolean(config.auth);
}

export function currentKey() {
  return sessionStorage.getItem(STORAGE) ?? '';
}

/** Headers that carry the key, if there is one. */
export function authHeaders() {
  const key = currentKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** `path` with the key as a query parameter (for EventSource only). */
export function withKey(path) {
  const key = currentKey();
  if (!key) return path;
  return `${path}${path.includes('?') ? '&' : '?'}key=${encodeURIComponent(key)}`;
}

/** The API port's URL for `path`, on the host this page came from. */
export function apiUrl(path) {
  if (!config.api_port) return path;
  return `${location.protocol}//${location.hostname}:${config.api_port}${path}`;
}

/**
 * Shows the sign-in dialog (one at a time) and resolves with a key the gateway accepts as an
 * admin key, stored for the tab. `message` says why it is asked for.
 */
export function signIn(message) {
  pending ??= ask(message).finally(() => {
    pending = null;
  });
  return pending;
}

async function ask(message) {
  const dialog = document.getElementById('signin');
  const form = dialog.querySelector('form');
  const input = dialog.querySelector('input');
  const note = dialog.querySelector('[data-role="message"]');
  note.textContent = message ?? 'This gateway uses API keys. Enter an admin key to see the fleet.';
  dialog.addEventListener('cancel', (ev) => ev.preventDefault()); // Esc does not leave it half signed in
  if (!dialog.open) dialog.showModal();
  for (;;) {
    input.value = '';
    input.focus();
    const key = await new Promise((resolve) => {
      form.onsubmit = (ev) => {
        ev.preventDefault();
        resolve(input.value.trim());
      };
    });
    if (!key) continue;
    let res = null;
    try {
      res = await fetch('/stats', { headers: { Authorization: `Bearer ${key}`, Accept: 'application/json' } });
    } catch {
      note.textContent = 'The gateway did not answer; try again.';
      continue;
    }
    if (res.ok) {
      sessionStorage.setItem(STORAGE, key);
      dialog.close();
      return key;
    }
    note.textContent = res.status === 403 ? 'That key is valid but not an admin key.' : 'The gateway does not know that key.';
  }
}
