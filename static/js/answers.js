/**
 * A feedback strip's answers on their way to the server, and how their outcome is said; both
 * strips (one digit, a whole number) share it.
 *
 * Each answer gets a number. Only the answer in flight holds the strip's buttons, and only its
 * end frees them: an earlier answer that ends later (its drawing since cleared, and a newer
 * answer sent) never touches them, so no answer is posted twice.
 */

export class AnswersInFlight {
  #pending = 0; // the number of the answer in flight, 0 for none
  #count = 0;

  /** @returns {boolean} whether an answer is on its way */
  get busy() {
    return this.#pending !== 0;
  }

  /** @returns {number} a new answer's number; it is now the one in flight */
  start() {
    this.#pending = ++this.#count;
    return this.#pending;
  }

  /**
   * The answer numbered `answer` was saved or failed.
   * @param {number} answer
   * @returns {boolean} whether it was the answer in flight (now none is)
   */
  end(answer) {
    const pending = answer === this.#pending;
    if (pending) this.#pending = 0;
    return pending;
  }

  /** The drawing changed: the answer in flight, if any, holds the buttons no longer. */
  forget() {
    this.#pending = 0;
  }
}

/**
 * The thanks for a saved answer.
 * @param {string} what what it was saved as ("a 7", "2026")
 * @param {boolean} current false when the pad has moved on to another drawing meanwhile
 */
export function savedAs(what, current) {
  return `${current ? "Thanks! Saved" : "Your last answer was saved"} as ${what}`;
}

/**
 * Why an answer was not saved.
 * @param {string} message the reason
 * @param {boolean} pending false for an earlier answer, whose drawing is gone
 */
export function notSaved(message, pending) {
  return pending ? message : `Your last answer was not saved: ${message}`;
}
