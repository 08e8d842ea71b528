/**
 * Number mode: the pad becomes a wide canvas and the page reads a whole number, live, with
 * POST /api/read. This module owns the mode's request stream, its results panel and boxes
 * (number-view.js) and its feedback strip (number-feedback.js); app.js owns the pad, the
 * buttons and the keyboard, and hands the pad's strokes here while the mode is on.
 *
 * CONTRACT: the strokes go to /api/read?include_input=true as {strokes, width, height} in
 * pixels of a CANVAS = 700 × 280 canvas (the pad's shape, 5 : 2), so that every box in the
 * answer is in those pixels. A reading is shown only if it is the newest (predict.js drops
 * stale answers); "ready" means the answer is for exactly the strokes on the pad, with nobody
 * drawing, and only then is the feedback question asked. A reading that failed is shown where
 * the number goes and sent again by itself (retry.js), as in Digit mode.
 */

import { savedAs } from "./answers.js";
import { NumberFeedback } from "./number-feedback.js";
import { BoxOverlay, NumberView } from "./number-view.js";
import { PredictionClient } from "./predict.js";
import { onPress } from "./press.js";
import { RetryTimer } from "./retry.js";

/** The canvas the strokes are sent in: the pad's 5 : 2 at the single canvas's 280 px height. */
export const CANVAS = { width: 700, height: 280 };
const READ = "/api/read?include_input=true";

/**
 * @typedef {object} NumberModeOptions
 * @property {import("./canvas.js").DrawingPad} pad
 * @property {HTMLElement} results the [data-testid=number-results] section
 * @property {HTMLCanvasElement} overlay the canvas laid over the pad for the boxes
 * @property {(text: string) => void} announce says a short text to screen readers
 * @property {(error: import("./predict.js").PredictError) =>
 *            {title: string, message: string, retryable: boolean}} describeError
 * @property {(body: object) => Promise<{ok: boolean, message?: string}>} sendFeedback
 * @property {(focused: Element | null) => void} cleared called after a saved answer clears the
 *   pad, with what had the focus before (the strip's buttons go away with the question)
 * @property {(version: string) => void} [onVersion] told the model version of each reading
 * @property {typeof fetch} [fetch] for tests
 */

export class NumberMode {
  #pad;
  #view;
  #feedback;
  #client;
  #announce;
  #describeError;
  #sendFeedback;
  #cleared;
  #onVersion;
  #retry;
  /** @type {import("./number-view.js").NumberReading | null} */
  #shown = null;
  /** The digits already saved of one reading of one drawing, and with which labels (a post can
   * fail): the drawing is known by the pad's edit count, the reading by where its digits are
   * (a new model may split the same drawing differently). */
  #saved = { drawing: -1, split: "", labels: [] };
  active = false;

