/**
 * The user-drawings review panel: what people labelled on the drawing page, 48 a page.
 *
 * - Thumbnails with their label and what the model read; the wrong ones are highlighted. A
 *   drawing can be relabelled (its select) or deleted. Counts per digit head the panel; a count
 *   filters by that label, as do the label, prediction and "wrong only" filters.
 * - Export and Import move every drawing at once as an .npz (review-files.js).
 * - `state` (created in main.js) holds the page shown and the number of pages.
 * - refresh() reloads the panel and tells onCounts(counts) (the training form shows the total).
 *   What an action did, or why it failed, is said in the panel's message line.
 */

import { aDigit } from "../words.js";
import { byRole, node } from "./dom.js";
import { when } from "./format.js";
import { wireReviewFiles } from "./review-files.js";

const NOT_A_DIGIT = "not_a_digit"; // the API's label of a drawing that is no digit at all

/** A label as the panel says it: "a 3", "not a digit". */
const labelText = (label) => (label === NOT_A_DIGIT ? "not a digit" : aDigit(label));

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

  function say(text, tone = "ok") {
    message.textContent = text;
    message.dataset.tone = tone;
    message.hidden = !text;
  }

  function report(error) {
    if (!error.signedOut) say(error.message, "error");
  }

  /** Reload, reporting a failure in the message line. */
  const reload = () => refresh().catch(report);

  function query() {
    const f = filters.elements;
    const params = new URLSearchParams({ page: String(state.page), per_page: "48" });
    if (f.label.value !== "") params.set("label", f.label.value);
    if (f.predicted.value !== "") params.set("predicted", f.predicted.value);
    if (f.wrong_only.checked) params.set("wrong_only", "true");
    return params;
  }

  async function refresh() {
    const data = await api.json(`/api/admin/feedback?${query()}`);
    state.pages = data.pages;
    if (state.page > data.pages) {
      state.page = data.pages;
      return refresh();
    }
    const c = data.counts;
    hint.textContent = `${c.total.toLocaleString()} drawing${c.total === 1 ? "" : "s"}, ${c.wrong.toLocaleString()} the model got wrong`;
    onCounts(c);
    counts.replaceChildren(
      ...c.by_label.map((n, d) => count(String(d), String(d), n, c.wrong_by_label[d])),
      count(NOT_A_DIGIT, "✕", c.not_a_digit ?? 0, c.wrong_not_a_digit ?? 0), // as in insights
    );
    grid.dataset.count = String(data.items.length);
    const empty = c.total
      ? "No drawings match these filters."
      : "No drawings yet. They arrive when people answer on the drawing page.";
    grid.replaceChildren(
      ...(data.items.length ? data.items.map(item) : [node("li", { class: "empty", text: empty })]),
    );
    pageText.textContent = `Page ${data.page} of ${data.pages} · ${data.total.toLocaleString()} shown by the filters`;
    prev.disabled = data.page <= 1;
    next.disabled = data.page >= data.pages;
    return data;
  }

  /**
   * One label's count; clicking it filters by that label (again: shows every label).
   * @param {string} label "0"…"9" or "not_a_digit", as the label filter's values
   * @param {string} shown what the button says for it ("7", "✕")
   */
  function count(label, shown, n, wrong) {
    const selected = filters.elements.label.value === label;
    const name = label === NOT_A_DIGIT ? "Not a digit" : label;
    const button = node(
      "button",
      {
        type: "button",
        class: `digit-count${selected ? " is-selected" : ""}`,
        "aria-pressed": String(selected),
        "aria-label": `${name}: ${n} drawings, ${wrong} wrong`,
        title: label === NOT_A_DIGIT ? "Drawings labelled: not a digit" : undefined,
        dataset: { digit: label, count: String(n) },
      },
      node("b", { text: shown }),
      node("span", { text: String(n) }),
      wrong ? node("small", { text: `${wrong} wrong` }) : null,
    );
    button.addEventListener("click", () => {
      filters.elements.label.value = selected ? "" : label;
      state.page = 1;
      reload();
    });
    return node("li", {}, button);
  }

  /** Run a change to one drawing; on success say `done` and reload, else re-enable `control`. */
  async function change(control, request, done) {
    control.disabled = true;
    try {
      await request();
      say(done);
      await refresh();
    } catch (e) {
      report(e);
      control.disabled = false;
    }
  }

  function item(s) {
    const path = `/api/admin/feedback/${s.id}`;
    const select = node("select", {
      "aria-label": `Label of drawing #${s.id}`,
      dataset: { testid: "feedback-relabel" },
    });
    for (const label of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, NOT_A_DIGIT]) {
      const text = label === NOT_A_DIGIT ? "not a digit" : String(label);
      const option = node("option", { value: String(label), text });
      option.selected = label === s.label;
      select.append(option);
    }
    select.addEventListener("change", () => {
      const label = select.value === NOT_A_DIGIT ? NOT_A_DIGIT : Number(select.value);
      change(
        select,
        () => api.json(path, { method: "PATCH", json: { label } }),
        `Relabelled: that drawing is ${labelText(label)} now.`,
      );
    });
    const remove = node("button", {
      type: "button",
      class: "btn btn-small btn-quiet-danger",
      text: "Delete",
      "aria-label": `Delete drawing #${s.id}`,
      dataset: { testid: "feedback-delete" },
    });
    remove.addEventListener("click", () =>
      change(remove, () => api.json(path, { method: "DELETE" }), "The drawing was deleted."),
    );
    const predicted = s.predicted == null ? "not asked" : String(s.predicted);
    return node(
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
        text: `Read as ${predicted}`,
      }),
      remove,
    );
  }

  filters.addEventListener("change", () => {
    state.page = 1;
    reload();
  });
  prev.addEventListener("click", () => {
    state.page = Math.max(1, state.page - 1);
    reload();
  });
  next.addEventListener("click", () => {
    state.page = Math.min(state.pages, state.page + 1);
    reload();
  });
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

  return { refresh };
}
