// The dashboard's calls to the /v1 API: the session's API key, JSON calls, and the live
// event feed (server-sent events read with fetch, or polling when the stream fails).

const KEY_NAME = "routeplan.apiKey";

/** The API key of this browser session, or null. */
export function apiKey() {
  return sessionStorage.getItem(KEY_NAME);
}

/** Keep (or, with null, forget) the API key for this session. */
export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_NAME, key);
  else sessionStorage.removeItem(KEY_NAME);
}

/** An answer of the API that was not 2xx: its status and error body. */
export class ApiError extends Error {
  constructor(status, body) {
    const message = body && body.message ? body.message : `HTTP ${status}`;
    super(message);
    this.status = status;
    this.body = body;
  }
}

function headers(extra) {
  const out = { Accept: "application/json", ...(extra || {}) };
  const key = apiKey();
  if (key) out.Authorization = `Bearer ${key}`;
  return out;
}

/** GET a /v1 path and parse its JSON; an ApiError when it is not 2xx. */
export async function getJson(path, { signal } = {}) {
  const response = await fetch(path, { headers: headers(), signal });
  let body = null;
  try {
    body = await response.json();
  } catch (_error) {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** A query string of the parameters that have a value ("" when none has). */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Parse server-sent event frames out of text chunks; calls onFrame({id, event, data}). */
export function sseParser(onFrame) {
  let buffer = "";
  return (chunk) => {
    buffer += chunk.replace(/\r\n?/g, "\n");
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const frame = { id: null, event: "message", data: "" };
      const data = [];
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") data.push(value);
        else if (field === "event") frame.event = value;
        else if (field === "id") frame.id = value;
      }
      if (data.length) {
        frame.data = data.join("\n");
        onFrame(frame);
      }
      end = buffer.indexOf("\n\n");
    }
  };
}

const POLL_MS = 2000;

/**
 * Follow the outbox's events until stop() is called: GET /v1/events/stream read with fetch
 * (EventSource cannot send the Authorization header), reconnecting after the last seen seq
 * when a stream ends; when the stream fails, poll GET /v1/events?after= every 2 s instead.
 * onEvent(event) gets each event; onState("stream" | "polling" | "stopped") the mode.
 */
export function followEvents(onEvent, onState = () => {}) {
  const control = new AbortController();
  let lastSeq = null;
  let stopped = false;

  const seen = (event) => {
    if (typeof event.seq === "number") lastSeq = Math.max(lastSeq || 0, event.seq);
    onEvent(event);
  };

  async function stream() {
    const after = lastSeq === null ? "" : `&after=${lastSeq}`;
    const response = await fetch(`/v1/events/stream?timeout_s=60${after}`, {
      headers: headers({ Accept: "text/event-stream" }),
      signal: control.signal,
    });
    if (!response.ok || !response.body) throw new ApiError(response.status, null);
    onState("stream");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parse = sseParser((frame) => {
      try {
        seen(JSON.parse(frame.data));
      } catch (_error) {
        /* a frame that is not an event: skipped */
      }
    });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parse(value);
    }
  }

  async function tail() {
    // the newest seq, when the stream never told us one: page to the end once
    let after = 0;
    for (let page = 0; page < 1000; page += 1) {
      const body = await getJson(`/v1/events?after=${after}&limit=1000`, {
        signal: control.signal,
      });
      if (!body.events.length) break;
      after = body.next_after;
    }
    return after;
  }

  async function poll() {
    onState("polling");
    if (lastSeq === null) lastSeq = await tail();
    while (!stopped) {
      try {
        const body = await getJson(`/v1/events?after=${lastSeq}&limit=1000`, {
          signal: control.signal,
        });
        for (const event of body.events) seen(event);
        lastSeq = body.next_after;
      } catch (error) {
        if (stopped) return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  (async () => {
    try {
      while (!stopped) await stream(); // each stream ends after timeout_s: open the next
    } catch (_error) {
      if (!stopped) await poll().catch(() => {});
    }
  })();

  return {
    stop() {
      stopped = true;
      control.abort();
      onState("stopped");
    },
  };
}
