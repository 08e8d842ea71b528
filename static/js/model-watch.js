/**
 * The model that answers, followed: after an admin activates or rolls back a version, the page
 * says so within a few seconds, without waiting for the next drawing.
 *
 * CONTRACT of ModelWatch:
 * - start(known) remembers the version the page shows ("" when unknown) and asks GET /api/model
 *   at once if it is unknown, then every `every` ms while the page is visible, and again as
 *   soon as it becomes visible.
 * - onChange(version) is called once per new version, never for the one already known; note()
 *   tells it of a version learnt elsewhere (a prediction carries the version that made it).
 * - A failed or refused request changes nothing and is tried at the next interval.
 * - fetch is injected (tests pass their own).
 */

export class ModelWatch {
  #onChange;
  #every;
  #fetch;
  #known = "";
  #timer = null;
  #asking = false;

  /**
   * @param {object} options
   * @param {(version: string) => void} options.onChange
   * @param {number} [options.every] ms between checks (5000: "within a few seconds")
   * @param {typeof fetch} [options.fetch]
   */
  constructor({ onChange, every = 5000, fetch = globalThis.fetch.bind(globalThis) }) {
    this.#onChange = onChange;
    this.#every = every;
    this.#fetch = fetch;
  }

  /** @param {string} known the version the page shows now, or "" */
  start(known) {
    this.#known = known;
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) void this.check();
    });
    this.#timer = setInterval(() => {
      if (!document.hidden) void this.check();
    }, this.#every);
    if (known === "") void this.check();
  }

  stop() {
    clearInterval(this.#timer);
    this.#timer = null;
  }

  /** @param {string} version a version the page has just shown */
  note(version) {
    if (version) this.#known = version;
  }

  /** Ask the server once (skipped while a question is still out). */
  async check() {
    if (this.#asking) return;
    this.#asking = true;
    try {
      const response = await this.#fetch("/api/model", {
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      if (!response.ok) return;
      const version = String((await response.json())?.version ?? "");
      if (version !== "" && version !== this.#known) {
        this.#known = version;
        this.#onChange(version);
      }
    } catch {
      // Unreachable for now: the next check will tell.
    } finally {
      this.#asking = false;
    }
  }
}
