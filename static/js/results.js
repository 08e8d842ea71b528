/**
 * The results panel: top digit, ten confidence bars, the 28×28 preview, a status line and a
 * polite live region. It only renders; app.js decides what to show and when.
 */

import { paintInk } from "./heatmap.js";
import { showCountdown, showStatusLine } from "./retry.js";
import { aDigit, percent } from "./words.js";

const DIGITS = 10;
const FIELD = 28;
/** Said under a drawing small for the pen, whatever the verdict (not one too small to read). */
const DRAW_BIGGER = "Drawn small for the pen: draw it bigger for a surer reading.";

/**
 * @typedef {object} Reading the fields of a /api/predict answer that say what it read
 * @property {number} digit
 * @property {number} confidence
 * @property {number} runner_up
 * @property {"digit"|"unsure"|"not_a_digit"} [verdict] (absent from servers before verdicts)
 * @property {boolean} [unsure]
 * @property {boolean} [too_small]
 */

/**
 * @param {Reading} data
 * @returns {"digit"|"unsure"|"not_a_digit"}
 */
function verdictOf(data) {
  return data.verdict ?? (data.unsure ? "unsure" : "digit");
}

/**
 * The verdict in one line, as the panel heads it and a screen reader says it.
 * @param {Reading} data
 * @returns {string}
 */
export function headline(data) {
  switch (verdictOf(data)) {
    case "not_a_digit":
      return data.too_small ? "Too small to read: draw bigger" : "That doesn't look like a digit";
    case "unsure":
      return `Not sure: ${aDigit(data.digit)} or ${aDigit(data.runner_up)}?`;
    default:
      return `Looks like ${aDigit(data.digit)}`;
  }
}

export class ResultsView {
  #root;
  #topDigit;
  #headline;
  #detail;
  #status;
  #announcer;
  #lastSaid = "";
  #preview;
  #bars;
  #versions;
  #chip;
  #retryRow;
  #retryText;

