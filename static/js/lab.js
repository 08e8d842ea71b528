/**
 * The /lab page. The server renders the report's text and tables; this draws its charts.
 *
 * Contract: mountCharts(root, options) fetches GET /api/lab/results once and draws each chart
 * into the element of `root` that names it (<figure data-chart="id">, with a
 * [data-role=plot] inside), as SVG at that element's own width, again whenever the width
 * changes, plus a legend. It resolves to the number of charts drawn and keeps no state outside
 * the figures it draws into.
 *
 * scrollOnlyWhereNeeded(root) makes each table's wrapper a tab stop (so the keyboard can scroll
 * it) only while its table is wider than it; a table that fits is not one more stop.
 */

import { renderChart, renderLegend } from "./lab-charts.js";

const HEIGHT = { min: 220, max: 340, ratio: 0.56 }; // of the plot, against its width

/**
 * @param {ParentNode} root
 * @param {object} [options]
 * @param {typeof fetch} [options.fetch]
 * @param {string} [options.url]
 * @returns {Promise<number>} how many charts were drawn
 */
export async function mountCharts(root, options = {}) {
  const { fetch: get = window.fetch.bind(window), url = "/api/lab/results" } = options;
  const response = await get(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const results = await response.json();
  const charts = new Map(results.experiments.flatMap((s) => s.charts).map((c) => [c.id, c]));
  let drawn = 0;
  for (const figure of root.querySelectorAll("[data-chart]")) {
    const chart = charts.get(/** @type {HTMLElement} */ (figure).dataset.chart);
    const plot = /** @type {HTMLElement} */ (figure.querySelector("[data-role=plot]"));
    if (!chart || !plot) continue;
    let width = 0;
    const draw = () => {
      const now = Math.floor(plot.clientWidth);
      if (now === 0 || now === width) return;
      width = now;
      const height = Math.round(Math.min(HEIGHT.max, Math.max(HEIGHT.min, now * HEIGHT.ratio)));
      plot.replaceChildren(renderChart(chart, now, height));
    };
    draw();
    new ResizeObserver(draw).observe(plot);
    if (chart.series.length > 1) plot.after(renderLegend(chart));
    /** @type {HTMLElement} */ (figure).dataset.state = "drawn";
    drawn += 1;
  }
  return drawn;
}

/** @param {ParentNode} root */
export function scrollOnlyWhereNeeded(root) {
  for (const wrap of root.querySelectorAll(".lab-table-wrap")) {
    const check = () => {
      if (wrap.scrollWidth > wrap.clientWidth) wrap.setAttribute("tabindex", "0");
      else wrap.removeAttribute("tabindex");
    };
    check();
    const watch = new ResizeObserver(check); // the box, and the table in it (a late web font)
    watch.observe(wrap);
    if (wrap.firstElementChild) watch.observe(wrap.firstElementChild);
  }
}

const page = document.querySelector("[data-testid=lab]");
if (page) {
  scrollOnlyWhereNeeded(page);
  const status = page.querySelector("[data-role=lab-status]");
  mountCharts(page).catch((error) => {
    if (status) {
      status.textContent = `The charts could not be drawn (${error.message}); the tables hold the same figures.`;
      status.hidden = false;
    }
  });
}
