/**
 * Charts of the lecture lab as SVG, from the chart objects of /api/lab/results (their shape is
 * documented in model/lab/sections.py). Pure: renderChart() builds new elements from its
 * arguments and touches nothing else.
 *
 * Every size and position is an SVG attribute, never inline CSS (the page's
 * Content-Security-Policy allows no inline style); colours come from classes (series-0 …
 * series-6, static/css/lab.css), so the light and dark themes both apply.
 */

const SVG = "http://www.w3.org/2000/svg";
const MARGIN = { top: 12, right: 14, bottom: 42, left: 58 };
const COLOURS = 7;

/**
 * @typedef {{label: string, log: boolean, bounds?: [number, number]|null}} Axis
 * @typedef {{name: string, x: (number|null)[]|null, y: (number|null)[], sd: (number|null)[]|null,
 *            dashed: boolean}} Series
 * @typedef {{id: string, title: string, kind: "line"|"bar", x: Axis, y: Axis, series: Series[],
 *            categories: string[]}} Chart
 */

/** @returns {SVGElement} */
function el(name, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

/** A scale from the domain [lo, hi] (log10 when log) onto the range [a, b] of pixels. */
function scale(lo, hi, a, b, log) {
  const f = log ? Math.log10 : (v) => v;
  const [flo, fhi] = [f(lo), f(hi)];
  const span = fhi - flo || 1;
  return (v) => a + ((f(v) - flo) / span) * (b - a);
}

/** Round tick values: 1-2-5 steps on a linear axis, powers of ten on a log one. */
export function ticks(lo, hi, log, count = 5) {
  if (log) {
    // Powers of ten; with 2 and 5 between them over a short range; every digit over a shorter.
    for (const steps of [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
      const out = [];
      for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e += 1) {
        for (const m of steps) {
          const v = m * 10 ** e;
          if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
        }
      }
      if (out.length >= 3 || steps.length === 9) return out;
    }
  }
  // d3's rule: the 1-2-5 step nearest (on a log scale) to span ÷ count, so 0–104 % gets steps
  // of 20 (five ticks), where the next step up from 20.8 would have left two.
  const raw = (hi - lo) / count || 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const error = raw / power;
  const step =
    power *
    (error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.SQRT2 ? 2 : 1);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

/** A tick label: short, without floating-point noise. */
export function format(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 10000) return `${+(v / 1000).toPrecision(3)}k`;
  if (a < 0.001) return v.toExponential(0).replace("-", "−");
  return String(+v.toPrecision(3));
}

/** [lo, hi] over every finite value (with ± sd) of the series; a log axis keeps positive ones. */
function extent(values, log, fromZero) {
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of values) {
    if (v === null || !Number.isFinite(v) || (log && v <= 0)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo === Infinity) return log ? [1, 10] : [0, 1];
  if (fromZero && !log) lo = Math.min(lo, 0);
  if (log) return lo === hi ? [lo / 2, hi * 2] : [lo / 1.15, hi * 1.15];
  const pad = (hi - lo) * 0.04 || Math.abs(hi) * 0.1 || 1;
  return [fromZero && lo === 0 ? 0 : lo - pad, hi + pad];
}

/** A label in two lines, broken at the space nearest its middle. */
function split(label) {
  const middle = label.length / 2;
  const spaces = [...label.matchAll(/ /g)].map((m) => m.index);
  const cut = spaces.reduce((a, b) => (Math.abs(b - middle) < Math.abs(a - middle) ? b : a));
  return [label.slice(0, cut), label.slice(cut + 1)];
}

/** The plot area in pixels: [left, right, top, bottom]. */
function frame(width, height) {
  return [MARGIN.left, width - MARGIN.right, MARGIN.top, height - MARGIN.bottom];
}

function axes(svg, chart, x, y, xTicks, yTicks, width, height) {
  const [left, right, top, bottom] = frame(width, height);
  const grid = el("g", { class: "lab-grid" });
  for (const v of yTicks) {
    grid.append(el("line", { x1: left, x2: right, y1: y(v), y2: y(v) }));
    const label = { x: left - 6, y: y(v), "dominant-baseline": "middle", "text-anchor": "end" };
    svg.append(el("text", { ...label, class: "lab-tick" }, format(v)));
  }
  const room = chart.kind === "bar" ? (right - left) / xTicks.length : Infinity;
  // About 6 px a character at 11 px: a category wider than its slot breaks at a space.
  const labels = xTicks.map((v, i) => {
    const label = chart.kind === "bar" ? chart.categories[i] : format(v);
    return label.length * 6 > room && label.includes(" ") ? split(label) : [label];
  });
  // Still too wide (ten "seed n" on a phone): every second, third… category is labelled.
  const widest = Math.max(...labels.flat().map((line) => line.length * 6 + 4));
  const every = Number.isFinite(room) ? Math.max(1, Math.ceil(widest / room)) : 1;
  for (const [i, v] of xTicks.entries()) {
    if (i % every) continue;
    const lines = labels[i];
    const at = { x: x(v), y: bottom + 16 };
    const text = el("text", { ...at, class: "lab-tick", "text-anchor": "middle" });
    for (const [k, line] of lines.entries()) {
      text.append(el("tspan", { x: x(v), dy: k ? 13 : 0 }, line));
    }
    svg.append(text);
  }
  svg.prepend(grid);
  svg.append(el("line", { x1: left, x2: left, y1: top, y2: bottom, class: "lab-axis" }));
  svg.append(el("line", { x1: left, x2: right, y1: bottom, y2: bottom, class: "lab-axis" }));
  const centred = { class: "lab-label", "text-anchor": "middle" };
  if (chart.x.label) {
    svg.append(el("text", { ...centred, x: (left + right) / 2, y: height - 6 }, chart.x.label));
  }
  const middle = (top + bottom) / 2;
  const turned = { ...centred, x: 14, y: middle, transform: `rotate(-90 14 ${middle})` };
  svg.append(el("text", turned, chart.y.label));
}

/**
 * v kept within the axis's bounds: a mean ± sd of accuracies can pass 100 %, the quantity cannot.
 * @param {number} v
 * @param {Axis} axis
 */
function within(v, axis) {
  const [lo, hi] = axis.bounds ?? [-Infinity, Infinity];
  return Math.min(Math.max(v, lo), hi);
}

/** Each value of a series with its ± sd, within the bounds: [v − sd, v + sd, v], nulls left out. */
function spread(s, axis) {
  return s.y.flatMap((v, i) => {
    const sd = s.sd?.[i] ?? 0;
    return v === null ? [] : [within(v - sd, axis), within(v + sd, axis), v];
  });
}

function lineChart(svg, chart, width, height) {
  const [left, right, top, bottom] = frame(width, height);
  const logX = chart.x.log;
  const logY = chart.y.log;
  const [x0, x1] = extent(
    chart.series.flatMap((s) => s.x ?? []),
    logX,
    false,
  );
  // A log axis spans the means (a band may reach down to 0); a linear one the bands too.
  const [y0, y1] = extent(
    chart.series.flatMap((s) => (logY ? s.y : spread(s, chart.y))),
    logY,
    false,
  );
  const x = scale(x0, x1, left, right, logX);
  const y = scale(y0, y1, bottom, top, logY);
  axes(svg, chart, x, y, ticks(x0, x1, logX), ticks(y0, y1, logY), width, height);
  // Bands and lines stay inside the plot area.
  const clip = `clip-${chart.id}`;
  const area = el("clipPath", { id: clip });
  const inside = { x: left, y: top - 4, width: right - left + 4, height: bottom - top + 4 };
  area.append(el("rect", inside));
  const plot = el("g", { "clip-path": `url(#${clip})` });
  svg.append(area, plot);
  chart.series.forEach((s, k) => {
    const colour = `series-${k % COLOURS}`;
    const points = (s.x ?? [])
      .map((xv, i) => [xv, s.y[i], s.sd?.[i] ?? 0])
      .filter(([xv, yv]) => xv !== null && yv !== null && (!logX || xv > 0) && (!logY || yv > 0));
    if (points.length === 0) return;
    if (s.sd && points.some(([, , sd]) => sd > 0)) {
      const floor = (yv, sd) => within(logY ? Math.max(yv - sd, yv * 0.05) : yv - sd, chart.y);
      const upper = points.map(([xv, yv, sd]) => `${x(xv)},${y(within(yv + sd, chart.y))}`);
      const lower = points.map(([xv, yv, sd]) => `${x(xv)},${y(floor(yv, sd))}`).reverse();
      const d = `M${upper.join("L")}L${lower.join("L")}Z`;
      plot.append(el("path", { d, class: `lab-band ${colour}` }));
    }
    const d = `M${points.map(([xv, yv]) => `${x(xv).toFixed(1)},${y(yv).toFixed(1)}`).join("L")}`;
    plot.append(el("path", { d, class: `lab-line ${colour}${s.dashed ? " is-dashed" : ""}` }));
    for (const [xv, yv, sd] of points) {
      const dot = el("circle", { cx: x(xv), cy: y(yv), r: 2.6, class: `lab-dot ${colour}` });
      const value = `${format(yv)}${sd ? ` ± ${format(sd)}` : ""}`;
      dot.append(el("title", {}, `${s.name}: ${value} at ${format(xv)}`));
      plot.append(dot);
    }
  });
}

function barChart(svg, chart, width, height) {
  const [left, right, top, bottom] = frame(width, height);
  const values = chart.series.flatMap((s) => spread(s, chart.y));
  const [y0, y1] = extent(values, chart.y.log, true);
  const low = chart.y.log ? y0 / 1.5 : y0;
  const slot = (right - left) / chart.categories.length;
  const x = (i) => left + (i + 0.5) * slot;
  const y = scale(low, y1, bottom, top, chart.y.log);
  const slots = chart.categories.map((_, i) => i);
  axes(svg, chart, x, y, slots, ticks(low, y1, chart.y.log), width, height);
  const bar = (slot * 0.8) / chart.series.length;
  chart.series.forEach((s, k) => {
    const colour = `series-${k % COLOURS}`;
    s.y.forEach((v, i) => {
      if (v === null || (chart.y.log && v <= 0)) return;
      const start = x(i) - slot * 0.4 + k * bar;
      const size = { width: bar * 0.9, height: Math.max(y(low) - y(v), 0) };
      const at = { x: start + bar * 0.05, y: y(v) };
      const rect = el("rect", { ...at, ...size, class: `lab-bar ${colour}` });
      const sd = s.sd?.[i] ?? 0;
      const value = `${format(v)}${sd ? ` ± ${format(sd)}` : ""}`;
      rect.append(el("title", {}, `${s.name}, ${chart.categories[i]}: ${value}`));
      svg.append(rect);
      if (sd > 0) {
        const [cx, high] = [start + bar / 2, y(within(v + sd, chart.y))];
        const foot = y(within(chart.y.log ? Math.max(v - sd, low) : v - sd, chart.y));
        const d = `M${cx},${foot}V${high}M${cx - 3},${high}H${cx + 3}M${cx - 3},${foot}H${cx + 3}`;
        svg.append(el("path", { d, class: "lab-whisker" }));
      }
    });
  });
}

/**
 * The chart as an <svg> of the given size in CSS pixels (text stays readable at any width).
 * @param {Chart} chart
 * @param {number} width
 * @param {number} height
 * @returns {SVGSVGElement}
 */
export function renderChart(chart, width, height) {
  const size = { viewBox: `0 0 ${width} ${height}`, width, height };
  const label = describeChart(chart);
  const svg = el("svg", { ...size, role: "img", "aria-label": label, class: "lab-svg" });
  (chart.kind === "bar" ? barChart : lineChart)(svg, chart, width, height);
  return /** @type {SVGSVGElement} */ (svg);
}

/**
 * The chart in words, for a screen reader: its title, then each series where it starts and
 * ends (a line: "1 hidden: 10.3 at 1 update … 96.5 at 55k") or its values (bars, by
 * category). An image's name alone said nothing of what it shows.
 * @param {Chart} chart
 * @returns {string}
 */
export function describeChart(chart) {
  const said = chart.series.map((s) => {
    if (chart.kind === "bar") {
      const values = s.y.map((v, i) => (v === null ? null : `${chart.categories[i]} ${format(v)}`));
      return `${s.name}: ${values.filter(Boolean).join(", ")}`;
    }
    const points = s.y
      .map((y, i) => [s.x ? s.x[i] : i + 1, y])
      .filter(([x, y]) => x !== null && y !== null);
    if (points.length === 0) return `${s.name}: no values`;
    const [[x0, y0], [x1, y1]] = [points[0], points.at(-1)];
    return `${s.name}: ${format(y0)} at ${format(x0)} to ${format(y1)} at ${format(x1)}`;
  });
  const axes = chart.x.label ? `${chart.y.label} against ${chart.x.label}` : chart.y.label;
  return `${chart.title}. ${axes}. ${said.join("; ")}.`;
}

/**
 * The legend: one item per series, its colour (and dash) in a small SVG swatch.
 * @param {Chart} chart
 * @returns {HTMLUListElement}
 */
export function renderLegend(chart) {
  const list = document.createElement("ul");
  list.className = "lab-legend";
  chart.series.forEach((s, k) => {
    const item = document.createElement("li");
    const box = { width: 22, height: 10, viewBox: "0 0 22 10" };
    const swatch = el("svg", { ...box, "aria-hidden": "true" });
    const colour = `series-${k % COLOURS}`;
    const dash = s.dashed ? " is-dashed" : "";
    swatch.append(
      chart.kind === "bar"
        ? el("rect", { x: 5, y: 0, width: 12, height: 10, class: `lab-bar ${colour}` })
        : el("path", { d: "M1,5H21", class: `lab-line ${colour}${dash}` }),
    );
    item.append(swatch, document.createTextNode(s.name));
    list.append(item);
  });
  return list;
}
