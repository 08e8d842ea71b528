/**
 * Number mode's results: the number read, a headline, each digit with its 28×28 and ten compact
 * bars, and each digit's box outlined on the drawing. It only renders what POST /api/read
 * answered; number.js decides what to show and when. (Just over 300 lines: the number, its
 * digits' cards and their boxes on the drawing are one view of one answer.)
 *
 * CONTRACT (what the tests read): `[data-testid=number]` holds exactly the `number` of the
 * answer shown; the panel's `data-state` is empty | drawing | waiting | ready | error, and its
 * `data-strokes` the stroke count that answer was read from; one `[data-testid=number-digit]`
 * per entry of `digits`, in order, with `data-digit` and `data-verdict`.
 */

import { smallForThePen } from "./canvas.js";
import { paintInk } from "./heatmap.js";
import { showCountdown, showStatusLine } from "./retry.js";
import { aDigit, percent } from "./words.js";

const DIGITS = 10;
const ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth"];

/**
 * @typedef {object} DigitReading one entry of /api/read's `digits`
 * @property {number} digit
 * @property {number} confidence
 * @property {number[]} probabilities
 * @property {"digit"|"unsure"|"not_a_digit"} verdict
 * @property {number} runner_up
 * @property {boolean} [too_small]
 * @property {[number, number, number, number]} box x0, y0, x1, y1 in the canvas's pixels
 * @property {number[][]} [input] the 28×28, with ?include_input=true
 */

/**
 * @typedef {object} NumberReading /api/read's answer
 * @property {string} number
 * @property {DigitReading[]} digits
 * @property {boolean} unsure
 * @property {{version: string}} [model]
 */

/**
 * "the third digit", "digit 9": a position in the number, as it is said.
 * @param {number} index from 0
 * @returns {string}
 */
export function position(index) {
  return index < ORDINALS.length ? `the ${ORDINALS[index]} digit` : `digit ${index + 1}`;
}

/**
 * Each entry's place in the number as it is read (from 0), or null for a mark left out of it:
 * "the second digit" of 1384 is its 3, whatever dot was found before the 1.
 * @param {DigitReading[]} digits
 * @returns {(number | null)[]}
 */
function places(digits) {
  let next = 0;
  return digits.map((d) => (d.verdict === "not_a_digit" ? null : next++));
}

/**
 * Whether most digits were written small for the pen (canvas.js smallForThePen): a number of
 * such digits is read right far less often (benchmarks/written_small.py).
 * @param {DigitReading[]} digits the digits of the number (no marks)
 * @param {number} padHeight the height of the canvas the boxes are in, whose share the pen is
 */
function writtenSmall(digits, padHeight) {
  const small = digits.filter((d) => smallForThePen(d.box[3] - d.box[1], padHeight));
  return small.length * 2 > digits.length;
}

/**
 * "the second digit: 1 or 7?" alone; several as one list, "the first digit (1 or 0) and the
 * second digit (8 or 7)", not a row of "?,".
 * @param {{where: string, pair: string}[]} unsure
 */
