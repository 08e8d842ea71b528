/**
 * Trying a failed request again: by itself after a growing wait, or at once on demand.
 *
 * CONTRACT of RetryTimer:
 * - schedule(afterMs?) arms one retry after the next wait of `delays` (2, 4, 8, then every
 *   15 s), or after `afterMs` if the server asked for longer (Retry-After). Scheduling again while
 *   armed re-arms it with the next wait.
 * - While armed, onTick(secondsLeft) is called at once and then every second, for a countdown.
 * - now() runs the action at once (the "Retry now" button, or the browser coming back online);
 *   it does nothing when not armed.
 * - reset() disarms and starts the waits again from the first (a success, a new stroke, Clear).
 * - `armed` says whether a retry is waiting. The timer functions are injected, so tests can run
 *   it fast.
 *
 * showCountdown and showStatusLine show it in a view (the digit's results, Number mode's number).
 */

export const DELAYS_MS = [2000, 4000, 8000, 15000];

/**
 * Show a RetryTimer's countdown: its row (with the "Retry now" button) and its words.
 * @param {HTMLElement} row hidden when secondsLeft is null
 * @param {HTMLElement} text
 * @param {number|null} secondsLeft
 */
export function showCountdown(row, text, secondsLeft) {
  row.hidden = secondsLeft === null;
  if (secondsLeft === null) return;
  text.textContent = secondsLeft > 0 ? `Trying again in ${secondsLeft} s` : "Trying again…";
}

/**
 * Show (or hide, with an empty message) a view's status line, where a request's failure is said.
 * The same words again (a stroke's every failed request) are not written, so not read out again.
 * @param {HTMLElement} line
 * @param {string} message
 * @param {"info"|"error"} tone
 */
export function showStatusLine(line, message, tone) {
  if (line.textContent !== message) line.textContent = message;
  line.dataset.tone = tone;
  line.hidden = message === "";
}

export class RetryTimer {
  #action;
  #onTick;
  #delays;
  #timers;
  #failures = 0; // retries scheduled since the last reset
  #due = 0; // when the armed retry runs (performance.now() time)
  #timeout = null;
  #ticker = null;

  /**
   * @param {object} options
   * @param {() => void} options.action what a retry does (e.g. send the drawing again)
   * @param {(secondsLeft: number) => void} [options.onTick]
   * @param {number[]} [options.delays] waits in ms, the last one repeated
   * @param {{setTimeout: typeof setTimeout, clearTimeout: typeof clearTimeout,
   *          setInterval: typeof setInterval, clearInterval: typeof clearInterval}} [options.timers]
   */
  constructor({ action, onTick = () => {}, delays = DELAYS_MS, timers = globalThis }) {
    this.#action = action;
    this.#onTick = onTick;
    this.#delays = delays;
    this.#timers = timers;
  }

  get armed() {
    return this.#timeout !== null;
  }

  /** @param {number} [afterMs] the server's own wait, when it gave one */
  schedule(afterMs) {
    this.#disarm();
    const step = this.#delays[Math.min(this.#failures, this.#delays.length - 1)];
    this.#failures += 1;
    // The server's Retry-After is a floor: a busy server is never asked sooner than the backoff.
    const wait = Number.isFinite(afterMs) ? Math.max(afterMs, step) : step;
    this.#due = performance.now() + wait;
    this.#timeout = this.#timers.setTimeout(() => this.now(), wait);
    this.#tick();
    this.#ticker = this.#timers.setInterval(() => this.#tick(), 1000);
  }

  now() {
    if (!this.armed) return;
    this.#disarm();
    this.#action();
  }

  reset() {
    this.#disarm();
    this.#failures = 0;
  }

  #tick() {
    this.#onTick(Math.max(0, Math.ceil((this.#due - performance.now()) / 1000)));
  }

  #disarm() {
    if (this.#timeout !== null) this.#timers.clearTimeout(this.#timeout);
    if (this.#ticker !== null) this.#timers.clearInterval(this.#ticker);
    this.#timeout = this.#ticker = null;
  }
}
