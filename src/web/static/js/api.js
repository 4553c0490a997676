// The gateway's JSON API, on the same origin as the page.

/** GET path as JSON; rejects with the server's error message on a non-2xx reply. */
export async function getJson(path, { signal } = {}) {
  const res = await fetch(path, { headers: { Accept: 'application/json' }, signal });
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new Error(`${path}: HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) throw new Error(body?.error ?? `${path}: HTTP ${res.status}`);
  return body;
}
