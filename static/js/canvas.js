/**
 * The drawing pad: pointer input → strokes → pixels.
 *
 * Strokes are kept as arrays of [x, y] points in canvas-relative units (0..1 on both axes, y down).
 * That makes them independent of the canvas's CSS size and of devicePixelRatio, so the pad can be
 * resized without losing the drawing, Undo can simply redraw the remaining strokes, and the same
 * strokes can be rendered off-screen at a fixed size for the server.
 */

/**
 * Brush width as a fraction of the canvas side (21 px on a 280 px canvas).
 * CONTRACT: the benchmarks render pen trajectories with this same rule; change both or neither.
 */
export const BRUSH_FRACTION = 0.075;

/** Side of the off-screen image sent to the server, whatever the screen's pixel density. */
export const EXPORT_SIZE = 280;

/** Points closer than this (in 0..1 units) to the previous one add nothing but array length. */
const MIN_POINT_DISTANCE = 0.002;

/**
 * Draw strokes with the round brush onto a context whose square drawing area is side × side.
 *
 * Each stroke is smoothed with quadratic curves through the midpoints of consecutive points: the
 * sampled points act as control points, which removes the corners of a raw polyline without
 * making the line lag behind the pointer.
 *
 * @param {CanvasRenderingContext2D} ctx target context, already cleared
 * @param {Array<Array<[number, number]>>} strokes points in 0..1 canvas units
 * @param {number} side the canvas side in ctx units (backing-store pixels)
 * @param {string} color any CSS colour
 */
export function renderStrokes(ctx, strokes, side, color) {
  ctx.save();
  ctx.lineWidth = BRUSH_FRACTION * side;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  for (const points of strokes) {
    traceStroke(ctx, points, side);
  }
  ctx.restore();
}

/**
 * Stroke one point list; a single point (a tap) becomes a round dot of the brush's width.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Array<[number, number]>} points
 * @param {number} side
 */