function unsureText(unsure) {
  if (unsure.length === 1) return `${unsure[0].where}: ${unsure[0].pair}?`;
  const items = unsure.map(({ where, pair }) => `${where} (${pair})`);
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/**
 * The reading in one line, and a line of detail under it.
 * @param {NumberReading} data
 * @param {number} [padHeight] the height of the canvas the boxes are in; with it, digits written
 *   too small for the pen are said
 * @returns {{headline: string, detail: string}}
 */
export function describe(data, padHeight) {
  const digits = data.digits.filter((d) => d.verdict !== "not_a_digit");
  const marks = data.digits.length - digits.length;
  const left = marks === 1 ? "1 mark that is no digit is left out" : `${marks} marks are left out`;
  if (digits.length === 0) {
    const small = data.digits.some((d) => d.too_small);
    return {
      headline: small ? "Too small to read: write bigger" : "That doesn't look like a number",
      detail: small
        ? "Write the digits side by side, about half as tall as the box."
        : "Write digits from 0 to 9 side by side.",
    };
  }
  const place = places(data.digits);
  const unsure = data.digits
    .map((d, i) => ({ d, at: place[i] }))
    .filter(({ d }) => d.verdict === "unsure")
    .map(({ d, at }) => ({ where: position(at ?? 0), pair: `${d.digit} or ${d.runner_up}` }));
  const count = digits.length === 1 ? "1 digit" : `${digits.length} digits, each read on its own`;
  const small =
    padHeight && writtenSmall(digits, padHeight)
      ? "; written small for the pen: write about half as tall as the box"
      : "";
  const extra = `${marks > 0 ? `; ${left}` : ""}${small}`;
  if (unsure.length > 0) {
    return {
      headline: `Not sure: ${data.number}?`,
      detail: `Unsure of ${unsureText(unsure)}${extra}`,
    };
  }
  return { headline: `Reads ${data.number}`, detail: `${count}${extra}` };
}

export class NumberView {
  #root;
  #number;
  #headline;
  #detail;
  #status;
  #list;
  #boxes;
  #retryRow;
  #retryText;

  /**
   * @param {HTMLElement} root the [data-testid=number-results] section
   * @param {BoxOverlay} boxes the overlay that outlines each digit on the drawing
   */
  constructor(root, boxes) {
    this.#root = root;
    this.#boxes = boxes;
    this.#number = root.querySelector("[data-testid=number]");
    this.#headline = root.querySelector("[data-role=number-headline]");
    this.#detail = root.querySelector("[data-role=number-detail]");
    this.#status = root.querySelector("[data-role=number-status]");
    this.#list = root.querySelector("[data-testid=number-digits]");
    this.#retryRow = root.querySelector("[data-testid=number-retry-row]");
    this.#retryText = root.querySelector("[data-role=number-retry-text]");
  }

  /**
   * @param {"empty"|"drawing"|"waiting"|"ready"|"error"} state
   * @param {number} [strokes] the stroke count the shown reading belongs to
   */
  setState(state, strokes) {
    this.#root.dataset.state = state;
    if (strokes !== undefined) this.#root.dataset.strokes = String(strokes);
  }

  /** Nothing written yet. */
  showEmpty() {
    this.#number.replaceChildren();
    this.#headline.textContent = "Write a number, such as a year";
    this.#detail.textContent =
      "Each digit is found, boxed on your drawing and read by the network on its own.";
    this.#list.replaceChildren();
    this.#root.classList.remove("is-unsure", "is-rejected", "is-problem");
    this.showRetry(null);
    this.#boxes.clear();
    this.setState("empty", 0);
  }

  /** @param {NumberReading} data */
  show(data) {
    const { headline, detail } = describe(data, this.#boxes.height);
    this.#headline.textContent = headline;
    this.#detail.textContent = detail;
    this.#root.classList.toggle("is-unsure", data.unsure);
    this.#root.classList.toggle("is-rejected", data.number === "");
    this.#root.classList.remove("is-problem");
    this.showRetry(null);
    // The number, each digit a span so that an unsure one can stand out; its text is `number`.
    this.#number.replaceChildren(
      ...data.digits
        .filter((d) => d.verdict !== "not_a_digit")
        .map((d) => {
          const span = document.createElement("span");
          span.textContent = String(d.digit);
          if (d.verdict === "unsure") span.className = "is-unsure";
          return span;
        }),
    );
    const place = places(data.digits);
    this.#list.replaceChildren(...data.digits.map((d, i) => digitItem(d, place[i])));
    this.#boxes.show(data.digits);
  }

  /**
   * @param {string} message "" hides the line
   * @param {"info"|"error"} [tone]
   */
  showStatus(message, tone = "info") {
    showStatusLine(this.#status, message, tone);
  }

  /**
   * The drawing could not be read: say what went wrong where the number goes (the digits and
   * boxes of an older reading, if any, stay faded behind it).
   * @param {string} title e.g. "Can't reach the server"
   * @param {string} message the server's own message, or what to expect
   */
  showProblem(title, message) {
    this.#number.replaceChildren();
    this.#root.classList.remove("is-unsure", "is-rejected");
    this.#root.classList.add("is-problem");
    this.#headline.textContent = title;
    this.#detail.textContent = message;
    this.#boxes.fade();
    this.setState("error");
  }

  /**
   * The countdown to the automatic retry, with its "Retry now" button.
   * @param {number|null} secondsLeft null hides them
   */
  showRetry(secondsLeft) {
    showCountdown(this.#retryRow, this.#retryText, secondsLeft);
  }

  /**
   * What a screen reader hears once the reading settles: the headline, and for an unsure
   * reading which digit and its two candidates (as the page shows them under it).
   * @param {NumberReading} data
   * @returns {string}
   */
  spoken(data) {
    const { headline, detail } = describe(data, this.#boxes.height);
    return data.unsure ? `${headline} ${detail}` : headline;
  }
}

/**
 * One digit: what it reads as, its 28×28 and its ten bars.
 * @param {DigitReading} d
 * @param {number | null} place its place in the number, null for a mark left out of it
 * @returns {HTMLLIElement}
 */
function digitItem(d, place) {
  const item = document.createElement("li");
  item.className = `number-digit is-${d.verdict.replace(/_/g, "-")}`;
  item.dataset.testid = "number-digit";
  item.dataset.digit = String(d.digit);
  item.dataset.verdict = d.verdict;
  const head = document.createElement("p");
  head.className = "number-digit-head";
  const strong = document.createElement("strong");
  strong.textContent = d.verdict === "not_a_digit" ? "?" : String(d.digit);
  const sure = document.createElement("span");
  if (d.verdict !== "not_a_digit") sure.textContent = percent(d.confidence);
  else sure.textContent = d.too_small ? "too small" : "no digit";
  head.append(strong, sure);

  const input = document.createElement("canvas");
  input.className = "number-digit-input";
  input.width = input.height = 28;
  input.setAttribute("aria-hidden", "true");
  if (Array.isArray(d.input)) paintInk(input, d.input);

  const bars = document.createElement("ol");
  bars.className = "mini-bars";
  bars.setAttribute("aria-hidden", "true");
  for (let k = 0; k < DIGITS; k++) {
    const bar = document.createElement("li");
    bar.className = k === d.digit ? "mini-bar is-top" : "mini-bar";
    const fill = document.createElement("span");
    fill.className = "mini-fill";
    // A style property set from script is allowed by the CSP (style attributes are not).
    fill.style.transform = `scaleY(${Math.min(Math.max(Number(d.probabilities[k]) || 0, 0), 1)})`;
    const label = document.createElement("span");
    label.className = "mini-label";
    label.textContent = String(k);
    bar.append(fill, label);
    bars.append(bar);
  }
  const words =
    place === null
      ? `a mark left out of the number: ${d.too_small ? "too small for a digit" : "not a digit"}`
      : `${position(place)}: ${aDigit(d.digit)}, ${percent(d.confidence)}` +
        (d.verdict === "unsure" ? `, or ${aDigit(d.runner_up)}` : "");
  item.setAttribute("aria-label", words.charAt(0).toUpperCase() + words.slice(1));
  item.append(head, input, bars);
  return item;
}

/**
 * Each digit's box, outlined on a canvas laid over the drawing pad (it takes no pointer
 * events). Boxes come in the pixels of the canvas the strokes were sent in (`width` ×
 * `height`); the overlay scales them to its own size, and redraws when that changes.
 */
export class BoxOverlay {
  #canvas;
  #width;
  #height;
  /** @type {DigitReading[]} */
  #digits = [];

  /**
   * @param {HTMLCanvasElement} canvas
   * @param {number} width the strokes' canvas width, as sent
   * @param {number} height and its height
   */
  constructor(canvas, width, height) {
    this.#canvas = canvas;
    this.#width = width;
    this.#height = height;
    new ResizeObserver(() => this.#draw()).observe(canvas);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.#draw());
  }

  /** The height of the canvas the boxes are in (as the strokes were sent). */
  get height() {
    return this.#height;
  }

  /** @param {DigitReading[]} digits */
  show(digits) {
    this.#digits = digits;
    this.#canvas.classList.remove("is-stale");
    this.#draw();
  }

  /** The boxes on show are an older reading's (the drawing could not be read): fade them. */
  fade() {
    this.#canvas.classList.add("is-stale");
  }

  clear() {
    this.show([]);
  }

  /** How many boxes are drawn (for the tests). */
  get count() {
    return this.#digits.length;
  }

  #draw() {
    const canvas = this.#canvas;
    const rect = canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(rect.width * ratio));
    canvas.height = Math.max(1, Math.round(rect.height * ratio));
    canvas.dataset.boxes = String(this.#digits.length);
    if (this.#digits.length === 0 || rect.width === 0) return;
    const ctx = canvas.getContext("2d");
    const sx = canvas.width / this.#width;
    const sy = canvas.height / this.#height;
    const style = getComputedStyle(canvas);
    const colours = {
      digit: style.getPropertyValue("--box-digit").trim() || "#4f46e5",
      unsure: style.getPropertyValue("--box-unsure").trim() || "#b45309",
      not_a_digit: style.getPropertyValue("--box-mark").trim() || "#5f6675",
    };
    const text = style.getPropertyValue("--box-text").trim() || "#fff";
    const line = 2 * ratio;
    ctx.font = `600 ${12 * ratio}px system-ui, sans-serif`;
    ctx.textBaseline = "bottom";
    for (const d of this.#digits) {
      const [x0, y0, x1, y1] = d.box;
      const colour = colours[d.verdict] ?? colours.digit;
      ctx.strokeStyle = colour;
      ctx.lineWidth = line;
      ctx.setLineDash(d.verdict === "not_a_digit" ? [4 * ratio, 3 * ratio] : []);
      ctx.beginPath();
      ctx.roundRect(x0 * sx, y0 * sy, (x1 - x0) * sx, (y1 - y0) * sy, 6 * ratio);
      ctx.stroke();
      // A small tag on the box: which digit it was read as (inside the box if it is at the top).
      const tag = d.verdict === "not_a_digit" ? "·" : String(d.digit);
      const w = ctx.measureText(tag).width + 8 * ratio;
      const h = 16 * ratio;
      const tx = x0 * sx;
      const ty = y0 * sy - h > 0 ? y0 * sy - h : y0 * sy;
      ctx.fillStyle = colour;
      ctx.beginPath();
      ctx.roundRect(tx, ty, w, h, 4 * ratio);
      ctx.fill();
      ctx.fillStyle = text;
      ctx.fillText(tag, tx + 4 * ratio, ty + h - 2 * ratio);
    }
  }
}
