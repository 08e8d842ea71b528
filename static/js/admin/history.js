/**
 * The job history table: the last 15 jobs, newest first, each with its config, status and
 * outcome (the new model's test accuracy and version, or why it was not promoted).
 * refresh() reloads it and resolves with the server's answer ({jobs, running}), so that the
 * caller can follow a job that is running.
 */

import { byRole, node } from "./dom.js";
import { configText, forcedBelowGate, pct, when } from "./format.js";

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
  const forced = j.status === "succeeded" && forcedBelowGate(j.result);
  return node(
    "tr",
    { dataset: { job: j.id } },
    node("td", { "data-label": "Job" }, node("code", { text: j.id })),
    node("td", { "data-label": "Started", text: when(j.started || j.created) }),
    node("td", { "data-label": "Config", text: configText(j.config, j.request) }),
    node(
      "td",
      { "data-label": "Status" },
      node("span", {
        class: "status-pill status-small",
        dataset: { status: forced ? "forced" : j.status },
        text: forced ? "forced" : j.status,
        title: forced ? "Promoted by Force although it failed the quality gate" : undefined,
      }),
    ),
    node("td", { class: "outcome", "data-label": "Outcome", text: outcome(j) }),
  );
}

function outcome(j) {
  const r = j.result;
  const against =
    r?.active_feedback_accuracy != null ? ` vs ${pct(r.active_feedback_accuracy)}` : "";
  const drawings = r?.feedback_size ? `; drawings ${pct(r.feedback_accuracy)}${against}` : "";
  if (j.status === "succeeded" && r && forcedBelowGate(r)) {
    return `forced below the gate: ${pct(r.mnist_test_accuracy)} vs ${pct(r.active_accuracy)} → ${r.version}${drawings}`;
  }
  if (j.status === "succeeded" && r) {
    return `${pct(r.mnist_test_accuracy)} → ${r.version}${drawings}`;
  }
  if (j.status === "rejected" && r) {
    return `${pct(r.mnist_test_accuracy)} vs ${pct(r.active_accuracy)}: below the gate${drawings}`;
  }
  if (j.status === "queued") return "starting";
  if (j.status === "running") {
    return j.progress ? `epoch ${j.progress.epoch} of ${j.progress.epochs}` : j.phase || "starting";
  }
  return j.reason || "";
}
