/**
 * The drawing page: wires the pad, the prediction client, the results panel and the feedback
 * panel together, and owns the buttons, keyboard shortcuts and connection status. In Number
 * mode (number.js; the URL's #number) the pad is wide and its strokes are read as a number.
 *
 * (Over 300 lines: it is the one place where the page's parts meet; each part's own work is in
 * its module, and what is left here is wiring, in the order the person meets it.)
 */

import { savedAs } from "./answers.js";
import { DrawingPad, EXPORT_SIZE, inkExtent, smallForThePen } from "./canvas.js";
import { FeedbackPanel, NOT_A_DIGIT, PracticeDeck, sendFeedback } from "./feedback.js";
import { InsidePanel } from "./inside.js";
import { ModelWatch } from "./model-watch.js";
import { NumberMode } from "./number.js";
import { PredictionClient } from "./predict.js";
import { onPress } from "./press.js";
import { ResultsView } from "./results.js";
import { RetryTimer } from "./retry.js";
import { UnitWeights } from "./units.js";
import { aDigit, sentence } from "./words.js";

const canvas = /** @type {HTMLCanvasElement} */ (document.querySelector("[data-testid=canvas]"));
const undoButton = document.querySelector("[data-testid=undo]");
const clearButton = document.querySelector("[data-testid=clear]");
const exampleButton = document.querySelector("[data-testid=example]");
/** The pad holds a digit the app drew ("Example"), and maybe strokes over it: no person's
 * drawing, so the feedback strip asks nothing about it. */
let exampleOnPad = false;
let lastExample = -1;
const padFrame = canvas.closest(".pad");
const layout = /** @type {HTMLElement} */ (document.querySelector("main.layout"));
const modeButtons = {
  digit: document.querySelector("[data-testid=mode-digit]"),
  number: document.querySelector("[data-testid=mode-number]"),
};

