/**
 * What is wrong with each field of the training form, in plain words, next to that field.
 *
 * - check(form) reads the fields as the browser sees them (their min, max and step come from the
 *   server's limits, rendered into the template) and returns {field name: message} for each one
 *   that cannot be sent: "A whole number from 1 to 100", never a validator's wording.
 * - fromServer(form, details) turns the `details` of a 422 validation_error (each {loc, msg})
 *   into the same messages: a field the server names gets its own rule's words; what cannot be
 *   tied to a field is returned under "" with the server's message.
 * - show(form, errors) writes each message under its field, marks the field aria-invalid and
 *   describes it by the message; clear(form) takes them all away. Pure DOM, no requests.
 */

import { node } from "./dom.js";

/** "0.00001", "2", "2147483647": a limit as a person reads it. */
const number = (text) => Number(text).toLocaleString("en", { maximumSignificantDigits: 12 });

/**
 * The words for one field, from its own limits.
 * @param {HTMLInputElement|HTMLSelectElement} input
 * @returns {string}
 */
function rule(input) {
  if (input.name === "hidden_layers") {
    const d = input.dataset;
    return `${d.minLayers} to ${d.maxLayers} widths, each a whole number from ${number(d.minWidth)} to ${number(d.maxWidth)}, separated by commas (e.g. 512, 256)`;
  }
  if (input instanceof HTMLSelectElement) return "Choose one of the list";
  const whole = input.step === "1";
  return `${whole ? "A whole number" : "A number"} from ${number(input.min)} to ${number(input.max)}`;
}

/**
 * @param {HTMLInputElement} input the hidden layers field
 * @returns {boolean} whether its text is a valid list of widths
 */
function widthsValid(input) {
  const d = input.dataset;
  const parts = input.value.split(/[\s,]+/).filter(Boolean);
  if (parts.length < Number(d.minLayers) || parts.length > Number(d.maxLayers)) return false;
  return parts.every((p) => {
    if (!/^\d+$/.test(p)) return false;
    const n = Number(p);
    return n >= Number(d.minWidth) && n <= Number(d.maxWidth);
  });
}

/**
 * @param {HTMLFormElement} form
 * @returns {Record<string, string>}
 */
export function check(form) {
  const errors = {};
  for (const input of form.querySelectorAll("input[name], select[name]")) {
    if (input.type === "checkbox" || input.disabled) continue;
    const bad = input.name === "hidden_layers" ? !widthsValid(input) : !input.validity.valid;
    if (bad) errors[input.name] = rule(input);
  }
  return errors;
}

/**
 * @param {HTMLFormElement} form
 * @param {unknown} details the `details` of the server's validation_error
 * @param {string} message the server's own message
 * @returns {Record<string, string>}
 */
export function fromServer(form, details, message) {
  const errors = {};
  for (const d of Array.isArray(details) ? details : []) {
    const name = Array.isArray(d?.loc) && d.loc[0] === "body" ? d.loc[1] : undefined;
    const input = typeof name === "string" ? form.elements.namedItem(name) : null;
    if (input instanceof HTMLInputElement || input instanceof HTMLSelectElement) {
      errors[name] = rule(input);
    } else {
      errors[""] = message;
    }
  }
  if (Object.keys(errors).length === 0) errors[""] = message;
  return errors;
}

/**
 * @param {HTMLFormElement} form
 * @param {Record<string, string>} errors
 */
export function show(form, errors) {
  clear(form);
  for (const [name, text] of Object.entries(errors)) {
    const input = name ? form.elements.namedItem(name) : null;
    if (!(input instanceof HTMLElement)) continue;
    const id = `error-${name}`;
    const note = node("span", { class: "field-error", id, dataset: { errorFor: name }, text });
    (input.closest(".field") ?? input.parentElement).append(note);
    input.setAttribute("aria-invalid", "true");
    const described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", described ? `${id} ${described}` : id);
  }
}

/** @param {HTMLFormElement} form */
export function clear(form) {
  for (const note of form.querySelectorAll(".field-error")) note.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    const described = (input.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .filter((id) => id && !id.startsWith("error-"))
      .join(" ");
    if (described) input.setAttribute("aria-describedby", described);
    else input.removeAttribute("aria-describedby");
  }
}
