/**
 * The review panel's two buttons that move every user drawing at once, as an .npz file.
 *
 * - Export fetches GET /api/admin/feedback/export with the token and saves the answer from a
 *   blob: a plain link could not carry the Authorization header.
 * - Import posts the chosen .npz to /api/admin/feedback/import (drawings already stored are
 *   skipped by the server), then calls onImported().
 * - What happened is told to say(text, tone); a failure to report(error, prefix), the panel's
 *   message line. A file that is not an export is said in plain words, the server's reason after.
 */

import { byRole, node } from "./dom.js";

/**
 * @param {object} options
 * @param {ParentNode} options.root the review card
 * @param {ReturnType<import("./api.js").createApi>} options.api
 * @param {(text: string, tone?: string) => void} options.say
 * @param {(error: Error, prefix?: string) => void} options.report
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
    importInput.value = ""; // the same file may be chosen again
    let data;
    try {
      data = await api.json("/api/admin/feedback/import", {
        method: "POST",
        body: file,
        type: "application/octet-stream",
      });
    } catch (e) {
      if (e.code !== "invalid_import") return report(e, `${file.name} was not imported`);
      // In the admin's words; the server's own reason stays, for whoever made the file.
      const why = e.details?.reason ? ` (${e.details.reason})` : "";
      const text = `${file.name} was not imported: it is not a file that Export .npz made${why}.`;
      return say(`${text} Nothing was added.`, "error");
    }
    const counts = `${data.added} new, ${data.skipped} already here; ${data.total} in all`;
    say(`Imported ${file.name}: ${counts}.`);
    await onImported().catch((e) => report(e)); // imported all the same
  });
}
