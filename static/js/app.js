/**
 * The drawing page: wires the pad, the prediction client and the results panel together, and
 * owns the buttons, keyboard shortcuts and connection status.
 */

import { DrawingPad, EXPORT_SIZE } from "./canvas.js";
import { PredictionClient } from "./predict.js";
import { ResultsView } from "./results.js";

const canvas = /** @type {HTMLCanvasElement} */ (document.querySelector("[data-testid=canvas]"));
const undoButton = document.querySelector("[data-testid=undo]");
const clearButton = document.querySelector("[data-testid=clear]");
const padFrame = canvas.closest(".pad");

const pad = new DrawingPad(canvas);
const view = new ResultsView(
  document.querySelector("[data-testid=results]"),
  document.querySelector("[data-role=announcer]"),
);
const client = new PredictionClient({
  getPayload: () => ({ image: pad.toDataURL(EXPORT_SIZE), strokes: pad.strokeCount }),
  onResult,
  onError,
});

/** Keep the stroke count, the buttons and the placeholder in step with the pad. */
function syncControls() {
  const count = pad.strokeCount;
  canvas.dataset.strokes = String(count);
  padFrame.classList.toggle("has-ink", count > 0);
  // aria-disabled rather than disabled: a disabled button drops keyboard focus, which would
  // strand a keyboard user who just pressed Undo on the last stroke.
  for (const button of [undoButton, clearButton]) {
    button.setAttribute("aria-disabled", String(count === 0));
  }
}

/** Remove every stroke and return to the empty state; late answers are dropped. */
function clearAll() {
  const hadInk = pad.strokeCount > 0;
  pad.clear();
  client.reset();
  view.showEmpty();
  view.showStatus("");
  syncControls();
  if (hadInk) view.announceText("Canvas cleared");
}

/** Remove the last stroke and predict what is left (or go back to empty). */
function undoLast() {
  if (pad.strokeCount === 0) return;
  pad.undo();
  if (pad.strokeCount === 0) {
    clearAll();
    return;
  }
  client.reset();
  view.setState("waiting");
  syncControls();
  client.final();
}

/**
 * A prediction arrived (already known not to be stale).
 * @param {object} data the /api/predict response body
 * @param {{final: boolean, strokes: number}} outcome
 */
function onResult(data, outcome) {
  if (pad.strokeCount === 0) return; // cleared while it was in flight
  view.showPrediction(data);
  view.showStatus("");
  // "ready" means: this is the answer for exactly what is on the canvas, and nobody is drawing.
  if (outcome.final && outcome.strokes === pad.strokeCount && !pad.isDrawing) {
    view.setState("ready", outcome.strokes);
    view.announce(data);
  }
}

/**
 * A request failed. Nothing here throws or logs: the user sees a short status line instead.
 * @param {import("./predict.js").PredictError} error
 * @param {{final: boolean, strokes: number}} outcome
 */
function onError(error, outcome) {
  if (error.kind === "http" && error.code === "blank_image") {
    // Not a failure: there is simply no ink the network could read (yet).
    if (!pad.isDrawing) view.showEmpty();
    return;
  }
  // The status line is a role="status" region, so screen readers hear this too.
  view.showStatus(describeError(error), "error");
  if (outcome.final && !pad.isDrawing) view.setState("error");
}

/**
 * @param {import("./predict.js").PredictError} error
 * @returns {string} one calm sentence for the status line
 */
function describeError(error) {
  switch (error.kind) {
    case "offline":
      return "You're offline. Your drawing is kept; it will be read when you're back online.";
    case "network":
      return "Can't reach the server. Your drawing is kept; draw again to retry.";
    case "timeout":
      return "The server is taking too long to answer. Draw again to retry.";
    default:
      if (error.status === 429) return "Too many requests right now. Wait a moment, then draw again.";
      if (error.status >= 500) return `The server had a problem (${error.status}). Try again shortly.`;
      return error.message || `The request was refused (${error.status}).`;
  }
}

/** The version is rendered server-side when known; otherwise ask the API once. */
async function loadModelVersion() {
  const shown = document.querySelector("[data-testid=model-version]");
  if (shown && shown.textContent.trim() !== "" && shown.textContent.trim() !== "…") return;
  try {
    const response = await fetch("/api/model", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const info = await response.json();
    if (info?.version) view.showVersion(String(info.version));
  } catch {
    // Not essential: the version also arrives with the first prediction.
  }
}

pad.addEventListener("strokestart", () => {
  view.setState("drawing");
  syncControls();
  client.live();
});
pad.addEventListener("strokemove", () => client.live());
pad.addEventListener("strokeend", () => {
  view.setState("waiting");
  client.final();
});

for (const [button, action] of [
  [undoButton, undoLast],
  [clearButton, clearAll],
]) {
  button.addEventListener("click", () => {
    if (button.getAttribute("aria-disabled") !== "true") action();
  });
}

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.isComposing) return;
  if (e.key === "Escape" && !e.ctrlKey && !e.metaKey && !e.altKey) {
    clearAll();
  } else if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === "z") {
    e.preventDefault(); // the browser's own undo has nothing to undo on this page
    undoLast();
  }
});

window.addEventListener("offline", () => {
  view.showStatus(describeError({ kind: "offline" }), "error");
});
window.addEventListener("online", () => {
  view.showStatus("");
  if (pad.strokeCount > 0 && !pad.isDrawing) client.final();
});

view.showEmpty();
syncControls();
void loadModelVersion();
document.documentElement.classList.add("js-ready");
