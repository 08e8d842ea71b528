/**
 * The user-drawings review panel: what people labelled on the drawing page, 48 a page.
 *
 * - Thumbnails with their label and what the model read; the wrong ones are highlighted. A
 *   drawing can be relabelled (its select) or deleted. Counts per digit head the panel; a count
 *   filters by that label, as do the label, prediction and "wrong only" filters.
 * - Export and Import move every drawing at once as an .npz (review-files.js).
 * - `state` (created in main.js) holds the page shown and the number of pages.
 * - refresh() reloads the panel and tells onCounts(counts) (the training form shows the total);
 *   reload() does the same and says in the message line why it failed. What an action did, or
 *   why it failed, is said in that line.
 * - Changes (relabels, deletes) and reloads run one after another, in the order they were
 *   asked for, so a reload never lands between a change and what it shows.
 * - A delete can be undone from the message line that says it was done (review-undo.js).
 * - The keyboard focus stays where the person works. A relabel changes its drawing in place (a
 *   select's arrow keys pass labels on the way: the one it rests on for 0.6 s, or leaves the
 *   select on, is saved; a refused one puts back the stored label). When a rebuild or a
 *   disabled button leaves the focus nowhere, it goes back to the same control (a count,
 *   Previous or Next, or the same button of the drawing now in that place); if the person has
 *   moved on meanwhile, it stays where they are.
 */

import { aDigit } from "../words.js";
import { byRole, node } from "./dom.js";
import { when } from "./format.js";
import { wireReviewFiles } from "./review-files.js";
import { createUndo } from "./review-undo.js";

const NOT_A_DIGIT = "not_a_digit"; // the API's label of a drawing that is no digit at all
const RELABEL_SETTLE_MS = 600; // a label chosen with the arrow keys is saved after this pause

/** A label as the panel says it: "a 3", "not a digit". */
const labelText = (label) => (label === NOT_A_DIGIT ? "not a digit" : aDigit(label));

/** A label select's value as the API's label: 7 or "not_a_digit". */
const parse = (value) => (value === NOT_A_DIGIT ? NOT_A_DIGIT : Number(value));

/**
 * @param {object} options
 * @param {ParentNode} options.root the review card
 * @param {ReturnType<import("./api.js").createApi>} options.api
 * @param {{page: number, pages: number}} options.state
 * @param {(counts: {total: number}) => void} options.onCounts
 */
