/**
 * The "Inside the network" panel: how the answer is made, from a POST /api/explain response.
 * (Over 300 lines: one panel that draws every stage of one answer; units.js and heatmap.js
 * already hold the parts that stand alone.)
 *
 * - Laid out from the answer itself: one stage per hidden layer, with the model's own sizes and
 *   activation, so any depth, width or activation looks right and a new model is followed.
 * - Open or closed is remembered (localStorage); the panel says so with an "openchange" event, so
 *   the page asks /api/explain only while it is open.
 * - A unit opens on pointing at its cell, or from the keyboard: a focused layer moves its
 *   selection with the arrow keys, Home and End. Its value is said in a polite live region; a
 *   first-layer unit also shows its 784 weights as a 28×28 image (units.js fetches them).
 * - With nothing drawn, it shows what the first layer looks for (the most varied units).
 * - Every value drawn is also in text: the scores table (visually hidden), the bars' numbers,
 *   and the live region for units.
 */

import { coloursOf, gridColumns, paintCells, paintInk, paintSigned } from "./heatmap.js";
import { percent } from "./words.js";

const STORAGE_KEY = "digits.inside";
const ATLAS_UNITS = 64;
const LAYER_BOX = 144; // CSS px: the side of the square a layer's grid fits in
const FIELD = 28;
const SUBSCRIPT = "₀₁₂₃₄₅₆₇₈₉";

const ACTIVATION_NAME = { relu: "ReLU", sigmoid: "sigmoid", tanh: "tanh" };
const ACTIVATION_TEXT = {
  relu: "then ReLU: a = max(0, z)",
  sigmoid: "then the sigmoid: a = 1 ÷ (1 + e⁻ᶻ)",
  tanh: "then tanh: a = tanh(z)",
};

/** @param {number} digit @returns {string} z with the digit as a subscript, e.g. z₇ */
const z = (digit) => `z${SUBSCRIPT[digit]}`;
/** @param {number} v @returns {string} a value for people: 2 decimals, a real minus sign */
const number = (v) => v.toFixed(2).replace("-", "−");

/**
 * A score split into its map's part and its biases' part, written so that the sum on screen
 * holds: rounded apart, the three could miss by 0.01 (7.33 + 1.61 shown as 8.93), so the
 * biases' part is written as the score less the map, as both are written (within 0.01).
 * @param {number} mapSum @param {number} score
 * @returns {[string, string, string]} the map's part, the biases' part, the score
 */
export function scoreParts(mapSum, score) {
  const [map, total] = [mapSum, score].map((v) => Math.round(v * 100));
  return [number(map / 100), number((total - map) / 100), number(total / 100)];
}

export class InsidePanel extends EventTarget {
  #root;
  #body;
  #toggle;
  #units;
  #storage;
  #flow;
  #template;
  #scoresEnd;
  /** @type {{canvas: HTMLCanvasElement, values: number[], columns: number, cell: number}[]} */
  #layers = [];
  #shape = "";
  #selected = { layer: -1, unit: -1 };
  #chosen = false; // the person picked the selected unit (else it follows the most active one)
  #last = null; // the explanation on screen
  #version = "";

  /**
   * @param {HTMLElement} root the panel's section
   * @param {{units: import("./units.js").UnitWeights, storage?: Storage}} options
   */
  constructor(root, { units, storage = window.localStorage }) {
    super();
    this.#root = root;
    this.#units = units;
    this.#storage = storage;
    this.#body = root.querySelector("[data-testid=inside-body]");
    this.#toggle = root.querySelector("[data-testid=inside-toggle]");
    this.#flow = root.querySelector("[data-testid=flow]");
    this.#template = root.querySelector("[data-role=layer-template]");
    this.#scoresEnd = root.querySelector(".stage-scores");
    this.#toggle.addEventListener("click", () => this.setOpen(!this.open));
    let remembered = null;
    try {
      remembered = this.#storage.getItem(STORAGE_KEY);
    } catch {
      // Storage can be refused (private modes): the panel then simply starts closed.
    }
    this.#apply(remembered === "open");
  }

  get open() {
    return this.#toggle.getAttribute("aria-expanded") === "true";
  }

