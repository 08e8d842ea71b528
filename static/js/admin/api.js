/**
 * The admin API client: every request of the admin page goes through here, and this is the one
 * place that builds the Authorization header.
 *
 * - The token is read when each request is made (`getToken`), so signing in or out needs no new
 *   client. It travels in the Authorization header only, never in a URL.
 * - A failure is always thrown as an ApiError: { status, code, message, details, signedOut }.
 *   `status` is 0 when no answer arrived (code "network", and a message in plain words). When
 *   the server sent its usual {"error": {"code", "message", "details"}} those are used, the
 *   message written as a sentence; otherwise code is "" and the message says the status.
 * - A refused token (401) or a client locked out after wrong tokens (429 admin_rate_limited)
 *   ends the session: onSignedOut(message) is called, and the error has signedOut = true so
 *   that callers need not report it again.
 * - events() reads a Server-Sent Events stream over fetch (EventSource cannot send headers).
 *   After a dropped or ended stream it reconnects with Last-Event-ID, so no event is seen twice,
 *   until isLast(event) says the stream is complete, the signal aborts, the session ends, or
 *   `attempts` connections have been made.
 */

import { sentence } from "../words.js";

/**
 * @typedef {object} StreamEvent
 * @property {string} type the `event:` field ("message" when there is none)
 * @property {unknown} data the `data:` field, parsed as JSON
 * @property {string} id the last `id:` seen so far ("" before any)
 */

export class ApiError extends Error {
  /** @param {{status: number, code?: string, message: string, details?: unknown, signedOut?: boolean}} fields */
  constructor({ status, code = "", message, details = null, signedOut = false }) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.signedOut = signedOut;
  }
}

const REFUSED = "The token was not accepted. Enter the admin token again.";
const UNREACHABLE = "Can't reach the server. Check the connection and try again.";

/**
 * @param {object} options
 * @param {() => string | null} options.getToken the admin token, asked for on every request
 * @param {(message: string) => void} [options.onSignedOut] the server ended the session
 * @param {typeof fetch} [options.fetch] the fetch to use (tests pass a controllable one)
 * @param {number} [options.retryDelay] ms to wait before reconnecting an event stream
 * @param {number} [options.attempts] connections an event stream may make in all
 */
export function createApi({
  getToken,
  onSignedOut = () => {},
  fetch = globalThis.fetch.bind(globalThis),
  retryDelay = 1500,
  attempts = 30,
}) {
  /**
   * Send a request; resolve with the response when it is 2xx, else throw an ApiError.
   * @param {string} path
   * @param {{method?: string, json?: unknown, body?: BodyInit, type?: string,
   *          headers?: Record<string, string>, signal?: AbortSignal}} [options]
   *   `json` is sent as JSON; `body` is sent as it is, with `type` as its Content-Type.
   */
  async function request(path, { method = "GET", json, body, type, headers = {}, signal } = {}) {
    const sent = { ...headers };
    if (json !== undefined) {
      sent["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (type) {
      sent["Content-Type"] = type;
    }
    sent.Authorization = `Bearer ${getToken() || ""}`;
    let response;
    try {
      response = await fetch(path, { method, headers: sent, body, signal, cache: "no-store" });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError({ status: 0, code: "network", message: UNREACHABLE });
    }
    if (response.ok) return response;
    throw await failure(response);
  }

  /** The ApiError for a non-2xx answer; tells onSignedOut when the answer ends the session. */
  async function failure(response) {
    const body = await response.json().catch(() => null);
    const error = body?.error ?? {};
    const fields = {
      status: response.status,
      code: error.code ?? "",
      message:
        sentence(error.message ?? "") ||
        `The server answered ${`${response.status} ${response.statusText}`.trim()}.`,
      details: error.details ?? null,
    };
    if (response.status === 401) {
      fields.message = REFUSED;
      fields.signedOut = true;
    } else if (error.code === "admin_rate_limited") {
      // Too many wrong tokens from this address: the server's message says how long to wait.
      fields.signedOut = true;
    }
    if (fields.signedOut) onSignedOut(fields.message);
    return new ApiError(fields);
  }

  /** request(), then the JSON body (null for 204 No Content or a body that is not JSON). */
  async function json(path, options) {
    const response = await request(path, options);
    if (response.status === 204) return null;
    return response.json().catch(() => null);
  }

  /**
   * Follow the event stream at `path`; resolves (never rejects) with why it stopped:
   * "done" (isLast), "aborted", "signed-out" or "gave-up".
   * @param {string} path
   * @param {{onEvent: (event: StreamEvent) => void, isLast?: (event: StreamEvent) => boolean,
   *          signal?: AbortSignal}} options
   */
  async function events(path, { onEvent, isLast = () => false, signal }) {
    let lastId = "0";
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (signal?.aborted) return "aborted";
      try {
        const response = await request(path, {
          headers: { Accept: "text/event-stream", "Last-Event-ID": lastId },
          signal,
        });
        const parser = createEventParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const raw of parser.push(value)) {
            lastId = raw.id || lastId;
            if (raw.data === "") continue;
            const event = { type: raw.type, data: JSON.parse(raw.data), id: lastId };
            onEvent(event);
            if (isLast(event)) {
              reader.cancel().catch(() => {});
              return "done";
            }
          }
        }
      } catch (error) {
        if (signal?.aborted) return "aborted";
        if (error instanceof ApiError && error.signedOut) return "signed-out";
        // Anything else (a dropped connection, a 5xx, a garbled event): try again below.
      }
      await new Promise((resolve) => setTimeout(resolve, retryDelay));
    }
    return "gave-up";
  }

  return { request, json, events };
}

/**
 * An incremental parser of the text/event-stream format: push() text as it arrives, in chunks
 * cut anywhere, and get back the events that are complete. Lines end with LF or CRLF; comment
 * lines (": keep-alive") and fields other than event, data and id are skipped.
 * @returns {{push(chunk: string): {type: string, data: string, id: string}[]}}
 */
export function createEventParser() {
  let buffer = "";
  let type = "";
  let data = [];
  let id = "";
  return {
    push(chunk) {
      buffer += chunk;
      const complete = [];
      for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
        const line = buffer.slice(0, end).replace(/\r$/, "");
        buffer = buffer.slice(end + 1);
        if (line === "") {
          // A blank line ends an event; one without data lines carries nothing to dispatch.
          if (data.length) complete.push({ type: type || "message", data: data.join("\n"), id });
          type = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") type = value;
        else if (field === "data") data.push(value);
        else if (field === "id" && !value.includes("\0")) id = value;
      }
      return complete;
    },
  };
}
