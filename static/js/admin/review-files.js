/**
 * The review panel's two buttons that move every user drawing at once, as an .npz file.
 *
 * - Export fetches GET /api/admin/feedback/export with the token and saves the answer from a
 *   blob: a plain link could not carry the Authorization header.
 * - Import posts the chosen .npz to /api/admin/feedback/import (drawings already stored are
 *   skipped by the server), then calls onImported().
 * - What happened is told to say(text); a failure to report(error), the panel's message line.
 */

import { byRole, node } from "./dom.js";

/**
 * @param {object} options
 * @param {ParentNode} options.root the review card
 * @param {ReturnType<import("./api.js").createApi>} options.api
 * @param {(text: string) => void} options.say
 * @param {(error: Error) => void} options.report
 * @param {() => Promise<unknown>} options.onImported
 */
export function wireReviewFiles({ root, api, say, report, onImported }) {
  const importInput = byRole(root, "review-import");

  byRole(root, "review-export").addEventListener("click", async () => {
    try {
      const response = await api.request("/api/admin/feedback/export");
      const disposition = response.headers.get("Content-Disposition") || "";
      const name = /filename="([^"]+)"/.exec(disposition)?.[1] || "digits-feedback.npz";
      const url = URL.createObjectURL(await response.blob());
      const link = node("a", { href: url, download: name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      say(`Exported ${response.headers.get("X-Sample-Count") ?? "all"} drawings to ${name}.`);
    } catch (e) {
      report(e);
    }
  });

  importInput.addEventListener("change", async () => {
    const file = importInput.files?.[0];
    if (!file) return;
    try {
      const data = await api.json("/api/admin/feedback/import", {
        method: "POST",
        body: file,
        type: "application/octet-stream",
      });
      const counts = `${data.added} new, ${data.skipped} already here; ${data.total} in all`;
      say(`Imported ${file.name}: ${counts}.`);
      await onImported();
    } catch (e) {
      report(e);
    } finally {
      importInput.value = "";
    }
  });
}
