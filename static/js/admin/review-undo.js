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
 *   offered while this one waited its turn, stays). The focus goes to the first drawing back,
 *   if shown, or to the Undo offered again.
 */

import { node } from "./dom.js";

const ids = (list) =>
  list.length === 1
    ? `#${list[0]}`
    : `${list
        .slice(0, -1)
        .map((id) => `#${id}`)
        .join(", ")} and #${list.at(-1)}`;

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
    const current = offered(); // (one already clicked is on its way: not offered again)
    const before = current && !current.disabled ? current.dataset.ids.split(",").map(Number) : [];
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
    const back = []; // [id asked for, id it is stored under]
    const gone = []; // back already, or deleted too long ago
    const left = [...list];
    let failure = null;
    while (left.length && !failure) {
      try {
        const item = await api.json(`/api/admin/feedback/${left[0]}/restore`, { method: "POST" });
        back.push([left.shift(), item.id]);
      } catch (e) {
        if (e.status === 404) gone.push(left.shift());
        else failure = e;
      }
    }
    if (failure) {
      const which = left.length === 1 ? `Drawing ${ids(left)} was` : `Drawings ${ids(left)} were`;
      report(failure, `${which} not brought back`);
      if (!failure.signedOut) message.append(" ", button(left)); // it may come back yet
    } else if (undo.isConnected) {
      say(outcome(back, gone), back.length ? "ok" : "error");
    }
    if (back.length || gone.length) await refresh().catch((e) => report(e));
    const active = document.activeElement;
    if (active && active !== document.body) return; // the person has moved on
    const first = back.length ? shown(back[0][1])?.querySelector("[data-focus=delete]") : null;
    (first ?? offered() ?? message).focus();
  }

  function outcome(back, gone) {
    const words = [];
    if (back.length === 1) {
      const [asked, stored] = back[0];
      words.push(
        asked === stored
          ? `Drawing #${asked} is back.`
          : `Drawing #${asked} is back already, as #${stored}.`,
      );
    } else if (back.length) {
      words.push(`${back.length} drawings are back: ${ids(back.map(([, stored]) => stored))}.`);
    }
    if (gone.length)
      words.push(
        `${gone.length === 1 ? "Drawing" : "Drawings"} ${ids(gone)} cannot be brought back: back already, or deleted over ten minutes ago.`,
      );
    return words.join(" ");
  }

  document.addEventListener("keydown", (event) => {
    if (event.key.toLowerCase() !== "z" || !(event.ctrlKey || event.metaKey)) return;
    if (event.shiftKey || event.altKey || event.defaultPrevented) return;
    const target = event.target;
    if (target instanceof HTMLElement && target.closest("input, textarea, [contenteditable]"))
      return; // a field's own undo
    const undo = offered();
    if (!undo || undo.disabled || undo.closest("[hidden]")) return;
    event.preventDefault();
    undo.click();
  });

  return { deleted };
}