function traceStroke(ctx, points, side) {
  if (points.length === 0) return;
  const [x0, y0] = points[0];
  if (points.length === 1) {
    // A zero-length path draws nothing in some engines, so a tap is filled as a circle.
    ctx.beginPath();
    ctx.arc(x0 * side, y0 * side, ctx.lineWidth / 2, 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(x0 * side, y0 * side);
  for (let i = 1; i < points.length - 1; i++) {
    const [cx, cy] = points[i];
    const [nx, ny] = points[i + 1];
    ctx.quadraticCurveTo(cx * side, cy * side, ((cx + nx) / 2) * side, ((cy + ny) / 2) * side);
  }
  const [xn, yn] = points[points.length - 1];
  ctx.lineTo(xn * side, yn * side);
  ctx.stroke();
}

/**
 * A square canvas that records strokes from mouse, touch and pen through Pointer Events.
 *
 * Events (all plain `Event`s; read the pad's state in the listener):
 * - `strokestart`, `strokemove`, `strokeend`: a stroke began, grew, or finished (up or cancel);
 * - `change`: strokes were removed (clear or undo).
 */
export class DrawingPad extends EventTarget {
  /** @type {HTMLCanvasElement} */
  #canvas;
  /** @type {CanvasRenderingContext2D} */
  #ctx;
  /** @type {Array<Array<[number, number]>>} */
  #strokes = [];
  /** The pointer currently drawing, or null; other pointers (a second finger) are ignored. */
  #activePointer = null;
  #frameRequested = false;
  #ink = "#000";

  /** @param {HTMLCanvasElement} canvas a canvas styled square (CSS aspect-ratio: 1) */
  constructor(canvas) {
    super();
    this.#canvas = canvas;
    this.#ctx = canvas.getContext("2d");

    canvas.addEventListener("pointerdown", (e) => this.#onDown(e));
    canvas.addEventListener("pointermove", (e) => this.#onMove(e));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      canvas.addEventListener(type, (e) => this.#onEnd(e));
    }
    // Long-press menus and drag images would interrupt a stroke on touch screens.
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
    canvas.addEventListener("dragstart", (e) => e.preventDefault());

    new ResizeObserver(() => this.#resize()).observe(canvas);
    this.#watchPixelRatio();
    // The on-screen ink follows the theme (it is only the exported image that must be black).
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.#resize());
    this.#resize();
  }

  /** @returns {number} how many strokes are on the pad */
  get strokeCount() {
    return this.#strokes.length;
  }

  /** @returns {boolean} whether a pointer is drawing right now */
  get isDrawing() {
    return this.#activePointer !== null;
  }

  /** Remove every stroke (also abandons a stroke in progress). */
  clear() {
    this.#releaseActive();
    this.#strokes = [];
    this.#afterRemoval();
  }

  /** Remove the most recent stroke, including one still being drawn. */
  undo() {
    if (this.#strokes.length === 0) return;
    this.#releaseActive();
    this.#strokes.pop();
    this.#afterRemoval();
  }

  /**
   * Render the strokes black on a transparent square of `size` px and encode it as PNG.
   * A fixed size keeps requests small on high-DPI screens; the server composites the alpha.
   * @param {number} [size]
   * @returns {string} a data:image/png;base64 URL
   */
  toDataURL(size = EXPORT_SIZE) {
    const off = document.createElement("canvas");
    off.width = off.height = size;
    renderStrokes(off.getContext("2d"), this.#strokes, size, "#000");
    return off.toDataURL("image/png");
  }

  /** @param {PointerEvent} e */
  #onDown(e) {
    if (this.#activePointer !== null || !e.isPrimary) return;
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault(); // no text selection, no focus change, no emulated mouse events
    this.#activePointer = e.pointerId;
    try {
      // Keep receiving moves when the pointer leaves the canvas mid-stroke.
      this.#canvas.setPointerCapture(e.pointerId);
    } catch {
      // The pointer may already be gone (a very short tap); the stroke still works without it.
    }
    this.#strokes.push([this.#toUnits(e)]);
    this.#requestFrame();
    this.dispatchEvent(new Event("strokestart"));
  }

  /** @param {PointerEvent} e */
  #onMove(e) {
    if (e.pointerId !== this.#activePointer) return;
    const stroke = this.#strokes[this.#strokes.length - 1];
    // Coalesced events carry the samples the browser merged into this frame: smoother curves.
    const samples = e.getCoalescedEvents?.() ?? [];
    for (const sample of samples.length > 0 ? samples : [e]) {
      const point = this.#toUnits(sample);
      const [px, py] = stroke[stroke.length - 1];
      if (Math.hypot(point[0] - px, point[1] - py) >= MIN_POINT_DISTANCE) stroke.push(point);
    }
    this.#requestFrame();
    this.dispatchEvent(new Event("strokemove"));
  }

  /** @param {PointerEvent} e pointerup, pointercancel or lostpointercapture */
  #onEnd(e) {
    if (e.pointerId !== this.#activePointer) return;
    // A cancelled stroke (the system took the pointer) keeps what was drawn so far.
    this.#releaseActive();
    this.#requestFrame();
    this.dispatchEvent(new Event("strokeend"));
  }

  /**
   * Pointer position → canvas units. getBoundingClientRect gives the canvas's current CSS box,
   * so the mapping stays right however CSS has scaled the canvas.
   * @param {PointerEvent} e
   * @returns {[number, number]}
   */
  #toUnits(e) {
    const r = this.#canvas.getBoundingClientRect();
    return [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
  }

  /** Forget the active pointer (its capture is released too). */
  #releaseActive() {
    const id = this.#activePointer;
    this.#activePointer = null;
    if (id !== null && this.#canvas.hasPointerCapture(id)) {
      this.#canvas.releasePointerCapture(id);
    }
  }

  /** Repaint and tell listeners that strokes were removed. */
  #afterRemoval() {
    this.#requestFrame();
    this.dispatchEvent(new Event("change"));
  }

  /** Size the backing store to CSS size × devicePixelRatio so lines are sharp, then redraw. */
  #resize() {
    const rect = this.#canvas.getBoundingClientRect();
    const side = Math.max(1, Math.round(rect.width * (window.devicePixelRatio || 1)));
    if (this.#canvas.width !== side || this.#canvas.height !== side) {
      this.#canvas.width = this.#canvas.height = side; // also clears the canvas
    }
    this.#ink = getComputedStyle(this.#canvas).color || "#000";
    this.#draw();
  }

  /** Browser zoom or moving the window to another screen changes the ratio but not the CSS size. */
  #watchPixelRatio() {
    const query = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    query.addEventListener(
      "change",
      () => {
        this.#resize();
        this.#watchPixelRatio();
      },
      { once: true },
    );
  }

  /** Coalesce redraws to one per animation frame, however many pointer events arrive. */
  #requestFrame() {
    if (this.#frameRequested) return;
    this.#frameRequested = true;
    requestAnimationFrame(() => {
      this.#frameRequested = false;
      this.#draw();
    });
  }

  /** Paint every stroke onto the visible canvas at its backing-store resolution. */
  #draw() {
    const { width } = this.#canvas;
    this.#ctx.clearRect(0, 0, width, width);
    renderStrokes(this.#ctx, this.#strokes, width, this.#ink);
  }
}
