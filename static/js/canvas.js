/**
 * The drawing pad: pointer input → strokes → pixels.
 *
 * Strokes are kept as arrays of [x, y] points in canvas-relative units (0..1 on both axes, y down).
 * That makes them independent of the canvas's CSS size and of devicePixelRatio, so the pad can be
 * resized without losing the drawing, Undo can simply redraw the remaining strokes, and the same
 * strokes can be rendered off-screen at a fixed size for the server, or sent as they are.
 *
 * The canvas is square for one digit; CSS may give it another shape (the Number mode's 5 : 2),
 * as long as the shape does not change under a drawing: the units are shares of each side.
 */

/**
 * Brush width as a fraction of the canvas's shorter side (21 px on a 280 px canvas).
 * CONTRACT: the benchmarks render pen trajectories with this same rule, and /api/read draws
 * strokes with it by default; change all three or none.
 */
export const BRUSH_FRACTION = 0.075;

/**
 * Ink under this many pen widths tall fills its loops in (a 0 becomes a blot), and the network
 * misreads it without any other sign (benchmarks/written_small.py measures how often, for one
 * digit and for a number; its figures are in docs/reading-numbers.md).
 */
const SMALL_FOR_THE_PEN = 5;

/**
 * Whether ink this long is small for the pen on a pad whose shorter side is `side`.
 * @param {number} length the ink's length (a digit's height, or a drawing's longer side), pen
 *   included, in the same units as `side`
 * @param {number} side the pad's shorter side, which the pen is a share of
 * @returns {boolean}
 */
export function smallForThePen(length, side) {
  return length < SMALL_FOR_THE_PEN * BRUSH_FRACTION * side;
}

/**
 * The longer side of the ink on a square pad, pen included, as a share of the pad's side. The
 * smoothed curves stay inside their points' hull, so the points' box is the ink's.
 * @param {Array<Array<[number, number]>>} strokes points in 0..1 units
 * @returns {number} 0 without strokes
 */
export function inkExtent(strokes) {
  // One pass, no spread: Math.max(...xs) throws on a long scribble's hundreds of thousands.
  let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const points of strokes) {
    for (const [x, y] of points) {
      [left, right] = [Math.min(left, x), Math.max(right, x)];
      [top, bottom] = [Math.min(top, y), Math.max(bottom, y)];
    }
  }
  if (left > right) return 0;
  return Math.max(right - left, bottom - top) + BRUSH_FRACTION;
}

/** Side of the off-screen image sent to the server, whatever the screen's pixel density. */
export const EXPORT_SIZE = 280;

/** Points closer than this (in 0..1 units) to the previous one add nothing but array length. */
const MIN_POINT_DISTANCE = 0.002;

/**
 * Draw strokes with the round brush onto a context whose drawing area is width × height.
 *
 * Each stroke is smoothed with quadratic curves through the midpoints of consecutive points: the
 * sampled points act as control points, which removes the corners of a raw polyline without
 * making the line lag behind the pointer.
 *
 * @param {CanvasRenderingContext2D} ctx target context, already cleared
 * @param {Array<Array<[number, number]>>} strokes points in 0..1 canvas units
 * @param {number} width the canvas width in ctx units (backing-store pixels)
 * @param {number} height the canvas height in the same units
 * @param {string} color any CSS colour
 */
export function renderStrokes(ctx, strokes, width, height, color) {
  ctx.save();
  ctx.lineWidth = BRUSH_FRACTION * Math.min(width, height);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  for (const points of strokes) {
    traceStroke(ctx, points, width, height);
  }
  ctx.restore();
}

/**
 * Stroke one point list; a single point (a tap) becomes a round dot of the brush's width.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Array<[number, number]>} points
 * @param {number} w
 * @param {number} h
 */
