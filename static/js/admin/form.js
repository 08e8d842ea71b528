/**
 * The training form: its fields become the body of POST /api/admin/retrain.
 *
 * - The defaults are the values the server rendered into the form (the training config's own
 *   defaults, from app/routes/admin_page.py); "Reset to defaults" puts them back. An empty number
 *   field is left out of the body, so the server's default applies.
 * - Start first checks every field (field-errors.js) and, when Force is ticked, asks
 *   confirmForce() (which names the figures the gate would require); only then sends the body.
 *   A field that cannot be sent is said in plain words under it, and the focus goes to the
 *   first one. A 202 hands the new job's id to onStarted. A 422 is shown the same way, field by
 *   field; another refusal shows the server's message under the form; if a job is already
 *   running (409 job_running), its id goes to onRunning so that the page follows it.
 * - Start stays disabled while isBusy() (a job is queued or running); setBusy() is told when
 *   that changes.
 */

import { byRole } from "./dom.js";
import * as fieldErrors from "./field-errors.js";

const NUMBERS = [
  "epochs",
  "batch_size",
  "seed",
  "max_train_samples",
  "learning_rate",
  "momentum",
  "weight_decay",
  "feedback_weight",
];

/**
 * @param {object} options
 * @param {HTMLFormElement} options.form
 * @param {ReturnType<import("./api.js").createApi>} options.api
 * @param {() => boolean} options.isBusy whether a job is queued or running now
 * @param {(jobId: string) => void} options.onStarted a job was accepted
 * @param {(jobId: string) => void} options.onRunning another job is running already
 * @param {() => boolean} options.confirmForce asked before a job with Force is started
 */
export function createTrainForm({ form, api, isBusy, onStarted, onRunning, confirmForce }) {
  const error = byRole(form, "train-error");
  const start = form.querySelector("[data-testid=retrain]");
  const feedbackHint = byRole(form, "feedback-train-hint");
  const checkboxes = [...form.querySelectorAll("input[type=checkbox]")];
  const defaults = new FormData(form);
  const defaultChecks = checkboxes.map((c) => c.checked);

  function clearErrors() {
    error.hidden = true;
    fieldErrors.clear(form);
  }

  /** Show what is wrong: each field's words under it, anything else under the form. */
  function showErrors(errors) {
    fieldErrors.show(form, errors);
    const names = Object.keys(errors).filter(Boolean);
    const general = errors[""];
    error.hidden = !general && names.length === 0;
    error.textContent =
      general ?? `Check the field${names.length === 1 ? "" : "s"} marked in red, then start again.`;
    if (names.length) form.elements.namedItem(names[0])?.focus();
  }

  function read() {
    const f = form.elements;
    const body = {
      hidden_layers: f.hidden_layers.value
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number),
      activation: f.activation.value,
      loss: f.loss.value,
      augment: f.augment.checked,
      force: f.force.checked,
      include_feedback: f.include_feedback.checked,
    };
    for (const name of NUMBERS) {
      if (f[name].value !== "") body[name] = Number(f[name].value);
    }
    return body;
  }

  byRole(form, "reset-form").addEventListener("click", () => {
    for (const [name, value] of defaults) {
      const input = form.elements[name];
      if (input && input.type !== "checkbox") input.value = value;
    }
    checkboxes.forEach((c, i) => {
      c.checked = defaultChecks[i];
    });
    form.elements.max_train_samples.value = "";
    clearErrors();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const problems = fieldErrors.check(form);
    if (Object.keys(problems).length) {
      showErrors(problems);
      return;
    }
    if (form.elements.force.checked && !confirmForce()) return;
    start.disabled = true;
    try {
      const accepted = await api.json("/api/admin/retrain", { method: "POST", json: read() });
      onStarted(accepted.job_id);
    } catch (e) {
      if (e.signedOut) return;
      if (e.code === "validation_error") {
        showErrors(fieldErrors.fromServer(form, e.details, e.message));
      } else {
        showErrors({ "": e.message });
      }
      if (e.code === "job_running" && e.details?.job_id) onRunning(e.details.job_id);
    } finally {
      start.disabled = isBusy();
      // Disabling Start dropped the focus; put it back unless a field or the job card has it.
      if (!start.disabled && document.activeElement === document.body) start.focus();
    }
  });

  return {
    /** A job started or ended: Start is disabled while one is queued or running. */
    setBusy(busy) {
      start.disabled = busy;
    },
    /** How many user drawings are stored, for the "Include user drawings" hint. */
    showFeedbackCount(total) {
      feedbackHint.textContent = total
        ? `${total.toLocaleString()} stored; a fixed 20% is held back to score the model`
        : "none stored yet";
    },
  };
}