  /** @param {NumberModeOptions} options */
  constructor(options) {
    const { pad, results, overlay, announce, describeError, sendFeedback, cleared, fetch } =
      options;
    this.#pad = pad;
    this.#announce = announce;
    this.#describeError = describeError;
    this.#sendFeedback = sendFeedback;
    this.#cleared = cleared;
    this.#onVersion = options.onVersion ?? (() => {});
    this.#view = new NumberView(results, new BoxOverlay(overlay, CANVAS.width, CANVAS.height));
    this.#feedback = new NumberFeedback(results.querySelector("[data-testid=number-feedback]"));
    this.#feedback.addEventListener("answer", (event) => {
      const { labels, answer } = /** @type {CustomEvent} */ (event).detail;
      this.#store(labels, answer);
    });
    this.#client = new PredictionClient({
      endpoint: READ,
      getPayload: () => ({
        body: { strokes: pad.toStrokes(CANVAS.width, CANVAS.height), ...CANVAS },
        strokes: pad.strokeCount,
      }),
      onResult: (data, outcome) => this.#onResult(data, outcome),
      onError: (error, outcome) => this.#onError(error, outcome),
      ...(fetch ? { fetch } : {}),
    });
    this.#retry = new RetryTimer({
      action: () => this.readAgain(),
      onTick: (secondsLeft) => this.#view.showRetry(secondsLeft),
    });
    onPress(results.querySelector("[data-testid=number-retry]"), () => this.#retry.now());
    pad.addEventListener("strokestart", () => {
      if (!this.active) return;
      this.#retry.reset();
      this.#view.showRetry(null);
      this.#feedback.withdraw();
      this.#view.setState("drawing");
      this.#client.live();
    });
    pad.addEventListener("strokemove", () => {
      if (this.active) this.#client.live();
    });
    pad.addEventListener("strokeend", () => {
      if (!this.active) return;
      this.#view.setState("waiting");
      this.#client.final();
    });
    this.#view.showEmpty();
  }

  /** Whether the person's answer is awaited (Enter answers "Right"). */
  get asking() {
    return this.active && this.#feedback.asking;
  }

  /** Turn the mode on or off; the pad is cleared by app.js either way. */
  setActive(on) {
    this.active = on;
    this.clear();
  }

  /** Everything gone: no reading, no boxes, no question; late answers are dropped. */
  clear() {
    this.#client.reset();
    this.#retry.reset();
    this.#feedback.withdraw();
    this.#shown = null;
    this.#view.showEmpty();
    this.#view.showStatus("");
  }

  /** A stroke was undone and strokes remain: read what is left. */
  reread() {
    this.#client.reset();
    this.#retry.reset();
    this.#feedback.withdraw();
    this.#view.setState("waiting");
    this.#client.final();
  }

  /** Read what is on the pad again now (a retry, or another model answers). */
  readAgain() {
    if (this.active && this.#pad.strokeCount > 0 && !this.#pad.isDrawing) this.#client.final();
  }

  /** The browser is back online: the waiting retry runs now, or the drawing is read again. */
  online() {
    this.showStatus("");
    if (this.#retry.armed) this.#retry.now();
    else this.readAgain();
  }

  answerRight() {
    this.#feedback.answerRight();
  }

  /**
   * @param {string} message "" hides the status line
   * @param {"info"|"error"} [tone]
   */
  showStatus(message, tone = "info") {
    this.#view.showStatus(message, tone);
  }

  /**
   * @param {import("./number-view.js").NumberReading} data
   * @param {import("./predict.js").Outcome} outcome
   */
  #onResult(data, outcome) {
    if (!this.active || this.#pad.strokeCount === 0) return; // cleared while it was in flight
    this.#retry.reset();
    this.#onVersion(data.model?.version ?? "");
    this.#shown = data;
    this.#view.show(data);
    this.#view.showStatus("");
    if (outcome.final && outcome.strokes === this.#pad.strokeCount && !this.#pad.isDrawing) {
      this.#view.setState("ready", outcome.strokes);
      this.#announce(this.#view.spoken(data));
      this.#feedback.offer(data);
    }
  }

  /**
   * @param {import("./predict.js").PredictError} error
   * @param {import("./predict.js").Outcome} outcome
   */
  #onError(error, outcome) {
    if (!this.active) return;
    if (error.kind === "http" && error.code === "blank_image") {
      if (!this.#pad.isDrawing) this.#view.showEmpty(); // no ink on the canvas (yet)
      return;
    }
    const problem = this.#describeError(error);
    if (!outcome.final || this.#pad.isDrawing) {
      // Mid-stroke: a quiet line; the stroke's end sends the drawing again anyway.
      this.#view.showStatus(problem.message, "error");
      return;
    }
    this.#view.showStatus("");
    this.#feedback.withdraw();
    this.#view.showProblem(problem.title, problem.message);
    this.#announce(`${problem.title}. ${problem.message}`);
    if (problem.retryable) this.#retry.schedule(error.retryAfter);
    else this.#view.showRetry(null);
  }

  /**
   * Post each digit of the shown reading with its label, one after another.
   * @param {number[]} labels @param {number} answer the answer's number, for the strip
   */
  async #store(labels, answer) {
    const reading = this.#shown;
    if (reading === null) return;
    const digits = reading.digits.filter((d) => d.verdict !== "not_a_digit");
    const drawing = this.#pad.edits;
    const split = digits.map((d) => d.box.join(",")).join(";");
    // Answering again after a failed post goes on from the digit that failed: those before it
    // are saved already (with the labels they had then: saving one again under a new label
    // would teach a retrain both), and saving them twice would teach it each one twice.
    const same = this.#saved.drawing === drawing && this.#saved.split === split;
    const saved = same ? this.#saved.labels.slice() : [];
    const earlier = saved.slice();
    this.#saved = { drawing, split, labels: saved };
    for (let i = saved.length; i < digits.length; i++) {
      const d = digits[i];
      const result = await this.#sendFeedback({
        pixels: d.input,
        label: labels[i],
        predicted: d.digit,
        modelVersion: reading.model?.version,
      });
      if (!result.ok) {
        const count = i === 0 ? "" : ` (${i} of ${digits.length} digits were saved)`;
        this.#feedback.failed(`${result.message}${count}`, answer);
        return;
      }
      saved.push(labels[i]);
    }
    const number = saved.join("");
    const right = number === reading.number;
    // Unless the pad has moved on (more strokes, or a new number and its own question).
    const current = this.#pad.edits === drawing;
    const said = savedAs(number, current);
    const relabelled = earlier.some((label, i) => label !== labels[i])
      ? ` The first ${earlier.length === 1 ? "digit was" : `${earlier.length} digits were`} ` +
        `saved before your correction, as ${earlier.join("")}; an admin can relabel ` +
        `${earlier.length === 1 ? "it" : "them"}.`
      : "";
    const thanks = right
      ? `${said} (${digits.length === 1 ? "1 digit" : `${digits.length} digits`}).`
      : `${said}; a retrain that includes the saved drawings learns from it.${relabelled}`;
    if (current) {
      const focused = document.activeElement;
      this.#pad.clear();
      this.clear();
      this.#cleared(focused);
    }
    this.#feedback.saved(thanks, answer, current);
  }
}
