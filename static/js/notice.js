/**
 * The outcome of an answer in a feedback strip ("Saved …", "Not saved: …"), shown for a while.
 *
 * CONTRACT of Notice:
 * - say(message, tone) shows `message` in the element, with `data-tone` = tone ("ok" or "error"),
 *   and hides it `ms` later (6 s: it stays after the canvas is cleared for the next drawing).
 * - A newer notice replaces the one on show and starts the wait again.
 * - clear() hides it now (the strip asks about a new drawing: an old "Saved" would read as its).
 * - The timer functions are injected, so tests can run it fast.
 */

export const NOTICE_MS = 6000;

export class Notice {
  #element;
  #ms;
  #timers;
  #timer = null;

  /**
   * @param {HTMLElement} element where the notice is shown (hidden in between)
   * @param {object} [options]
   * @param {number} [options.ms] how long a notice stays
   * @param {{setTimeout: typeof setTimeout, clearTimeout: typeof clearTimeout}} [options.timers]
   */
  constructor(element, { ms = NOTICE_MS, timers = globalThis } = {}) {
    this.#element = element;
    this.#ms = ms;
    this.#timers = timers;
  }

  /**
   * @param {string} message
   * @param {"ok"|"error"} tone
   */
  say(message, tone) {
    this.#element.textContent = message;
    this.#element.dataset.tone = tone;
    this.#element.hidden = false;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = this.#timers.setTimeout(() => this.clear(), this.#ms);
  }

  clear() {
    this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#element.hidden = true;
  }
}
