/**
 * The training form: its fields become the body of POST /api/admin/retrain.
 *
 * - The defaults are the values the server rendered into the form (the training config's own
 *   defaults, from app/routes/admin_page.py); "Reset to defaults" puts them back. An empty number
 *   field is left out of the body, so the server's default applies.
 * - Start sends the body. A 202 hands the new job's id to onStarted. A refusal shows the server's
 *   message and marks each field it names (aria-invalid); if a job is already running (409
 *   job_running), its id goes to onRunning so that the page follows it.
 * - Start stays disabled while isBusy() (a job is queued or running); setBusy() is told when
 *   that changes.
 */

import { byRole } from "./dom.js";

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
 */
export function createTrainForm({ form, api, isBusy, onStarted, onRunning }) {
  const error = byRole(form, "train-error");
  const start = form.querySelector("[data-testid=retrain]");
  const feedbackHint = byRole(form, "feedback-train-hint");
  const checkboxes = [...form.querySelectorAll("input[type=checkbox]")];
  const defaults = new FormData(form);
  const defaultChecks = checkboxes.map((c) => c.checked);

  function clearErrors() {
    error.hidden = true;
    for (const field of form.querySelectorAll("[aria-invalid]")) {
      field.removeAttribute("aria-invalid");
    }
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
    start.disabled = true;
    try {
      const accepted = await api.json("/api/admin/retrain", { method: "POST", json: read() });
      onStarted(accepted.job_id);
    } catch (e) {
      if (e.signedOut) return;
      error.hidden = false;
      error.textContent = e.message;
      for (const d of Array.isArray(e.details) ? e.details : []) {
        form.elements[d.loc?.[1]]?.setAttribute("aria-invalid", "true");
      }
      if (e.code === "job_running" && e.details?.job_id) onRunning(e.details.job_id);
    } finally {
      start.disabled = isBusy();
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