  /** @param {boolean} open */
  setOpen(open) {
    this.#apply(open);
    try {
      this.#storage.setItem(STORAGE_KEY, open ? "open" : "closed");
    } catch {
      // Not remembered, but it still works.
    }
    this.dispatchEvent(new CustomEvent("openchange", { detail: { open } }));
    if (open && this.#root.dataset.state === "rest") void this.#paintAtlas();
  }

  #apply(open) {
    this.#toggle.setAttribute("aria-expanded", String(open));
    this.#toggle.querySelector("[data-role=toggle-text]").textContent = open ? "Hide" : "Show";
    this.#body.hidden = !open;
  }

  /** @param {string} version the served model (from /api/model or a prediction) */
  setVersion(version) {
    if (version === this.#version) return;
    this.#version = version;
    this.#units.useVersion(version);
    if (this.open && this.#root.dataset.state === "rest") void this.#paintAtlas();
  }

  /** Nothing drawn: show what the first layer looks for. */
  showRest() {
    this.#root.dataset.state = "rest";
    this.#last = null;
    const text = this.#root.querySelector("[data-testid=unit-text]");
    text.textContent = text.dataset.rest; // no unit's value is left over from the last drawing
    if (this.open) void this.#paintAtlas();
  }

  /**
   * Render a /api/explain response.
   * @param {object} data
   */
  show(data) {
    if (!Array.isArray(data.layers)) return;
    this.#root.dataset.state = "live";
    this.#last = data;
    if (data.model?.version) this.setVersion(data.model.version);
    const colours = coloursOf(this.#root);
    this.#layout(data.layers);
    if (!this.#chosen && data.layers.length > 0) {
      // Until the person points at one, show the first layer's most active unit.
      const values = data.layers[0].values;
      this.#selected = { layer: 0, unit: values.indexOf(Math.max(...values)) };
    }
    paintInk(this.#root.querySelector("[data-testid=inside-input]"), data.input);
    for (let i = 0; i < data.layers.length; i++) this.#paintLayer(i, colours);
    this.#showScores(data);
    this.#showEvidence(data, colours);
    this.#showUnit(colours);
  }

  /** One stage per hidden layer, rebuilt only when the model's shape changes. */
  #layout(layers) {
    const shape = layers.map((l) => `${l.size}:${l.activation}`).join(",");
    if (shape === this.#shape) {
      layers.forEach((layer, i) => {
        this.#layers[i].values = layer.values;
      });
      return;
    }
    this.#shape = shape;
    this.#selected = { layer: -1, unit: -1 };
    this.#chosen = false;
    for (const old of this.#flow.querySelectorAll(".stage-layer")) old.remove();
    this.#layers = layers.map((layer, i) => {
      const stage = /** @type {HTMLElement} */ (
        this.#template.content.firstElementChild.cloneNode(true)
      );
      const canvas = stage.querySelector("canvas");
      const columns = gridColumns(layer.size);
      const cell = Math.max(3, Math.floor(LAYER_BOX / columns));
      canvas.dataset.testid = `layer-${i + 1}`;
      canvas.style.width = `${columns * cell}px`;
      canvas.style.height = `${Math.ceil(layer.size / columns) * cell}px`;
      canvas.setAttribute(
        "aria-label",
        `Layer ${i + 1}: ${layer.size} units. Use the arrow keys to read each unit's value.`,
      );
      stage.querySelector(".stage-title").textContent =
        `Layer ${i + 1}: ${layer.size} units, ${ACTIVATION_NAME[layer.activation]}`;
      stage.querySelector(".stage-caption").textContent =
        `Each unit: z = w·a + b over every value before it, ${ACTIVATION_TEXT[layer.activation]}. ` +
        "The stronger the colour, the more active.";
      this.#flow.insertBefore(stage, this.#scoresEnd);
      const entry = { canvas, values: layer.values, columns, cell };
      this.#listen(i, entry);
      return entry;
    });
  }

  #listen(index, entry) {
    const { canvas } = entry;
    const unitAt = (event) => {
      const x = Math.floor(event.offsetX / entry.cell);
      const y = Math.floor(event.offsetY / entry.cell);
      const unit = y * entry.columns + x;
      return x < entry.columns && unit < entry.values.length ? unit : -1;
    };
    // Read out what the keys choose; what the pointer sweeps over or taps is only shown. A tap
    // makes no pointermove, and its pointerdown comes before the focus, which would otherwise
    // choose unit 0.
    for (const type of ["pointerdown", "pointermove"]) {
      canvas.addEventListener(type, (event) => {
        const unit = unitAt(event);
        if (unit >= 0) this.#select(index, unit, false);
      });
    }
    canvas.addEventListener("focus", () => {
      if (this.#selected.layer !== index) this.#select(index, 0, true);
    });
    canvas.addEventListener("keydown", (event) => {
      const { unit } = this.#selected;
      const last = entry.values.length - 1;
      const moves = {
        ArrowRight: unit + 1,
        ArrowLeft: unit - 1,
        ArrowDown: unit + entry.columns,
        ArrowUp: unit - entry.columns,
        Home: 0,
        End: last,
      };
      if (!(event.key in moves)) return;
      event.preventDefault();
      this.#select(index, Math.min(Math.max(moves[event.key], 0), last), true);
    });
  }

  /**
   * @param {number} layer
   * @param {number} unit
   * @param {boolean} announce read the unit's line out (a choice made with the keys)
   */
  #select(layer, unit, announce) {
    this.#chosen = true;
    if (this.#selected.layer === layer && this.#selected.unit === unit) return;
    const before = this.#selected.layer;
    this.#selected = { layer, unit };
    const colours = coloursOf(this.#root);
    if (before >= 0 && before !== layer) this.#paintLayer(before, colours);
    this.#paintLayer(layer, colours);
    this.#showUnit(colours, announce);
  }

  #paintLayer(index, colours) {
    const entry = this.#layers[index];
    const bounded = this.#last?.layers[index]?.activation !== "relu"; // sigmoid, tanh: |a| ≤ 1
    paintCells(entry.canvas, entry.values, {
      columns: entry.columns,
      cell: entry.cell,
      colours,
      selected: this.#selected.layer === index ? this.#selected.unit : -1,
      scale: bounded ? 1 : undefined,
    });
  }

  /**
   * The chosen unit's line, weights and drawing.
   * @param {import("./heatmap.js").Colours} colours
   * @param {boolean} [announce] read the line out; not while a stroke changes it many times a
   *   second, nor as the pointer sweeps a layer
   */
  async #showUnit(colours, announce = false) {
    const text = this.#root.querySelector("[data-testid=unit-text]");
    const weights = this.#root.querySelector("[data-testid=unit-weights]");
    const caption = this.#root.querySelector("[data-role=unit-weights-caption]");
    const { layer, unit } = this.#selected;
    if (this.#last)
      paintInk(this.#root.querySelector("[data-testid=unit-drawing]"), this.#last.input);
    if (layer < 0 || !this.#last) return;
    const value = this.#layers[layer].values[unit];
    const line = `Layer ${layer + 1}, unit ${unit} of ${this.#layers[layer].values.length}: a = ${number(value)}`;
    if (text.textContent !== line) text.textContent = line;
    // Read out through a region that is always live (one made live as it changes may not be).
    if (announce) this.#root.querySelector("[data-testid=unit-said]").textContent = line;
    if (layer > 0) {
      weights.getContext("2d").clearRect(0, 0, weights.width, weights.height);
      weights.dataset.unit = "";
      caption.textContent = `Layer ${layer + 1} reads layer ${layer}, not pixels: its weights are not an image.`;
      return;
    }
    caption.textContent = `What unit ${unit} looks for: its 784 weights. Orange: ink here raises its z; blue: lowers it.`;
    const found = await this.#units.unit(unit);
    if (found && this.#selected.layer === 0 && this.#selected.unit === unit) {
      paintSigned(weights, found.weights, FIELD, FIELD, colours);
      weights.dataset.unit = String(unit);
    }
  }

  #showScores(data) {
    const peak = Math.max(...data.scores.map(Math.abs), 1e-9);
    const rows = this.#root.querySelectorAll("[data-testid=scores] li");
    const probs = this.#root.querySelectorAll("[data-testid=inside-probs] li");
    const table = this.#root.querySelectorAll("[data-testid=inside-table] tbody tr");
    // Ten digit scores, and an eleventh, "not a digit", for a model that learnt one.
    const outputs = data.scores.length;
    for (const list of [rows, probs, table]) list[10].hidden = outputs <= 10;
    this.#root.querySelector("[data-role=scores-title]").textContent =
      `Scores z: ${outputs} numbers`;
    // Its value, so that a learner can work a probability out from the scores shown.
    this.#root.querySelector("[data-role=temperature]").textContent =
      `\u00a0=\u00a0${data.temperature.toFixed(2)}`; // "T = 1.38" on one line
    // The row the page's answer comes from: ✕ when it says "not a digit", else the digit.
    const answer = data.verdict === "not_a_digit" && outputs > 10 ? 10 : data.digit;
    data.scores.forEach((score, d) => {
      const row = rows[d];
      row.classList.toggle("is-top", d === answer);
      row.querySelector(".score-negative").style.transform =
        `scaleX(${Math.max(-score, 0) / peak})`;
      row.querySelector(".score-positive").style.transform = `scaleX(${Math.max(score, 0) / peak})`;
      row.querySelector(".score-value").textContent = number(score);
      const p = d < 10 ? data.probabilities[d] : (data.not_a_digit ?? 0);
      probs[d].classList.toggle("is-top", d === answer);
      probs[d].querySelector(".prob-fill").style.transform = `scaleX(${p})`;
      probs[d].querySelector(".prob-value").textContent = percent(p);
      const cells = table[d].querySelectorAll("td");
      cells[0].textContent = number(score);
      cells[1].textContent = percent(p);
    });
  }

  #showEvidence(data, colours) {
    const { evidence } = data;
    const top = evidence.digit;
    const other = evidence.runner_up;
    paintSigned(
      this.#root.querySelector("[data-testid=evidence]"),
      evidence.for_digit.flat(),
      FIELD,
      FIELD,
      colours,
    );
    paintSigned(
      this.#root.querySelector("[data-testid=contrast]"),
      evidence.versus_runner_up.flat(),
      FIELD,
      FIELD,
      colours,
    );
    // With "not a digit" the maps still explain the best guess, and the title says so.
    this.#root.querySelector("[data-role=why-digit]").textContent =
      data.verdict === "not_a_digit" ? `${top}, its best guess` : String(top);
    this.#root.querySelector("[data-role=evidence-caption]").textContent =
      `Orange ink raised ${z(top)}, the score of ${top}; blue ink lowered it.`;
    this.#root.querySelector("[data-role=contrast-title]").textContent =
      `Why ${top} and not ${other}`;
    this.#root.querySelector("[data-role=contrast-caption]").textContent =
      `Orange ink favours ${top}, blue favours ${other}.`;
    const mapSum = evidence.for_digit.flat().reduce((a, b) => a + b, 0);
    const [map, biases, score] = scoreParts(mapSum, data.scores[top]);
    this.#root.querySelector("[data-role=method]").textContent = evidence.exact
      ? `Method: gradient × input, each pixel's ink times how much ${z(top)} moves with it. ` +
        `In a ReLU network this adds up exactly: the map's ${map} plus the biases' ` +
        `${biases} is ${z(top)} = ${score}.`
      : `Method: gradient × input, each pixel's ink times how much ${z(top)} moves with it. ` +
        `With ${data.layers[0]?.activation ?? "this"} units it is a first-order reading: the ` +
        "network is not linear, so the map does not add up to the score exactly.";
  }

  async #paintAtlas() {
    const atlas = this.#root.querySelector("[data-testid=atlas]");
    const units = await this.#units.top(ATLAS_UNITS);
    if (this.#root.dataset.state !== "rest") return;
    const colours = coloursOf(this.#root);
    const caption = this.#root.querySelector("[data-role=rest-caption]");
    if (units.length === 0) {
      atlas.replaceChildren();
      caption.textContent = "Draw a digit to see the network at work.";
      return;
    }
    const tiles = units.map((unit) => {
      const canvas = document.createElement("canvas");
      canvas.className = "inside-field inside-field-signed atlas-tile";
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `Unit ${unit.id}: its 784 weights as an image`);
      canvas.dataset.unit = String(unit.id);
      paintSigned(canvas, unit.weights, FIELD, FIELD, colours);
      return canvas;
    });
    atlas.replaceChildren(...tiles);
    caption.textContent =
      `Each tile is one unit of the first layer: its 784 weights, one per pixel. These are the ` +
      `${units.length} whose weights vary most. Draw a digit to see them at work.`;
  }
}
