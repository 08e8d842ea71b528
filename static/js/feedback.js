/**
 * Feedback on the drawing page: after a settled prediction the person answers "Right" or
 * "Wrong? It is: N" (or "Not a digit"), and the drawing is posted to POST /api/feedback with
 * that label. The question follows the verdict: for an unsure answer both candidates are one tap
 * each; after "That doesn't look like a digit", "Right" means it is not one. Practice mode asks
 * for a given digit ("Draw a 4") so labelled drawings can be contributed quickly.
 *
 * This module renders the panel and sends the post; app.js decides when a prediction is ready
 * and clears the pad afterwards.
 */

import { AnswersInFlight, notSaved } from "./answers.js";
import { Notice } from "./notice.js";
import { onPress } from "./press.js";
import { aDigit } from "./words.js";

const DIGITS = 10;
export const NOT_A_DIGIT = "not_a_digit"; // the label of a drawing that is no digit at all

/**
 * @typedef {object} FeedbackAnswer
 * @property {number|"not_a_digit"} label what the drawing really is
 * @property {number} predicted the digit the network ranked first
 * @property {boolean} agreed the label is what the network answered (for a drawing it called
 *   "not a digit", that)
 * @property {string|undefined} modelVersion the model that said it
 * @property {number} answer this answer's number, to hand back to saved() or failed()
 */

/**
 * @typedef {object} Offer a settled prediction, as the strip asks about it
 * @property {number} digit
 * @property {number} runnerUp
 * @property {"digit"|"unsure"|"not_a_digit"} verdict
 * @property {string} [version]
 */

/**
 * POST one labelled drawing: its image, or its 28×28 in MNIST form (`pixels`, one digit of a
 * number as /api/read saw it).
 * @param {{image?: string, pixels?: number[][], label: number|"not_a_digit", predicted?: number,
 *          modelVersion?: string}} body
 * @param {{fetch?: typeof fetch, timeout?: number}} [options]
 * @returns {Promise<{ok: true, id: number} | {ok: false, message: string}>}
 */
