/**
 * Number mode's feedback strip: after a settled reading it asks "Is it 2026?". The person answers
 * "Right", or types the number it really is; each digit is then stored as its own labelled
 * drawing (its 28×28, as /api/read saw it), one POST /api/feedback per digit, as single digits
 * are stored.
 *
 * CONTRACT: the strip's `data-state` is idle | asking | sending. An answer is the event
 * `answer` with `detail.labels`, one digit per digit of the reading (its marks that are no
 * digit are neither asked about nor stored); number.js sends them and calls saved() or
 * failed().
 */

import { AnswersInFlight, notSaved } from "./answers.js";
import { Notice } from "./notice.js";
import { onPress } from "./press.js";

const ONLY_DIGITS = /^[0-9]+$/;

export class NumberFeedback extends EventTarget {
  #root;
  #question;
  #right;
  #rightText;
  #form;
  #input;
  #notice;
  /** @type {{number: string, count: number} | null} */
  #offer = null;
  #answers = new AnswersInFlight(); // while one is on its way, the buttons are held

  /** @param {HTMLElement} root the [data-testid=number-feedback] element */
  constructor(root) {
    super();
    this.#root = root;
    this.#question = root.querySelector("[data-role=number-question]");
    this.#right = root.querySelector("[data-testid=number-right]");
    this.#rightText = root.querySelector("[data-role=number-right-text]");
    this.#form = root.querySelector("[data-role=number-fix]");
    this.#input = root.querySelector("[data-testid=number-fix]");
    this.#notice = new Notice(root.querySelector("[data-testid=number-feedback-done]"));
    onPress(this.#right, () => this.answerRight());
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.answerWith(this.#input.value);
    });
  }

  /** Whether a reading is on offer and no answer is being sent. */
  get asking() {
    return this.#offer !== null && !this.#answers.busy;
  }

  /**
   * A settled reading: ask about its digits (nothing to ask when it found none).
   * @param {{number: string}} reading /api/read's answer
   */
  offer(reading) {
    if (reading.number === "") {
      this.withdraw();
      return;
    }
    // An answer still in flight keeps the buttons held (see FeedbackPanel.offer).
    this.#offer = { number: reading.number, count: reading.number.length };
    this.#input.value = "";
    this.#input.placeholder = reading.number;
    // Room for a space between digits ("1 9 8 4"), which the answer ignores.
    this.#input.maxLength = 2 * reading.number.length - 1;
    this.#notice.clear(); // the last number's "Saved" or "Not saved" is not about this one
    this.#render();
  }

  /** The drawing changed or was cleared: nothing to ask about now. */
  withdraw() {
    this.#offer = null;
    this.#answers.forget();
    this.#render();
  }

  answerRight() {
    if (this.asking) this.#answer(/** @type {{number: string}} */ (this.#offer).number);
  }

  /**
   * The person typed what the number really is: one digit for each digit found.
   * @param {string} text
   */
  answerWith(text) {
    if (!this.asking) return;
    const typed = text.replace(/\s+/g, "");
    const { count } = /** @type {{count: number}} */ (this.#offer);
    if (!ONLY_DIGITS.test(typed) || typed.length !== count) {
      const what = count === 1 ? "1 digit" : `${count} digits`;
      this.#notice.say(
        `Type ${what}, one for each box on your drawing; if a box is wrong, clear and write the number again.`,
        "error",
      );
      this.#input.focus();
      return;
    }
    this.#answer(typed);
  }

  /** The answer is being sent: hold the buttons until saved() or failed(). */
  #answer(text) {
    const answer = this.#answers.start();
    this.#render();
    const detail = { labels: [...text].map(Number), answer };
    this.dispatchEvent(new CustomEvent("answer", { detail }));
  }

  /**
   * @param {string} message why it was not saved
   * @param {number} answer the answer's number, from its "answer" event
   */
  failed(message, answer) {
    const pending = this.#answers.end(answer);
    this.#render();
    this.#notice.say(notSaved(message, pending), "error");
  }

  /**
   * @param {string} message the thanks
   * @param {number} answer the answer's number, from its "answer" event
   * @param {boolean} [current] false when the pad has moved on to another drawing meanwhile:
   *   the question, if any, is about that one and stays
   */
  saved(message, answer, current = true) {
    this.#answers.end(answer);
    // (The focus, if on the strip's buttons, has gone to the pad with the cleared drawing.)
    if (current) this.#offer = null;
    this.#render();
    this.#notice.say(message, "ok");
  }

  #render() {
    const offer = this.#offer;
    this.#root.dataset.state = offer === null ? "idle" : this.#answers.busy ? "sending" : "asking";
    const disabled = String(!this.asking);
    this.#right.setAttribute("aria-disabled", disabled);
    this.#input.readOnly = !this.asking;
    if (offer === null) return;
    this.#question.textContent = `Is it ${offer.number}?`;
    this.#rightText.textContent = `Right, it is ${offer.number}`;
  }
}
