/**
 * The model versions table: every version with its network, test accuracy, accuracy on the
 * held-back user drawings and parent; Activate and Delete (after a confirmation) for all but
 * the active one.
 *
 * - refresh() reloads the table, writes the version this worker serves into the header's badge
 *   and tells onServing(version); active() is the active version's summary from that answer.
 * - The card's hint says how many versions there are, and what this page's last Activate or
 *   Delete did, and when ("2 versions · default-1a2b3c4d activated at 12:03:41").
 * - After an activation the worker swaps to the new model within about a second; until the
 *   served version is the active one, refresh() looks again once a second, at most ten times.
 * - The rows are rebuilt after an action, and its button with them: the keyboard focus goes to
 *   the card's heading, and the hint (a status region) says what was done.
 */

import { byRole, node } from "./dom.js";
import { network, pct, when } from "./format.js";

/**
 * @param {object} options
 * @param {ParentNode} options.root the page (the models card and the header's badge)
 * @param {ReturnType<import("./api.js").createApi>} options.api
 * @param {(version: string) => void} options.onServing
 */
export function createModels({ root, api, onServing }) {
  const body = byRole(root, "models-body");
  const hint = byRole(root, "models-hint");
  const badge = root.querySelector("[data-testid=model-version]");
  const heading = root.querySelector("#models-title");
  heading.tabIndex = -1; // focusable from the script, not a tab stop
  let retries = 0;
  let active = null; // the active version's summary, from the last answer
  let done = ""; // what this page's last Activate or Delete did, and when: kept by refresh()

  async function refresh() {
    const data = await api.json("/api/admin/models");
    active = data.models.find((m) => m.active) ?? null;
    const n = data.models.length;
    hint.textContent = [`${n} version${n === 1 ? "" : "s"}`, done].filter(Boolean).join(" · ");
    body.replaceChildren(...data.models.map(row));
    if (data.serving) {
      if (badge) badge.textContent = data.serving;
      onServing(data.serving);
    }
    if (data.active !== data.serving && retries < 10) {
      retries += 1;
      setTimeout(() => refresh().catch(() => {}), 1000);
    } else if (data.active === data.serving) {
      retries = 0;
    }
    return data;
  }

  function row(m) {
    const activate = button("Activate", "activate", "btn btn-small");
    const remove = button("Delete", "delete", "btn btn-small btn-quiet-danger");
    activate.setAttribute("aria-label", `Activate ${m.version}`);
    remove.setAttribute("aria-label", `Delete ${m.version}`);
    activate.addEventListener("click", () => act("activate", m.version, activate));
    remove.addEventListener("click", () => act("delete", m.version, remove));
    const trained = m.feedback?.trained_on
      ? `; trained on ${m.feedback.train_samples} drawings ×${m.feedback.weight}`
      : "; not trained on drawings";
    const held = m.metrics?.feedback_size;
    return node(
      "tr",
      { class: m.active ? "is-active" : "", dataset: { version: m.version } },
      node(
        "td",
        { "data-label": "Version" },
        node("code", { text: m.version }),
        m.error ? node("span", { class: "tag tag-bad", text: "damaged" }) : null,
        m.gate?.forced && !m.gate?.passed
          ? node("span", {
              class: "tag tag-forced",
              text: "forced",
              title: "Promoted by Force although it failed the quality gate",
            })
          : null,
      ),
      node("td", { "data-label": "Created", text: when(m.created) }),
      node("td", { "data-label": "Network", text: network(m.sizes, m.activation) }),
      node("td", {
        class: "num",
        "data-label": "Test accuracy",
        text: pct(m.metrics?.mnist_test_accuracy),
      }),
      node(
        "td",
        {
          class: "num",
          "data-label": "Held-back drawings",
          dataset: { testid: "held-back" },
          title: held
            ? `${held} held-back drawings${trained}`
            : "no held-back drawings when it was trained",
        },
        held ? `${pct(m.metrics.feedback_accuracy)} ` : "–",
        held ? node("small", { class: "muted", text: `of ${held}` }) : null,
        m.feedback?.trained_on ? node("span", { class: "tag tag-fb", text: "+drawings" }) : null,
      ),
      node(
        "td",
        { "data-label": "Parent" },
        m.parent ? node("code", { class: "muted", text: m.parent }) : "–",
      ),
      node(
        "td",
        { class: "cell-actions" },
        m.active
          ? node("span", { class: "tag tag-active", text: "Active" })
          : node("span", { class: "actions" }, activate, remove),
      ),
    );
  }

  async function act(action, version, control) {
    if (action === "delete" && !confirm(`Delete model ${version}? This cannot be undone.`)) return;
    const focused = document.activeElement === control; // disabling it drops the focus
    control.disabled = true;
    const path = `/api/admin/models/${encodeURIComponent(version)}`;
    try {
      if (action === "activate") await api.json(`${path}/activate`, { method: "POST" });
      else await api.json(path, { method: "DELETE" });
      const what = action === "activate" ? "activated" : "deleted";
      done = `${version} ${what} at ${when(new Date().toISOString())}`;
    } catch (e) {
      if (!e.signedOut) alert(e.message);
    } finally {
      control.disabled = false;
      await refresh().catch(() => {});
      if (focused && !control.isConnected) heading.focus({ preventScroll: true });
    }
  }

  return { refresh, active: () => active };
}

function button(text, action, className) {
  return node("button", { type: "button", class: className, "data-action": action, text });
}