const pad = new DrawingPad(canvas);
const view = new ResultsView(
  document.querySelector("[data-testid=results]"),
  document.querySelector("[data-role=announcer]"),
);
const feedback = new FeedbackPanel(document.querySelector("[data-testid=feedback]"));
const practiceToggle = document.querySelector("[data-testid=practice-toggle]");
const practicePrompt = document.querySelector("[data-testid=practice-prompt]");
const practiceDeck = new PracticeDeck();
const inside = new InsidePanel(document.querySelector("[data-testid=inside]"), {
  units: new UnitWeights(),
});
const PREDICT = "/api/predict?include_input=true";
const EXPLAIN = "/api/explain"; // the same answer, with the layers and the evidence
const client = new PredictionClient({
  getPayload: () => ({ image: pad.toDataURL(EXPORT_SIZE), strokes: pad.strokeCount }),
  onResult,
  onError,
  endpoint: inside.open ? EXPLAIN : PREDICT,
});
// A failed reading is sent again by itself, sooner with "Retry now" or when back online.
const retry = new RetryTimer({
  action: () => {
    if (pad.strokeCount > 0 && !pad.isDrawing) client.final();
  },
  onTick: (secondsLeft) => view.showRetry(secondsLeft),
});
// The retry row goes away with the answer, and the focus with it: move it to the pad first.
onPress(document.querySelector("[data-testid=retry]"), () => {
  canvas.focus({ preventScroll: true });
  retry.now();
});
const numberMode = new NumberMode({
  pad,
  results: document.querySelector("[data-testid=number-results]"),
  overlay: document.querySelector("[data-testid=number-boxes]"),
  announce: (text) => view.announceText(text),
  describeError,
  sendFeedback,
  cleared: (focused) => {
    syncControls();
    keepFocusOnPad(focused);
  },
  onVersion: (version) => models.note(version),
});
inside.addEventListener("openchange", (event) => {
  client.setEndpoint(/** @type {CustomEvent} */ (event).detail.open ? EXPLAIN : PREDICT);
  // Opened with a drawing on the canvas: explain what is there now.
  if (event.detail.open && pad.strokeCount > 0 && !pad.isDrawing) client.final();
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

/**
 * Remove every stroke and return to the empty state; late answers are dropped.
 * @param {{quiet?: boolean}} [options] quiet: don't announce it (a confirmation says more)
 */
function clearAll({ quiet = false } = {}) {
  const hadInk = pad.strokeCount > 0;
  exampleOnPad = false;
  const focused = document.activeElement;
  pad.clear();
  client.reset();
  retry.reset();
  feedback.withdraw();
  view.showEmpty();
  inside.showRest();
  view.showStatus("");
  numberMode.clear();
  syncControls();
  if (hadInk && !quiet) view.announceText("Canvas cleared");
  keepFocusOnPad(focused);
}

/**
 * A control that went away with the drawing (a layer of the Inside panel, a feedback button)
 * leaves the focus nowhere: put it on the pad, where the next drawing starts.
 * @param {Element | null} focused what had the focus before the drawing was cleared
 */
function keepFocusOnPad(focused) {
  if (focused instanceof HTMLElement && focused !== document.body && !focused.checkVisibility())
    canvas.focus({ preventScroll: true });
}

/** Practice mode: ask for the next digit of a shuffled round, or stop asking. */
function setPractice(on) {
  practiceToggle.setAttribute("aria-pressed", String(on));
  practicePrompt.hidden = !on;
  const target = on ? practiceDeck.next() : null;
  if (on) {
    practicePrompt.querySelector("[data-role=practice-digit]").textContent = String(target);
    practicePrompt.querySelector("[data-role=practice-article]").textContent =
      target === 8 ? "an" : "a";
    view.announceText(`Practice: draw ${aDigit(target)}`);
  }
  practicePrompt.dataset.digit = on ? String(target) : "";
  feedback.setTarget(target);
}

/** The person answered: post the drawing with its label, then clear for the next digit. */
feedback.addEventListener("answer", async (event) => {
  const { label, predicted, agreed, modelVersion, answer } = /** @type {CustomEvent} */ (event)
    .detail;
  const drawing = pad.edits;
  const result = await sendFeedback({
    image: pad.toDataURL(EXPORT_SIZE),
    label,
    predicted,
    modelVersion,
  });
  if (!result.ok) {
    feedback.failed(result.message, answer);
    return;
  }
  const saved = label === NOT_A_DIGIT ? "not a digit" : aDigit(label);
  // Unless the pad has moved on (more strokes, or a new drawing and its own question).
  const current = pad.edits === drawing;
  const said = savedAs(saved, current);
  // Drawings train a model only when an admin retrains with them: promise no more than that.
  const thanks = agreed
    ? `${said}.`
    : `${said}; a retrain that includes the saved drawings learns from it.`;
  if (current) clearAll({ quiet: true });
  feedback.saved(thanks, answer, current);
  // The next digit to ask for; not while another drawing's question is up (it would be asked
  // under the new target's name).
  if (current && practiceToggle.getAttribute("aria-pressed") === "true") setPractice(true);
  if (current) bringBackIntoView();
});

/**
 * On a phone the answer was scrolled to under the pad: once it is saved and the pad cleared,
 * the next drawing starts above the screen's top edge (practice mode's new "Draw a 4" too).
 * Scroll back to it, and only then.
 */
function bringBackIntoView() {
  const top = practicePrompt.hidden ? padFrame : practicePrompt;
  if (top.getBoundingClientRect().top < 0) top.scrollIntoView({ block: "start" });
}

/** Remove the last stroke and predict what is left (or go back to empty). */
function undoLast() {
  if (pad.strokeCount === 0) return;
  if (pad.strokeCount === 1) {
    clearAll(); // undoing the only stroke clears the pad, and says so
    return;
  }
  pad.undo();
  if (numberMode.active) {
    numberMode.reread();
    syncControls();
    return;
  }
  client.reset();
  retry.reset();
  feedback.withdraw();
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
  retry.reset();
  models.note(data.model?.version ?? "");
  const drawnSmall = smallForThePen(inkExtent(pad.strokes), 1);
  view.showPrediction(data, drawnSmall);
  inside.show(data);
  view.showStatus("");
  // "ready" means: this is the answer for exactly what is on the canvas, and nobody is drawing.
  if (outcome.final && outcome.strokes === pad.strokeCount && !pad.isDrawing) {
    view.setState("ready", outcome.strokes);
    view.announce(data, drawnSmall);
    // A mark too small to read is not asked about: the answer is to draw bigger, and a tap
    // saved as "not a digit" would teach the network nothing (the size rule decides it). Nor
    // is the app's own example: it is no person's handwriting.
    if (data.too_small || exampleOnPad) feedback.withdraw();
    else feedback.offer(data);
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
    if (!pad.isDrawing) {
      view.showEmpty();
      inside.showRest();
    }
    return;
  }
  const problem = describeError(error);
  if (!outcome.final || pad.isDrawing) {
    // Mid-stroke: a quiet line (a role="status" region, so screen readers hear it too); the
    // stroke's end sends the drawing again anyway.
    view.showStatus(problem.message, "error");
    return;
  }
  view.showStatus("");
  view.showProblem(problem.title, problem.message);
  view.announceText(`${problem.title}. ${problem.message}`);
  if (problem.retryable) retry.schedule(error.retryAfter);
  else view.showRetry(null);
}

/**
 * What went wrong, in the page's words: a title for the headline and a sentence under it, which
 * is the server's own message when it sent one.
 * @param {import("./predict.js").PredictError} error
 * @returns {{title: string, message: string, retryable: boolean}}
 */
function describeError(error) {
  const kept = "Your drawing is kept and sent again by itself.";
  switch (error.kind) {
    case "offline":
      return {
        title: "You're offline",
        message: `${kept.slice(0, -1)} when you're back.`,
        retryable: true,
      };
    case "network":
      return { title: "Can't reach the server", message: kept, retryable: true };
    case "timeout":
      return { title: "The server is taking too long", message: kept, retryable: true };
    default: {
      const said = sentence(error.message ?? "");
      const retryable = error.status === 429 || error.status >= 500;
      let title = "The drawing was refused";
      if (error.status === 429) title = "Too many requests";
      else if (error.code === "overloaded") title = "The server is busy";
      else if (error.code === "model_unavailable") title = "No model is loaded yet";
      else if (error.status >= 500) title = "The server had a problem";
      const message = said || `It answered ${error.status}.`;
      return { title, message: retryable ? `${message} ${kept}` : message, retryable };
    }
  }
}

/**
 * Another model answers now (an admin activated or rolled back a version): show its name, and
 * read what is on the canvas again so that the bars are the new model's.
 * @param {string} version
 */
function modelChanged(version) {
  const first = shownVersion() === "";
  view.showVersion(version);
  inside.setVersion(version);
  if (first) return; // the page just learnt the version it was served with
  view.announceText(`The model was updated to ${version}`);
  readAgain();
}

/** Read what is on the pad again now, in whichever mode is shown. */
function readAgain() {
  if (numberMode.active) numberMode.readAgain();
  else if (pad.strokeCount > 0 && !pad.isDrawing) client.final();
}

/** @returns {string} the version in the header's badge, "" while unknown */
function shownVersion() {
  const shown = document.querySelector("[data-testid=model-version]")?.textContent.trim() ?? "";
  return shown === "…" ? "" : shown;
}

const models = new ModelWatch({ onChange: modelChanged });

/** Digit or Number: switch the pad's shape and the panels. Each mode keeps its own drawing
 * while the other is shown, and reads it again on coming back. */
const HIDDEN_IN_NUMBER_MODE = ["results", "feedback", "inside", "practice-toggle", "example"];
const WORDS = {
  digit: {
    title: "Draw a digit. Watch a neural network read it.",
    lede: "Draw any digit from 0 to 9. As you draw, the network's confidence in each one updates live.",
    hint: "Fill most of the box",
    placeholder: "Draw here",
    label:
      "Drawing area. Draw one digit from 0 to 9 with a mouse, finger or pen. The prediction is read out when you lift the pointer. Press Escape to clear and Control+Z to undo the last stroke.",
  },
  number: {
    title: "Write a number. Watch a neural network read it.",
    lede: "A year, a price, an extension: each digit is found, boxed and read as you write.",
    hint: "Write the digits side by side",
    placeholder: "Write a number here",
    label:
      "Drawing area for a whole number. Write digits side by side with a mouse, finger or pen; the number is read out when you lift the pointer. Press Escape to clear and Control+Z to undo the last stroke.",
  },
};

const keptStrokes = { digit: [], number: [] };
const keptExample = { digit: false, number: false }; // and whether they are the app's example

/** @param {"digit"|"number"} mode */
function setMode(mode) {
  const number = mode === "number";
  keptStrokes[number ? "digit" : "number"] = pad.strokes;
  keptExample[number ? "digit" : "number"] = exampleOnPad;
  if (number) setPractice(false);
  clearAll({ quiet: true });
  numberMode.setActive(number);
  layout.dataset.mode = mode;
  for (const [name, button] of Object.entries(modeButtons)) {
    button.setAttribute("aria-pressed", String(name === mode));
  }
  for (const id of HIDDEN_IN_NUMBER_MODE) {
    /** @type {HTMLElement} */ (document.querySelector(`[data-testid=${id}]`)).hidden = number;
  }
  document.querySelector("[data-testid=number-results]").hidden = !number;
  for (const role of ["title", "lede", "hint", "placeholder"]) {
    document.querySelector(`[data-role=${role}]`).textContent = WORDS[mode][role];
  }
  canvas.setAttribute("aria-label", WORDS[mode].label);
  // The mode is in the address, so a reload or a shared link opens it again.
  const url = number ? "#number" : location.pathname + location.search;
  if ((location.hash === "#number") !== number) history.replaceState(null, "", url);
  const kept = keptStrokes[mode];
  keptStrokes[mode] = [];
  if (kept.length === 0) return;
  pad.restore(kept);
  exampleOnPad = keptExample[mode]; // still no question about it
  syncControls();
  if (!number) view.setState("waiting");
  readAgain();
}

for (const [mode, button] of Object.entries(modeButtons)) {
  onPress(button, () => {
    if (button.getAttribute("aria-pressed") === "true") return;
    setMode(/** @type {"digit"|"number"} */ (mode));
    view.announceText(
      mode === "number" ? "Number mode: write a whole number" : "Digit mode: draw one digit",
    );
  });
}

// In Number mode, number.js reads the strokes; these drive the one-digit reading.
pad.addEventListener("strokestart", () => {
  syncControls();
  if (numberMode.active) return;
  retry.reset();
  view.showRetry(null);
  feedback.withdraw();
  view.setState("drawing");
  client.live();
});
pad.addEventListener("strokemove", () => {
  if (!numberMode.active) client.live();
});
pad.addEventListener("strokeend", () => {
  if (numberMode.active) return;
  view.setState("waiting");
  client.final();
});

onPress(practiceToggle, () => {
  setPractice(practiceToggle.getAttribute("aria-pressed") !== "true");
});

/** "Example": a digit drawn by the app (GET /api/examples/{digit}), read as any drawing. For a
 * keyboard, a projector, or a learner who wants to see one first. */
async function showExample() {
  let digit = lastExample;
  while (digit === lastExample) digit = Math.floor(Math.random() * 10);
  lastExample = digit;
  let drawing;
  try {
    const response = await fetch(`/api/examples/${digit}`);
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    ({ digit, drawing } = await response.json());
  } catch (e) {
    view.showStatus(`No example this time: ${e.message}. Try again, or draw one.`, "error");
    return;
  }
  if (numberMode.active || pad.isDrawing) return; // the person moved on meanwhile
  clearAll({ quiet: true });
  pad.restore(
    drawing.strokes.map((s) => s.map(([x, y]) => [x / drawing.width, y / drawing.height])),
  );
  exampleOnPad = true;
  syncControls();
  view.announceText(`An example: the app drew ${aDigit(digit)}`);
  view.setState("waiting");
  client.final();
}

onPress(exampleButton, showExample);

// onPress, not click: a tap right after a stroke must clear (see press.js).
for (const [button, action] of [
  [undoButton, undoLast],
  [clearButton, () => clearAll()],
]) {
  onPress(button, () => {
    if (button.getAttribute("aria-disabled") !== "true") action();
  });
}

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.isComposing) return;
  // Keys typed into a field (the number mode's "No, it is" box) are the field's own: Escape
  // there must not wipe the drawing, nor Ctrl+Z undo a stroke.
  if (e.target instanceof Element && e.target.closest("input, textarea, select, [contenteditable]"))
    return;
  if (e.key === "Escape" && !e.ctrlKey && !e.metaKey && !e.altKey) {
    clearAll();
  } else if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === "z") {
    e.preventDefault(); // the browser's own undo has nothing to undo on this page
    undoLast();
  } else if (numberMode.asking && !e.ctrlKey && !e.metaKey && !e.altKey && e.key === "Enter") {
    // Enter on a focused button does its own thing.
    if (!(e.target instanceof HTMLButtonElement)) {
      e.preventDefault();
      numberMode.answerRight();
    }
  } else if (feedback.asking && !e.ctrlKey && !e.metaKey && !e.altKey) {
    // Answering by keyboard: a digit says what it really is, N that it is no digit, Enter that
    // the reading was right (Enter on a focused button already presses that button). The
    // one-character keys act only from the pad or the feedback strip (the pad takes the focus
    // when a stroke starts): a stray key elsewhere, or a word said to speech input, must not
    // save a drawing under a label nobody chose (WCAG 2.1.4).
    const fromTheDrawing =
      e.target === canvas || (e.target instanceof Element && e.target.closest(".card-feedback"));
    if (/^[0-9]$/.test(e.key) && fromTheDrawing) {
      e.preventDefault();
      feedback.answerDigit(Number(e.key));
    } else if (e.key.toLowerCase() === "n" && !e.shiftKey && fromTheDrawing) {
      e.preventDefault();
      feedback.answerNotADigit();
    } else if (e.key === "Enter" && !(e.target instanceof HTMLButtonElement)) {
      e.preventDefault();
      feedback.answerRight();
    }
  }
});

window.addEventListener("offline", () => {
  const { title } = describeError({ kind: "offline" });
  if (numberMode.active) numberMode.showStatus(title, "error");
  else view.showStatus(title, "error");
});
window.addEventListener("online", () => {
  view.showStatus("");
  if (numberMode.active) numberMode.online();
  else if (retry.armed) retry.now();
  else if (pad.strokeCount > 0 && !pad.isDrawing) client.final();
});

view.showEmpty();
if (location.hash === "#number") setMode("number");
// An address typed or followed with (or without) #number switches the mode, as a reload would.
window.addEventListener("hashchange", () => {
  const wanted = location.hash === "#number" ? "number" : "digit";
  if ((layout.dataset.mode || "digit") !== wanted) setMode(wanted);
});
syncControls();
inside.setVersion(shownVersion());
models.start(shownVersion()); // rendered by the server when it knows it; else asked at once
inside.showRest();
document.documentElement.classList.add("js-ready");
