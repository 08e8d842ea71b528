/**
 * The active model on the MNIST test set: its confusion matrix, as a heat map of the mistakes
 * (the diagonal, the right answers, apart), and its most confidently wrong test digits.
 *
 * show(version) loads them for the model this worker serves. `state.version` (created in
 * main.js) is the version shown or being loaded, so the same model is never measured twice;
 * after a failure (no MNIST yet, say) it is cleared and the card says why, and the next show()
 * or retry() tries again: main.js retries when a job moves to its next phase, so the card says
 * when the first job is fetching MNIST and fills in once it has it.
 */

import { percent } from "../words.js";
import { byRole, node } from "./dom.js";
import { pct } from "./format.js";

const HEAT_LEVELS = 8; // .heat-1 … .heat-8 in admin.css
const NOT_A_DIGIT = 10; // the eleventh output of a model that can say "not a digit"

/** A predicted class as the table and the mistakes show it. */
const named = (c) => (c === NOT_A_DIGIT ? "✕" : String(c));

/**
 * @param {object} options
 * @param {ParentNode} options.root the page
 * @param {ReturnType<import("./api.js").createApi>} options.api
 * @param {{version: string|null}} options.state
 */
export function createInsights({ root, api, state }) {
  const hint = byRole(root, "insight-hint");
  const confusion = byRole(root, "confusion");
  const mistakes = byRole(root, "mistakes");

  let asked = null; // the version last asked for

  async function show(version) {
    asked = version;
    if (version === state.version) return;
    state.version = version;
    hint.textContent = "Measuring…";
    let data;
    try {
      data = await api.json("/api/admin/insights");
    } catch (e) {
      hint.textContent = e.signedOut ? "" : e.message;
      state.version = null;
      return;
    }
    state.version = data.version;
    // A flagged digit counts as wrong here, as the promotion gate counts; the README's headline
    // figure is the digit named (flags included), so both are said when they differ.
    const alsoNamed =
      data.digit_accuracy === data.accuracy
        ? ""
        : ` (✕ counted wrong; ${pct(data.digit_accuracy)} name the right digit)`;
    hint.textContent = `${data.version}: ${pct(data.accuracy)} correct, ${data.errors} of ${data.test_size.toLocaleString()} wrong${alsoNamed}`;
    confusion.replaceChildren(...matrix(data.confusion));
    mistakes.replaceChildren(...data.most_confident_mistakes.map(mistake));
  }

  /** Try again after a failure; nothing to do when the figures are shown. */
  function retry() {
    if (state.version === null && asked !== null) void show(asked);
  }

  return { show, retry };
}

/** The table's head and body; the colour of a cell grows with the square root of its count. */
function matrix(counts) {
  const max = Math.max(1, ...counts.flatMap((row, i) => row.filter((_, j) => j !== i)));
  const level = (n, i, j) => {
    if (i === j) return "diag";
    if (n === 0) return "0";
    // sqrt(n / max), not sqrt(n) / sqrt(max): the latter can fall just short of 1 at n = max.
    const scaled = Math.floor((HEAT_LEVELS - 1) * Math.sqrt(n / max));
    return String(1 + Math.min(HEAT_LEVELS - 1, scaled));
  };
  const columns = [...Array(counts[0].length).keys()]; // 10 digits, then "not a digit"
  const head = node(
    "tr",
    {},
    node("th", { scope: "col", class: "corner", text: "" }),
    ...columns.map((c) =>
      node("th", {
        scope: "col",
        text: named(c),
        title: c === NOT_A_DIGIT ? "not a digit" : undefined,
      }),
    ),
  );
  const rows = counts.map((row, i) =>
    node(
      "tr",
      {},
      node("th", { scope: "row", text: String(i) }),
      ...row.map((n, j) =>
        node("td", {
          class: `heat heat-${level(n, i, j)}`,
          title: `true ${i}, ${j === NOT_A_DIGIT ? "flagged not a digit" : `predicted ${j}`}: ${n}`,
          text: n ? String(n) : "",
        }),
      ),
    ),
  );
  return [node("thead", {}, head), node("tbody", {}, ...rows)];
}

function mistake(m) {
  const canvas = node("canvas", {
    width: "28",
    height: "28",
    class: "digit",
    role: "img",
    "aria-label": `a test ${m.label} read as ${m.predicted === NOT_A_DIGIT ? "not a digit" : m.predicted}`,
  });
  paintDigit(canvas, m.pixels_base64);
  return node(
    "li",
    { class: "mistake", dataset: { label: String(m.label), predicted: String(m.predicted) } },
    canvas,
    node(
      "span",
      { class: "mistake-text" },
      node("b", { text: String(m.label) }),
      " → ",
      node("b", { class: "wrong", text: named(m.predicted) }),
    ),
    node("span", { class: "mistake-conf", text: percent(m.confidence) }),
  );
}

/** 784 bytes of ink (MNIST form), drawn dark on paper like the drawing pad. */
function paintDigit(canvas, b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = 255 - bytes[i];
    image.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}
