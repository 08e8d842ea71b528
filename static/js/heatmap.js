/**
 * Painting numbers on small canvases, for the "Inside the network" panel.
 *
 * - Signed values (weights, evidence) use a diverging scale: one colour for positive, another for
 *   negative, opacity for the size, scaled so the largest |value| is fully opaque. Zero is
 *   transparent, so the tile behind the canvas (CSS) shows through in either theme.
 * - Activations use one colour, opacity for the size.
 * - The colours are CSS custom properties (--heat-positive, --heat-negative, --heat-cell), read
 *   once per paint, so the dark theme changes them in the stylesheet alone.
 */

/**
 * @typedef {object} Colours
 * @property {number[]} positive [r, g, b]
 * @property {number[]} negative [r, g, b]
 * @property {number[]} cell [r, g, b]
 * @property {number[]} mark [r, g, b] the outline of the selected cell
 */

/**
 * @param {Element} element any element inside the panel (its computed style holds the colours)
 * @returns {Colours}
 */
export function coloursOf(element) {
  const style = getComputedStyle(element);
  const read = (name) =>
    (style.getPropertyValue(name).match(/\d+/g) ?? ["0", "0", "0"]).slice(0, 3).map(Number);
  return {
    positive: read("--heat-positive"),
    negative: read("--heat-negative"),
    cell: read("--heat-cell"),
    mark: read("--heat-mark"),
  };
}

/**
 * Paint `values` (row by row, width × height of them) at one canvas pixel each; CSS scales the
 * canvas up without smoothing.
 * @param {HTMLCanvasElement} canvas
 * @param {ArrayLike<number>} values
 * @param {number} width
 * @param {number} height
 * @param {Colours} colours
 * @returns {number} the largest |value|, which is drawn fully opaque (0 for an all-zero map)
 */
export function paintSigned(canvas, values, width, height, colours) {
  canvas.width = width;
  canvas.height = height;
  let peak = 0;
  for (let i = 0; i < values.length; i++) peak = Math.max(peak, Math.abs(values[i]));
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = Number(values[i]) || 0;
    const [r, g, b] = v >= 0 ? colours.positive : colours.negative;
    image.data.set([r, g, b, peak > 0 ? Math.round((Math.abs(v) / peak) * 255) : 0], i * 4);
  }
  ctx.putImageData(image, 0, 0);
  return peak;
}

/**
 * The network's 28×28 input: ink as white with alpha = intensity, so blank pixels stay
 * transparent and the dark tile behind the canvas (CSS) shows through, as in MNIST.
 * @param {HTMLCanvasElement} canvas a 28×28 canvas
 * @param {number[][]} rows 28 rows of 28 values in [0, 1], 1 = ink
 */
export function paintInk(canvas, rows) {
  const size = rows.length;
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = Number(rows[y]?.[x]) || 0;
      image.data.set(
        [255, 255, 255, Math.round(Math.min(Math.max(v, 0), 1) * 255)],
        (y * size + x) * 4,
      );
    }
  }
  ctx.putImageData(image, 0, 0);
}

/**
 * A layer as a square grid of cells, one per unit, more opaque for a larger activation.
 * @param {HTMLCanvasElement} canvas
 * @param {ArrayLike<number>} values the units' activations (≥ 0 for ReLU and sigmoid)
 * @param {{columns: number, cell: number, colours: Colours, selected?: number, scale?: number}} o
 *   scale: the value drawn fully opaque (default: the largest |value|)
 */
export function paintCells(canvas, values, { columns, cell, colours, selected = -1, scale }) {
  const rows = Math.ceil(values.length / columns);
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(columns * cell * ratio);
  canvas.height = Math.round(rows * cell * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  let peak = scale ?? 0;
  if (scale === undefined) {
    for (let i = 0; i < values.length; i++) peak = Math.max(peak, Math.abs(values[i]));
  }
  const [r, g, b] = colours.cell;
  const gap = cell >= 6 ? 1 : 0;
  for (let i = 0; i < values.length; i++) {
    const strength = peak > 0 ? Math.min(Math.abs(values[i]) / peak, 1) : 0;
    // A faint floor keeps silent units visible as cells.
    ctx.fillStyle = `rgb(${r} ${g} ${b} / ${0.08 + 0.92 * strength})`;
    ctx.fillRect((i % columns) * cell, Math.floor(i / columns) * cell, cell - gap, cell - gap);
  }
  if (selected >= 0 && selected < values.length) {
    const [mr, mg, mb] = colours.mark;
    ctx.strokeStyle = `rgb(${mr} ${mg} ${mb})`;
    ctx.lineWidth = 2;
    const x = (selected % columns) * cell;
    const y = Math.floor(selected / columns) * cell;
    // Around the cell, but inside the canvas: on its edges a 2 px line would be half cut off.
    const [left, top] = [Math.max(x - 1, 1), Math.max(y - 1, 1)];
    const right = Math.min(x + cell, columns * cell - 1);
    const bottom = Math.min(y + cell, rows * cell - 1);
    ctx.strokeRect(left, top, right - left, bottom - top);
  }
}

/**
 * The columns of the square-ish grid that holds `count` cells.
 * @param {number} count
 * @returns {number}
 */
export function gridColumns(count) {
  return Math.max(1, Math.ceil(Math.sqrt(count)));
}