export async function sendFeedback(body, { fetch: doFetch = fetch, timeout = 10_000 } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  try {
    const response = await doFetch("/api/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        image: body.image,
        pixels: body.pixels,
        label: body.label,
        predicted: body.predicted,
        model_version: body.modelVersion,
      }),
      signal: controller.signal,
    });
    const data = await response.json().catch(() => null);
    if (response.status === 201 && data && Number.isInteger(data.id))
      return { ok: true, id: data.id };
    if (response.status === 429) {
      const wait = Number(response.headers.get("Retry-After")) || 60;
      return { ok: false, message: `That's a lot of drawings at once. Try again in ${wait} s.` };
    }
    return {
      ok: false,
      message: data?.error?.message ?? `The answer was not saved (${response.status}).`,
    };
  } catch (error) {
    const aborted = error?.name === "AbortError";
    return {
      ok: false,
      message: aborted
        ? "The server took too long; the answer was not saved. Try again."
        : "Can't reach the server; the answer was not saved. Try again.",
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A shuffled round of 0-9 for practice mode, refilled when it runs out (never asking for the
 * same digit twice in a row, even across rounds). */
export class PracticeDeck {
  #deck = [];
  #last = -1;
  #random;

  /** @param {() => number} [random] */
  constructor(random = Math.random) {
    this.#random = random;
  }

  /** @returns {number} the next digit to ask for */
  next() {
    if (this.#deck.length === 0) {
      this.#deck = Array.from({ length: DIGITS }, (_, d) => d);
      for (let i = this.#deck.length - 1; i > 0; i--) {
        const j = Math.floor(this.#random() * (i + 1));
        [this.#deck[i], this.#deck[j]] = [this.#deck[j], this.#deck[i]];
      }
      const top = this.#deck.length - 1;
      if (this.#deck[top] === this.#last)
        [this.#deck[0], this.#deck[top]] = [this.#deck[top], this.#deck[0]];
    }
    this.#last = /** @type {number} */ (this.#deck.pop());
    return this.#last;
  }
}

export class FeedbackPanel extends EventTarget {
  #root;
  #question;
  #right;
  #rightText;
  #second;
  #notDigit;
  #digits;
  #notice;
  /** @type {Offer | null} */
  #offer = null;
  /** @type {number|null} */
  #target = null;
  #answers = new AnswersInFlight(); // while one is on its way, the buttons are held

  /** @param {HTMLElement} root the [data-testid=feedback] element */
  constructor(root) {
    super();
    this.#root = root;
    this.#question = root.querySelector("[data-role=feedback-question]");
    this.#right = root.querySelector("[data-testid=feedback-right]");
    this.#rightText = root.querySelector("[data-role=right-text]");
    this.#second = root.querySelector("[data-testid=feedback-runner-up]");
    this.#notDigit = root.querySelector("[data-testid=feedback-not-a-digit]");
    this.#digits = Array.from({ length: DIGITS }, (_, d) =>
      root.querySelector(`[data-testid=feedback-digit-${d}]`),
    );
    this.#notice = new Notice(root.querySelector("[data-testid=feedback-done]"));
    // onPress, not click: the answer is often tapped right after the stroke (see press.js).
    onPress(this.#right, () => this.answerRight());
    onPress(this.#second, () => this.answerDigit(this.#offer?.runnerUp ?? -1));
    onPress(this.#notDigit, () => this.answerNotADigit());
    for (const button of this.#digits) {
      onPress(button, () => this.answerDigit(Number(button.dataset.digit)));
    }
  }

  /** Whether the panel is asking (a settled prediction is shown and no answer is in flight). */
  get asking() {
    return this.#offer !== null && !this.#answers.busy;
  }

  /**
   * Practice mode's digit, or null outside practice mode.
   * @param {number|null} digit
   */
  setTarget(digit) {
    this.#target = digit;
    this.#render();
  }

  /**
   * A settled prediction: ask about it.
   * @param {{digit: number, runner_up: number, verdict?: string, model?: {version?: string}}}
   *   prediction
   */
  offer(prediction) {
    this.#offer = {
      digit: prediction.digit,
      runnerUp: prediction.runner_up,
      verdict: /** @type {Offer["verdict"]} */ (prediction.verdict ?? "digit"),
      version: prediction.model?.version,
    };
    // An answer still in flight keeps the buttons held: this may be the same drawing read again
    // (a model change, the Inside panel opened), and a second tap would save it twice.
    this.#notice.clear(); // the last drawing's "Saved" or "Not saved" is not about this one
    this.#render();
  }

  /** The drawing changed or was cleared: nothing to ask about now. */
  withdraw() {
    this.#offer = null;
    this.#answers.forget();
    this.#render();
  }

  answerRight() {
    if (!this.asking) return;
    // In practice mode "Right" means "it is the digit I was asked for"; after "That doesn't
    // look like a digit" it means "it is not one".
    const offer = /** @type {Offer} */ (this.#offer);
    const rejected = offer.verdict === NOT_A_DIGIT && this.#target === null;
    this.#answer(this.#target ?? (rejected ? NOT_A_DIGIT : offer.digit));
  }

  /** @param {number} digit */
  answerDigit(digit) {
    if (this.asking && digit >= 0) this.#answer(digit);
  }

  answerNotADigit() {
    if (this.asking) this.#answer(NOT_A_DIGIT);
  }

  /** @param {number|"not_a_digit"} label */
  #answer(label) {
    const offer = /** @type {Offer} */ (this.#offer);
    const answer = this.#answers.start();
    this.#render();
    /** @type {FeedbackAnswer} */
    const detail = {
      label,
      predicted: offer.digit,
      agreed: label === (offer.verdict === NOT_A_DIGIT ? NOT_A_DIGIT : offer.digit),
      modelVersion: offer.version,
      answer,
    };
    this.dispatchEvent(new CustomEvent("answer", { detail }));
  }

  /**
   * The answer could not be saved: say why, and ask again (an earlier answer's failure, the
   * drawing since gone, is only said).
   * @param {string} message
   * @param {number} answer the answer's number, from its "answer" event
   */
  failed(message, answer) {
    const pending = this.#answers.end(answer);
    this.#render();
    this.#notice.say(notSaved(message, pending), "error");
  }

  /**
   * The answer was saved: confirm it (the confirmation stays a few seconds, after the canvas
   * has been cleared for the next digit).
   * @param {string} message
   * @param {number} answer the answer's number, from its "answer" event
   * @param {boolean} [current] false when the pad has moved on to another drawing meanwhile:
   *   the question, if any, is about that one and stays
   */
  saved(message, answer, current = true) {
    this.#answers.end(answer);
    if (current) this.#offer = null;
    this.#render();
    this.#notice.say(message, "ok");
  }

  #render() {
    const offer = this.#offer;
    this.#root.dataset.state = offer === null ? "idle" : this.#answers.busy ? "sending" : "asking";
    const disabled = String(!this.asking);
    for (const button of [this.#right, this.#second, this.#notDigit, ...this.#digits]) {
      button.setAttribute("aria-disabled", disabled);
    }
    if (offer === null) return;
    // Unsure: both candidates are one tap each, instead of confirming the first.
    const torn = offer.verdict === "unsure" && this.#target === null;
    this.#second.hidden = !torn;
    this.#notDigit.hidden = offer.verdict === NOT_A_DIGIT && this.#target === null;
    if (this.#target !== null) {
      const asked = aDigit(this.#target);
      if (offer.verdict === NOT_A_DIGIT) {
        this.#question.textContent = `It doesn't look like a digit; you were asked for ${asked}.`;
      } else if (offer.digit === this.#target) {
        this.#question.textContent = `It read your ${this.#target}. Save it?`;
      } else {
        this.#question.textContent = `It read ${aDigit(offer.digit)}, you were asked for ${asked}.`;
      }
      this.#rightText.textContent = `Save as ${aDigit(this.#target)}`;
    } else if (offer.verdict === NOT_A_DIGIT) {
      this.#question.textContent = "It doesn't look like a digit. Right?";
      this.#rightText.textContent = "Right, not a digit";
    } else if (torn) {
      this.#question.textContent = `Is it ${aDigit(offer.digit)} or ${aDigit(offer.runnerUp)}?`;
      this.#rightText.textContent = `It is ${aDigit(offer.digit)}`;
      this.#second.querySelector("[data-role=second-text]").textContent =
        `It is ${aDigit(offer.runnerUp)}`;
    } else {
      this.#question.textContent = `Is it ${aDigit(offer.digit)}?`;
      this.#rightText.textContent = `Right, it is ${aDigit(offer.digit)}`;
    }
    for (const button of this.#digits) {
      button.classList.toggle("is-predicted", Number(button.dataset.digit) === offer.digit);
    }
  }
}
