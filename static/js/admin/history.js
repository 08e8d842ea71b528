/**
 * The job history table: the last 15 jobs, newest first, each with its config, status and
 * outcome (the new model's test accuracy and version, or why it was not promoted).
 * refresh() reloads it and resolves with the server's answer ({jobs, running}), so that the
 * caller can follow a job that is running.
 */

import { byRole, node } from "./dom.js";
import { configText, pct, when } from "./format.js";

/**
 * @param {object} options
 * @param {ParentNode} options.root the page
 * @param {ReturnType<import("./api.js").createApi>} options.api
 */
export function createHistory({ root, api }) {
  const body = byRole(root, "jobs-body");

  async function refresh() {
    const data = await api.json("/api/admin/jobs?limit=15");
    body.replaceChildren(
      ...(data.jobs.length
        ? data.jobs.map(row)
        : [node("tr", {}, node("td", { colspan: "5", class: "empty", text: "No jobs yet." }))]),
    );
    return data;
  }

  return { refresh };
}

function row(j) {
  return node(
    "tr",
    { dataset: { job: j.id } },
    node("td", {}, node("code", { text: j.id })),
    node("td", { text: when(j.started || j.created) }),
    node("td", { text: configText(j.config) }),
    node(
      "td",
      {},
      node("span", {
        class: "status-pill status-small",
        dataset: { status: j.status },
        text: j.status,
      }),
    ),
    node("td", { class: "outcome", text: outcome(j) }),
  );
}

function outcome(j) {
  const r = j.result;
  const against =
    r?.active_feedback_accuracy != null ? ` vs ${pct(r.active_feedback_accuracy)}` : "";
  const drawings = r?.feedback_size ? `; drawings ${pct(r.feedback_accuracy)}${against}` : "";
  if (j.status === "succeeded" && r) {
    const forced = r.forced && !r.gate_passed ? " (forced)" : "";
    return `${pct(r.mnist_test_accuracy)} → ${r.version}${forced}${drawings}`;
  }
  if (j.status === "rejected" && r) {
    return `${pct(r.mnist_test_accuracy)} vs ${pct(r.active_accuracy)}: below the gate${drawings}`;
  }
  if (j.status === "queued") return "starting";
  if (j.status === "running") {
    return j.progress ? `epoch ${j.progress.epoch} of ${j.progress.epochs}` : "loading data";
  }
  return j.reason || "";
}