function traceStroke(ctx, points, w, h) {
  if (points.length === 0) return;
  const [x0, y0] = points[0];
  if (points.length === 1) {
    // A zero-length path draws nothing in some engines, so a tap is filled as a circle.
    ctx.beginPath();
    ctx.arc(x0 * w, y0 * h, ctx.lineWidth / 2, 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(x0 * w, y0 * h);
  for (let i = 1; i < points.length - 1; i++) {
    const [cx, cy] = points[i];
    const [nx, ny] = points[i + 1];
    ctx.quadraticCurveTo(cx * w, cy * h, ((cx + nx) / 2) * w, ((cy + ny) / 2) * h);
  }
  const [xn, yn] = points[points.length - 1];
  ctx.lineTo(xn * w, yn * h);
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
  #edits = 0;
  /** The pointer currently drawing, or null; other pointers (a second finger) are ignored. */
  #activePointer = null;
  #frameRequested = false;
  #ink = "#000";

  /** @param {HTMLCanvasElement} canvas a canvas styled with a fixed shape (CSS aspect-ratio) */
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

  /** @returns {number} how many times the drawing has changed (a stroke begun, undone, cleared
   * or restored): while it stays the same, so does the drawing */
  get edits() {
    return this.#edits;
  }

  /** @returns {boolean} whether a pointer is drawing right now */
  get isDrawing() {
    return this.#activePointer !== null;
  }

  /** @returns {Array<Array<[number, number]>>} a copy of the strokes, in units of the pad's
   * width and height, for restore() */
  get strokes() {
    return this.#strokes.map((points) => points.map(([x, y]) => [x, y]));
  }

  /**
   * Put strokes back (from `strokes`, on a pad of the same shape), replacing any on it.
   * @param {Array<Array<[number, number]>>} strokes
   */
  restore(strokes) {
    this.#releaseActive();
    this.#edits++;
    this.#strokes = strokes.map((points) => points.map(([x, y]) => [x, y]));
    this.#requestFrame();
    this.dispatchEvent(new Event("change"));
  }

  /** Remove every stroke (also abandons a stroke in progress). */
  clear() {
    this.#releaseActive();
    this.#edits++;
    this.#strokes = [];
    this.#afterRemoval();
  }

  /** Remove the most recent stroke, including one still being drawn. */
  undo() {
    if (this.#strokes.length === 0) return;
    this.#releaseActive();
    this.#edits++;
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
    renderStrokes(off.getContext("2d"), this.#strokes, size, size, "#000");
    return off.toDataURL("image/png");
  }

  /**
   * The strokes in pixels of a width × height canvas, rounded to 0.1 px, as POST /api/read
   * takes them. A point the pointer dragged far off the canvas is brought within one canvas
   * size of it (its ink is cut off by the canvas's edge either way).
   * @param {number} width
   * @param {number} height
   * @returns {Array<Array<[number, number]>>}
   */
  toStrokes(width, height) {
    const at = (v, side) => Math.round(Math.min(Math.max(v, -1), 2) * side * 10) / 10;
    return this.#strokes.map((points) => points.map(([x, y]) => [at(x, width), at(y, height)]));
  }

  /** @param {PointerEvent} e */
  #onDown(e) {
    if (this.#activePointer !== null || !e.isPrimary) return;
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault(); // no text selection, no emulated mouse events
    // The focus comes to the pad, as a click would bring it: a button clicked before (Clear)
    // must not keep it, or the Enter that answers "Right" would press that button again.
    this.#canvas.focus({ preventScroll: true });
    this.#activePointer = e.pointerId;
    try {
      // Keep receiving moves when the pointer leaves the canvas mid-stroke.
      this.#canvas.setPointerCapture(e.pointerId);
    } catch {
      // The pointer may already be gone (a very short tap); the stroke still works without it.
    }
    this.#strokes.push([this.#toUnits(e)]);
    this.#edits++;
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
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(rect.width * ratio));
    const height = Math.max(1, Math.round(rect.height * ratio));
    if (this.#canvas.width !== width || this.#canvas.height !== height) {
      this.#canvas.width = width; // setting either also clears the canvas
      this.#canvas.height = height;
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
    const { width, height } = this.#canvas;
    this.#ctx.clearRect(0, 0, width, height);
    renderStrokes(this.#ctx, this.#strokes, width, height, this.#ink);
  }
}
