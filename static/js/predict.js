/**
 * The prediction client: turns "the drawing changed" into a bounded stream of POST /api/predict
 * (or of any endpoint that answers a JSON drawing: /api/explain, /api/read).
 *
 * - Live requests while drawing are throttled (at most one per `minInterval` ms) and coalesced
 *   (at most one live request in flight; later changes wait and are sent as one).
 * - A final request (stroke finished, undo) is sent at once, so the settled answer is never
 *   delayed behind the throttle.
 * - Every request gets a sequence number. A response is applied only if it is newer than the
 *   last one applied, so a slow answer can never overwrite a fresher one; reset() also drops
 *   everything still in flight (after Clear, no late answer may repaint the bars).
 */

/**
 * @typedef {object} Payload
 * @property {string} [image] a data:image/png;base64 URL of the drawing, sent as {image}
 * @property {object} [body] or the whole JSON body to send (POST /api/read's {strokes, …})
 * @property {number} strokes how many strokes the image holds (echoed back to the callbacks)
 */

/**
 * @typedef {object} Outcome
 * @property {boolean} final whether the request was a final one
 * @property {number} strokes the stroke count the request was made for
 */

/**
 * @typedef {object} PredictError
 * @property {"http"|"network"|"offline"|"timeout"} kind
 * @property {number} [status] HTTP status, for kind "http"
 * @property {string} [code] the server's error code (e.g. "blank_image"), for kind "http"
 * @property {string} [message] the server's message, for kind "http"
 * @property {number} [retryAfter] ms the server asked to wait (Retry-After), for kind "http"
 */

export class PredictionClient {
  #endpoint;
  #minInterval;
  #timeout;
  #getPayload;
  #onResult;
  #onError;
  #fetch;

  #seq = 0; // last sequence number handed out
  #applied = 0; // responses with a sequence number ≤ this are stale
  #lastSent = -Infinity;
  #liveInFlight = false;
  #wanted = false; // a live prediction was asked for and not yet sent
  #timer = null;

  /**
   * @param {object} options
   * @param {() => Payload} options.getPayload called at send time, so the newest drawing is sent
   * @param {(data: object, outcome: Outcome) => void} options.onResult
   * @param {(error: PredictError, outcome: Outcome) => void} options.onError
   * @param {string} [options.endpoint]
   * @param {number} [options.minInterval] ms between live requests (100 → ≤ 10 per second)
   * @param {number} [options.timeout] ms before a request is given up
   * @param {typeof fetch} [options.fetch] the fetch to use (tests pass a controllable one)
   */
  constructor({
    getPayload,
    onResult,
    onError,
    endpoint = "/api/predict?include_input=true",
    minInterval = 100,
    timeout = 10000,
    fetch = globalThis.fetch.bind(globalThis),
  }) {
    this.#fetch = fetch;
    this.#getPayload = getPayload;
    this.#onResult = onResult;
    this.#onError = onError;
    this.#endpoint = endpoint;
    this.#minInterval = minInterval;
    this.#timeout = timeout;
  }

  /**
   * Send later requests to another endpoint (one that answers the same JSON drawing, such as
   * /api/explain). Requests already sent are answered and applied as usual.
   * @param {string} endpoint
   */
  setEndpoint(endpoint) {
    this.#endpoint = endpoint;
  }

  /** Ask for a prediction of the drawing in progress; throttled and coalesced. */
  live() {
    this.#wanted = true;
    this.#pump();
  }

  /** Predict the finished drawing now; supersedes any live request that is waiting. */
  final() {
    this.#cancelPending();
    void this.#send(true);
  }

  /** Forget waiting and in-flight requests: their answers will be ignored. */
  reset() {
    this.#cancelPending();
    this.#applied = this.#seq;
  }

  #cancelPending() {
    this.#wanted = false;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  /** Send the wanted live request if the throttle and the in-flight limit allow it. */
  #pump() {
    if (!this.#wanted || this.#timer !== null || this.#liveInFlight) return;
    const wait = this.#lastSent + this.#minInterval - performance.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#pump();
      }, wait);
      return;
    }
    this.#wanted = false;
    this.#liveInFlight = true;
    void this.#send(false).finally(() => {
      this.#liveInFlight = false;
      this.#pump();
    });
  }

  /**
   * POST the current drawing and hand the answer to onResult/onError unless it is stale.
   * Never throws: every failure becomes an onError call.
   * @param {boolean} final
   */
  async #send(final) {
    const seq = ++this.#seq;
    this.#lastSent = performance.now();
    let payload;
    try {
      payload = this.#getPayload();
    } catch {
      return; // nothing sensible to send (e.g. a canvas that cannot be encoded)
    }
    /** @type {Outcome} */
    const outcome = { final, strokes: payload.strokes };
    const isCurrent = () => {
      if (seq <= this.#applied) return false;
      this.#applied = seq;
      return true;
    };

    if (navigator.onLine === false) {
      // Don't even try: the browser would log a failed request for every stroke.
      if (isCurrent()) this.#onError({ kind: "offline" }, outcome);
      return;
    }
    let response;
    let body = null;
    try {
      response = await this.#fetch(this.#endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(payload.body ?? { image: payload.image }),
        signal: AbortSignal.timeout(this.#timeout),
      });
      body = await response.json().catch(() => null);
    } catch (error) {
      if (isCurrent()) {
        this.#onError({ kind: error?.name === "TimeoutError" ? "timeout" : "network" }, outcome);
      }
      return;
    }
    if (!isCurrent()) return;
    if (response.ok && body) {
      this.#onResult(body, outcome);
    } else {
      const retryAfter = Number.parseFloat(response.headers.get("Retry-After") ?? "");
      this.#onError(
        {
          kind: "http",
          status: response.status,
          code: body?.error?.code ?? "",
          message: body?.error?.message ?? response.statusText,
          retryAfter: Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
        },
        outcome,
      );
    }
  }
}