  /**
   * @param {HTMLElement} root the results section (carries data-state / data-strokes)
   * @param {HTMLElement} announcer an aria-live="polite" element
   */
  constructor(root, announcer) {
    this.#root = root;
    this.#announcer = announcer;
    this.#topDigit = root.querySelector("[data-testid=top-digit]");
    this.#headline = root.querySelector("[data-role=headline]");
    this.#detail = root.querySelector("[data-role=detail]");
    this.#status = document.querySelector("[data-role=status]");
    this.#preview = root.querySelector("[data-testid=preview]");
    this.#versions = document.querySelectorAll("[data-testid=model-version]");
    this.#chip = document.querySelector("[data-role=chip]");
    this.#retryRow = root.querySelector("[data-testid=retry-row]");
    this.#retryText = root.querySelector("[data-role=retry-text]");
    this.#bars = Array.from({ length: DIGITS }, (_, d) => {
      const row = root.querySelector(`.bar[data-digit="${d}"]`);
      return {
        row,
        meter: row.querySelector("[role=meter]"),
        fill: row.querySelector(".bar-fill"),
        value: row.querySelector(`[data-testid=prob-${d}]`),
      };
    });
  }

  /**
   * Mark what the panel currently shows, for styling and for tests.
   * @param {"empty"|"drawing"|"waiting"|"ready"|"error"} state
   * @param {number} [strokes] the stroke count the shown prediction belongs to
   */
  setState(state, strokes) {
    this.#root.dataset.state = state;
    if (strokes !== undefined) this.#root.dataset.strokes = String(strokes);
  }

  /** The "nothing drawn yet" state: a prompt, bars at zero, a blank preview. */
  showEmpty() {
    this.#lastSaid = ""; // the next drawing's answer is news, even in the same words
    this.#topDigit.textContent = "";
    this.#root.classList.remove("is-rejected", "is-problem");
    this.showRetry(null);
    this.#headline.textContent = "Draw a digit from 0 to 9";
    this.#detail.textContent = "The network's confidence in every digit shows up here as you draw.";
    this.#root.classList.remove("is-unsure");
    this.#setChip(null);
    this.#setBars(null, -1);
    const ctx = this.#preview.getContext("2d");
    ctx.clearRect(0, 0, FIELD, FIELD);
    this.#root.classList.remove("has-input"); // the preview says what will appear there
    this.setState("empty", 0);
  }

  /**
   * Render a /api/predict response. The verdict decides the words: a digit, unsure between two,
   * or not a digit (too small, or the network's "not a digit" output), when the bars are dimmed
   * because they answer a question the drawing does not ask.
   * @param {Reading & {probabilities: number[], model?: {version: string},
   *          input?: number[][]}} data
   * @param {boolean} [drawnSmall] the drawing is small for the pen (canvas.js smallForThePen):
   *   the detail says to draw bigger
   */
  showPrediction(data, drawnSmall = false) {
    const { digit, confidence, probabilities } = data;
    const verdict = verdictOf(data);
    this.#root.classList.remove("is-problem");
    this.showRetry(null);
    this.#root.classList.toggle("is-unsure", verdict === "unsure");
    this.#root.classList.toggle("is-rejected", verdict === "not_a_digit");
    this.#headline.textContent = headline(data);
    if (verdict === "not_a_digit") {
      this.#topDigit.textContent = "?";
      this.#detail.textContent = data.too_small
        ? "It is very small. Draw the digit bigger, filling most of the box."
        : `If it were a digit, the likeliest is ${aDigit(digit)} (${percent(confidence)}).${
            drawnSmall ? ` ${DRAW_BIGGER}` : ""
          }`;
      // a phone's chip has room for about 9 characters
      this.#setChip("?", data.too_small ? "too small" : "no digit", true);
    } else if (verdict === "unsure") {
      this.#topDigit.textContent = String(digit);
      this.#detail.textContent = `${percent(confidence)} for ${digit}, ${percent(
        probabilities[data.runner_up] ?? 0,
      )} for ${data.runner_up}. ${drawnSmall ? DRAW_BIGGER : "A clearer drawing may help."}`;
      this.#setChip(`${digit}`, `or ${data.runner_up}?`, true);
    } else {
      this.#topDigit.textContent = String(digit);
      this.#detail.textContent = `${percent(confidence)} confident${
        drawnSmall ? `. ${DRAW_BIGGER}` : ""
      }`;
      this.#setChip(`${digit}`, percent(confidence), false);
    }
    this.#setBars(probabilities, digit);
    if (Array.isArray(data.input)) {
      paintInk(this.#preview, data.input);
      this.#root.classList.add("has-input");
    }
    if (data.model?.version) this.showVersion(data.model.version);
  }

  /**
   * Say the settled prediction to screen readers (called once per finished stroke, not per
   * live update, so the announcements are not spammy).
   * @param {Reading} data
   * @param {boolean} [drawnSmall] as for showPrediction
   */
  announce(data, drawnSmall = false) {
    const text =
      verdictOf(data) === "digit"
        ? `${headline(data)}, ${percent(data.confidence)}`
        : headline(data);
    this.#say(drawnSmall && !data.too_small ? `${text}. ${DRAW_BIGGER}` : text);
  }

  /** @param {string} text a short message for screen readers only */
  announceText(text) {
    this.#say(text);
  }

  /**
   * Show (or hide, with an empty message) the small status line under the results.
   * @param {string} message
   * @param {"info"|"error"} [tone]
   */
  showStatus(message, tone = "info") {
    showStatusLine(this.#status, message, tone);
  }

  /**
   * The drawing could not be read: say what went wrong where the verdict goes (the bars, if
   * any, stay faded behind it as the answer to an older drawing).
   * @param {string} title e.g. "Can't reach the server"
   * @param {string} message the server's own message, or what to expect
   */
  showProblem(title, message) {
    this.#topDigit.textContent = "";
    this.#root.classList.remove("is-unsure", "is-rejected");
    this.#root.classList.add("is-problem");
    this.#headline.textContent = title;
    this.#detail.textContent = message;
    this.#setChip("!", "no answer", true); // on a phone the panel is below the pad
    this.setState("error");
  }

  /**
   * The countdown to the automatic retry, with its "Retry now" button.
   * @param {number|null} secondsLeft null hides them
   */
  showRetry(secondsLeft) {
    showCountdown(this.#retryRow, this.#retryText, secondsLeft);
  }

  /** @param {string} version the active model's version */
  showVersion(version) {
    for (const el of this.#versions) {
      if (el.textContent !== version) el.textContent = version;
    }
  }

  /**
   * The compact verdict beside the pad (visible on narrow screens only, via CSS).
   * @param {string|null} digit null hides it
   * @param {string} [text]
   * @param {boolean} [unsure]
   */
  #setChip(digit, text = "", unsure = false) {
    if (!this.#chip) return;
    this.#chip.closest(".card")?.classList.toggle("has-result", digit !== null);
    this.#chip.classList.toggle("is-unsure", unsure);
    this.#chip.querySelector(".pad-chip-digit").textContent = digit ?? "";
    this.#chip.querySelector(".pad-chip-text").textContent = text;
  }

  /**
   * @param {number[]|null} probabilities ten values in [0, 1], or null when there is no answer
   * @param {number} top the digit to highlight, or -1 for none
   */
  #setBars(probabilities, top) {
    this.#bars.forEach(({ row, meter, fill, value }, d) => {
      const p = Number(probabilities?.[d]) || 0;
      // No answer is an empty bar with a dash (as the page first shows it), not a probability.
      const text = probabilities ? percent(p) : "–";
      value.textContent = text;
      meter.setAttribute("aria-valuenow", (p * 100).toFixed(1));
      meter.setAttribute("aria-valuetext", probabilities ? text : "no answer yet");
      // Setting a style property from script is allowed by the CSP (style attributes in HTML
      // are not); scaleX animates on the compositor, unlike width.
      fill.style.transform = `scaleX(${Math.min(Math.max(p, 0), 1)})`;
      row.classList.toggle("is-top", d === top);
    });
  }

  /** @param {string} text */
  #say(text) {
    // Writing the same text again replaces the text node, which a screen reader may read out
    // again: a failed reading retried every few seconds would repeat its error each time. A
    // new drawing (after showEmpty) is said whatever the last one was.
    if (text === this.#lastSaid) return;
    this.#lastSaid = text;
    this.#announcer.textContent = text;
  }
}