export function createReview({ root, api, state, onCounts }) {
  const grid = byRole(root, "review-grid");
  const counts = byRole(root, "review-counts");
  const hint = byRole(root, "review-hint");
  const message = byRole(root, "review-message");
  const filters = byRole(root, "review-filters");
  const pageText = byRole(root, "review-page");
  const prev = byRole(root, "review-prev");
  const next = byRole(root, "review-next");

  /** Another selection: what the line said of the last one goes ("Drawing #16 is back." over
   * "No drawings match these filters"), but not an Undo still on offer. */
  function refilter() {
    if (!message.querySelector("[data-testid=feedback-undo]")) say("");
    reload();
  }

  function say(text, tone = "ok") {
    message.textContent = text;
    message.dataset.tone = tone;
    message.hidden = !text;
  }

  /**
   * Say why `error` happened, after `prefix` if given ("Drawing #5 was not deleted").
   * @param {{message: string, signedOut?: boolean}} error
   * @param {string} [prefix]
   */
  function report(error, prefix = "") {
    if (error.signedOut) return;
    const why = error.message;
    say(prefix ? `${prefix}: ${why.charAt(0).toLowerCase()}${why.slice(1)}` : why, "error");
  }

  // Changes and reloads, one after another in the order they were asked for; a failure that a
  // task does not report itself is said in the message line.
  let work = Promise.resolve();
  const queue = (task) => {
    work = work.then(task).catch((e) => report(e));
    return work;
  };
  /** Reload the panel (after the changes asked for before), reporting a failure. */
  const reload = () => queue(() => refresh());
  const deleting = new Set(); // ids of drawings whose delete is asked for and not done
  const steps = new Map(); // id → the number of the last relabel asked for it
  const asked = new Map(); // drawing id → the label last sent for it, until its answer
  /** The grid's item of drawing `id` as the grid is now (a rebuild replaces them). */
  const shown = (id) => grid.querySelector(`[data-testid=feedback-item][data-id="${id}"]`);
  message.tabIndex = -1; // the focus goes here when the control it was on is gone
  prev.dataset.focus = "prev";
  next.dataset.focus = "next";
  const otherPage = { prev: "next", next: "prev" }; // where the focus goes when one is disabled

  /** Where the focus is in the panel, to put it back after a rebuild: the control's
   * data-focus name, and the place in the grid of its drawing (-1 outside the grid). */
  function focusNow() {
    const active = document.activeElement;
    if (!(active instanceof HTMLElement) || !root.contains(active) || !active.dataset.focus)
      return null;
    const drawing = active.closest("[data-testid=feedback-item]");
    return { name: active.dataset.focus, at: drawing ? [...grid.children].indexOf(drawing) : -1 };
  }

  /** @param {{name: string, at: number} | null} focus from focusNow(), before the rebuild */
  function focusAgain(focus) {
    const active = document.activeElement;
    if (!focus || (active && active !== document.body)) return; // not lost, or moved on
    let scope = root;
    if (focus.at >= 0) {
      const drawings = grid.querySelectorAll("[data-testid=feedback-item]");
      scope = drawings[Math.min(focus.at, drawings.length - 1)];
    }
    const find = (name) => scope?.querySelector(`[data-focus="${name}"]:not(:disabled)`);
    (find(focus.name) ?? find(otherPage[focus.name]) ?? message).focus();
  }

  function query() {
    const f = filters.elements;
    const params = new URLSearchParams({ page: String(state.page), per_page: "48" });
    if (f.label.value !== "") params.set("label", f.label.value);
    if (f.predicted.value !== "") params.set("predicted", f.predicted.value);
    if (f.wrong_only.checked) params.set("wrong_only", "true");
    return params;
  }

  /**
   * Load the page of drawings the filters ask for and show it.
   * @param {{grid?: boolean, focus?: {name: string, at: number} | null}} [options] grid: false
   *   leaves the drawings shown as they are (after a relabel); focus: where to put the focus
   *   back (by default where it is now)
   */
  async function refresh({ grid: rebuild = true, focus = focusNow() } = {}) {
    const data = await api.json(`/api/admin/feedback?${query()}`);
    state.pages = data.pages;
    if (state.page > data.pages) {
      state.page = data.pages; // the last page emptied: show the one before, whole
      return refresh({ focus });
    }
    const c = data.counts;
    hint.textContent = `${c.total.toLocaleString()} drawing${c.total === 1 ? "" : "s"}, ${c.wrong.toLocaleString()} the model got wrong`;
    onCounts(c);
    counts.replaceChildren(
      ...c.by_label.map((n, d) => count(String(d), String(d), n, c.wrong_by_label[d])),
      count(NOT_A_DIGIT, "✕", c.not_a_digit ?? 0, c.wrong_not_a_digit ?? 0), // as in insights
    );
    if (rebuild) {
      grid.dataset.count = String(data.items.length);
      const empty = c.total
        ? "No drawings match these filters."
        : "No drawings yet. They arrive when people answer on the drawing page.";
      grid.replaceChildren(
        ...(data.items.length
          ? data.items.map(item)
          : [node("li", { class: "empty", text: empty })]),
      );
    }
    pageText.textContent = `Page ${data.page} of ${data.pages} · ${data.total.toLocaleString()} shown by the filters`;
    prev.disabled = data.page <= 1;
    next.disabled = data.page >= data.pages;
    focusAgain(focus);
    return data;
  }

  /**
   * One label's count; clicking it filters by that label (again: shows every label).
   * @param {string} label "0"…"9" or "not_a_digit", as the label filter's values
   * @param {string} face what the button says for it ("7", "✕")
   */
  function count(label, face, n, wrong) {
    const selected = filters.elements.label.value === label;
    const name = label === NOT_A_DIGIT ? "Not a digit" : label;
    const button = node(
      "button",
      {
        type: "button",
        class: `digit-count${selected ? " is-selected" : ""}`,
        "aria-pressed": String(selected),
        "aria-label": `${name}: ${n} drawing${n === 1 ? "" : "s"}, ${wrong} wrong`,
        title: label === NOT_A_DIGIT ? "Drawings labelled: not a digit" : undefined,
        dataset: { digit: label, count: String(n), focus: `count-${label}` },
      },
      node("b", { text: face }),
      node("span", { text: String(n) }),
      wrong ? node("small", { text: `${wrong} wrong` }) : null,
    );
    button.addEventListener("click", () => {
      filters.elements.label.value = selected ? "" : label;
      state.page = 1;
      refilter();
    });
    return node("li", {}, button);
  }

  /**
   * Show drawing `s` (as the API lists it) in its grid item `li`, as stored now.
   * @param {HTMLElement} li
   * @param {{label: number|string, wrong: boolean}} s
   * @param {boolean} select set the label's select too (not while a later step is on its way)
   */
  function show(li, s, select) {
    if (select) li.querySelector("select").value = String(s.label);
    li.dataset.label = String(s.label);
    li.dataset.wrong = String(s.wrong);
    li.classList.toggle("is-wrong", s.wrong);
    li.querySelector("img").alt = `a drawing labelled ${labelText(s.label)}`;
    li.querySelector(".review-predicted").classList.toggle("wrong", s.wrong);
  }

  function item(s) {
    const path = `/api/admin/feedback/${s.id}`;
    const select = node("select", {
      "aria-label": `Label of drawing #${s.id}`,
      dataset: { testid: "feedback-relabel", focus: "relabel" },
    });
    for (const label of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, NOT_A_DIGIT]) {
      const text = label === NOT_A_DIGIT ? "not a digit" : String(label);
      const option = node("option", { value: String(label), text });
      option.selected = label === s.label;
      select.append(option);
    }
    // A closed select changes with every arrow key: save once the choice has settled (or the
    // focus leaves), not each label passed on the way.
    let settling = 0;
    const settle = () => {
      clearTimeout(settling);
      settling = 0;
      relabel();
    };
    select.addEventListener("change", () => {
      clearTimeout(settling);
      settling = setTimeout(settle, RELABEL_SETTLE_MS);
    });
    select.addEventListener("blur", () => {
      if (settling) settle();
    });
    const relabel = () => {
      const label = parse(select.value);
      // Back where it was: the label stored, or the one on its way (which this must then
      // override, so it is compared with that one).
      const current = asked.get(s.id) ?? parse(shown(s.id)?.dataset.label ?? String(s.label));
      if (label === current) return;
      asked.set(s.id, label);
      const step = (steps.get(s.id) ?? 0) + 1;
      steps.set(s.id, step);
      const latest = () => steps.get(s.id) === step; // no later step was asked for meanwhile
      queue(async () => {
        try {
          const stored = await api.json(path, { method: "PATCH", json: { label } });
          const now = shown(s.id);
          if (now) show(now, stored, latest());
          if (!latest()) return;
          asked.delete(s.id);
          say(`Relabelled: drawing #${s.id} is ${labelText(label)} now.`);
          await refresh({ grid: false }).catch((e) => report(e)); // saved all the same
        } catch (e) {
          if (!latest()) return;
          asked.delete(s.id);
          const now = shown(s.id);
          if (now) now.querySelector("select").value = now.dataset.label; // what is stored
          const still = labelText(parse(now?.dataset.label ?? String(s.label)));
          report(e, `Drawing #${s.id} was not relabelled (it is still ${still})`);
        }
      });
    };
    const remove = node("button", {
      type: "button",
      class: "btn btn-small btn-quiet-danger",
      text: "Delete",
      "aria-label": `Delete drawing #${s.id}`,
      dataset: { testid: "feedback-delete", focus: "delete" },
    });
    remove.disabled = deleting.has(s.id); // (a rebuild while its delete waits its turn)
    remove.addEventListener("click", () => {
      if (deleting.has(s.id)) return;
      const focus = focusNow(); // taken before the button is disabled, which drops the focus
      deleting.add(s.id);
      remove.disabled = true;
      queue(async () => {
        try {
          await api.json(path, { method: "DELETE" });
          deleting.delete(s.id);
          undo.deleted(s.id);
          await refresh({ focus }).catch((e) => {
            if (!e.signedOut) undo.deleted(s.id, e); // (signed out: the sign-in card says why)
          });
        } catch (e) {
          deleting.delete(s.id);
          report(e, `Drawing #${s.id} was not deleted`);
          const button = shown(s.id)?.querySelector("[data-focus=delete]");
          if (button) button.disabled = false;
          focusAgain(focus);
        }
      });
    });
    // Posted without the model's answer: "–", as the page writes every missing value.
    const predicted = `Read as ${s.predicted ?? "–"}`;
    const li = node(
      "li",
      {
        class: `review-item${s.wrong ? " is-wrong" : ""}`,
        dataset: {
          testid: "feedback-item",
          id: String(s.id),
          label: String(s.label),
          wrong: String(s.wrong),
        },
        title: `#${s.id} · ${when(s.created)}${s.model_version ? ` · ${s.model_version}` : ""}`,
      },
      node("img", {
        src: s.thumbnail,
        width: "84",
        height: "84",
        alt: `a drawing labelled ${labelText(s.label)}`,
      }),
      node("span", { class: "review-label" }, "Label ", select),
      node("span", {
        class: `review-predicted${s.wrong ? " wrong" : ""}`,
        text: predicted,
      }),
      remove,
    );
    return li;
  }

  filters.addEventListener("change", () => {
    state.page = 1;
    refilter();
  });
  prev.addEventListener("click", () => {
    state.page = Math.max(1, state.page - 1);
    reload();
  });
  next.addEventListener("click", () => {
    state.page = Math.min(state.pages, state.page + 1);
    reload();
  });
  const undo = createUndo({ message, api, queue, say, report, refresh, shown });
  wireReviewFiles({
    root,
    api,
    say,
    report,
    onImported: () => {
      state.page = 1;
      return refresh();
    },
  });

  return { refresh, reload };
}
