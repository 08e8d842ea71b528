/**
 * Undo for the review panel's deletes, offered in its message line.
 *
 * - The server keeps a deleted drawing aside for ten minutes and puts it back as it was, under
 *   its own id (POST /api/admin/feedback/{id}/restore).
 * - deleted(id) says the delete in the message line with one Undo for it and for every delete
 *   said there just before (while the line said nothing else): "3 drawings were deleted: #4, #5
 *   and #6. Undo". deleted(id, error) says it with why the list could not be reloaded after it.
 * - Undo, or Ctrl+Z / ⌘Z anywhere on the page but in a text field, brings them all back, one
 *   after another in the panel's queue. A drawing that cannot come back (back already, or
 *   deleted over ten minutes ago) is said so; one whose request did not arrive is offered again.
 * - The outcome is said only while the line still offers this Undo (a later delete's Undo,
 *   offered while this one waited its turn, stays; if this one fails, both are offered as one).
 *   A lost session leaves the Undo to be pressed once signed in again. The focus goes to the
 *   first drawing back, if shown, or to the Undo offered again.
 */

import { node } from "./dom.js";

/** "a", "a and b", "a, b and c" */
const joined = (words) =>
  words.length === 1 ? words[0] : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;

/** "#4, #5 and #6" */
const ids = (list) => joined(list.map((id) => `#${id}`));

/** The ids an Undo button brings back; none for one already pressed (it is on its way). */
const idsOf = (button) =>
  button && !button.disabled ? button.dataset.ids.split(",").map(Number) : [];

// Keys typed here are the field's own (its own Ctrl+Z); a checkbox or a select is no text field.
const TEXT_FIELD =
  "textarea, [contenteditable]:not([contenteditable=false]), input:not([type=checkbox], " +
  "[type=radio], [type=button], [type=submit], [type=reset], [type=file], [type=range], " +
  "[type=color])";

/** "Drawing #5 was deleted" / "3 drawings were deleted: #4, #5 and #6" */
const deletedWords = (list) =>
  list.length === 1
    ? `Drawing #${list[0]} was deleted`
    : `${list.length} drawings were deleted: ${ids(list)}`;

/**
 * @param {object} options
 * @param {HTMLElement} options.message the panel's message line
 * @param {ReturnType<import("./api.js").createApi>} options.api
 * @param {(task: () => Promise<unknown>) => Promise<unknown>} options.queue the panel's queue
 * @param {(text: string, tone?: string) => void} options.say
 * @param {(error: Error, prefix?: string) => void} options.report
 * @param {() => Promise<unknown>} options.refresh reload the panel
 * @param {(id: number) => HTMLElement | null} options.shown drawing `id`'s grid item, if shown
 */
export function createUndo({ message, api, queue, say, report, refresh, shown }) {
  /** The Undo the line offers now, if any. */
  const offered = () => message.querySelector("[data-testid=feedback-undo]");

  /**
   * @param {number} id the drawing just deleted
   * @param {Error} [problem] why the list could not be reloaded after it
   */
  function deleted(id, problem) {
    const before = idsOf(offered());
    const list = before.includes(id) ? before : [...before, id];
    if (problem) report(problem, `${deletedWords(list)}, but the list could not be reloaded`);
    else say(`${deletedWords(list)}.`);
    message.append(" ", button(list));
  }

  function button(list) {
    const undo = node("button", {
      type: "button",
      class: "btn btn-small",
      text: "Undo",
      title: "Undo (Ctrl+Z)",
      "aria-label": `Undo: bring back ${list.length === 1 ? "drawing" : "drawings"} ${ids(list)}`,
      "aria-keyshortcuts": "Control+Z Meta+Z",
      dataset: { testid: "feedback-undo", ids: list.join(",") },
    });
    undo.addEventListener("click", () => {
      undo.disabled = true;
      queue(() => restore(list, undo));
    });
    return undo;
  }

  async function restore(list, undo) {
    const back = []; // restored, under their own ids
    const gone = []; // back already, or deleted too long ago
    const left = [...list];
    let failure = null;
    while (left.length && !failure) {
      try {
        await api.json(`/api/admin/feedback/${left[0]}/restore`, { method: "POST" });
        back.push(left.shift());
      } catch (e) {
        if (e.status === 404) gone.push(left.shift());
        else failure = e;
      }
    }
    const said = outcome(back, gone);
    if (failure?.signedOut) {
      // The sign-in card says why; once signed in again, the rest can be brought back.
      if (undo.isConnected) undo.replaceWith(button(left));
    } else if (failure) {
      // It may come back yet: offered again, with a later delete's Undo offered meanwhile
      // (which the report replaces).
      const later = undo.isConnected ? [] : idsOf(offered());
      const which = left.length === 1 ? `Drawing ${ids(left)} was` : `Drawings ${ids(left)} were`;
      report(failure, `${said ? `${said} ` : ""}${which} not brought back`);
      message.append(" ", button([...left, ...later.filter((id) => !left.includes(id))]));
    } else if (undo.isConnected) {
      say(said, back.length ? "ok" : "error");
    }
    if (back.length || gone.length) await refresh().catch((e) => report(e));
    const active = document.activeElement;
    if (active && active !== document.body) return; // the person has moved on
    const first = back.length ? shown(back[0])?.querySelector("[data-focus=delete]") : null;
    (first ?? offered() ?? message).focus();
  }

  function outcome(back, gone) {
    const words = [];
    if (back.length === 1) words.push(`Drawing #${back[0]} is back.`);
    else if (back.length) words.push(`${back.length} drawings are back: ${ids(back)}.`);
    if (gone.length)
      words.push(
        `${gone.length === 1 ? "Drawing" : "Drawings"} ${ids(gone)} cannot be brought back: back already, or deleted over ten minutes ago.`,
      );
    return words.join(" ");
  }

  document.addEventListener("keydown", (event) => {
    if (event.key.toLowerCase() !== "z" || !(event.ctrlKey || event.metaKey)) return;
    if (event.shiftKey || event.altKey || event.defaultPrevented || event.repeat) return;
    const target = event.target;
    if (target instanceof HTMLElement && target.closest(TEXT_FIELD)) return;
    const undo = offered();
    if (!undo || undo.disabled || undo.closest("[hidden]")) return;
    event.preventDefault();
    undo.click();
  });

  return { deleted };
}
