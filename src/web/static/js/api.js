// The gateway's JSON API, on the same origin as the page. With API keys on, a refusal (401,
// 403) asks for a key (auth.js) and the call is made again with it.
import { authHeaders, authRequired, signIn } from './auth.js';

/** GET path as JSON; rejects with the server's error message on a non-2xx reply. */
export async function getJson(path, { signal } = {}) {
  let res = await fetch(path, { headers: { Accept: 'application/json', ...authHeaders() }, signal });
  if ((res.status === 401 || res.status === 403) && authRequired()) {
    await signIn(res.status === 403 ? 'This view needs an admin key.' : undefined);
    res = await fetch(path, { headers: { Accept: 'application/json', ...authHeaders() }, signal });
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new Error(`${path}: HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) throw new Error(body?.error?.message ?? body?.error ?? `${path}: HTTP ${res.status}`);
  return body;
}
