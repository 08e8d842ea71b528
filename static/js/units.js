/**
 * What the first layer's units look for: GET /api/model/units, decoded, and kept per model.
 *
 * - Each unit's 784 incoming weights arrive as base64 signed bytes with a scale
 *   (weight = byte × scale / 127); here they become a Float32Array(784), row by row.
 * - Everything kept belongs to one model version. `useVersion` with another one forgets it all,
 *   and an answer that names another version than the current one is dropped: the weights of the
 *   old network must never be shown as the new one's.
 * - A unit asked for twice is fetched once (the promise is kept). The browser's HTTP cache
 *   revalidates each request with the server's ETag, so a reload costs a 304.
 * - Never throws: a failed request resolves to an empty list (or null), and the next ask retries.
 */

/**
 * @typedef {object} Unit
 * @property {number} id the unit's index in layer 1
 * @property {number} scale its largest |weight|
 * @property {number} spread the standard deviation of its weights
 * @property {Float32Array} weights 784 weights, the 28×28 image row by row
 */

export class UnitWeights {
  #fetch;
  #version = null;
  /** @type {Map<number, Promise<Unit | null>>} */
  #units = new Map();
  /** @type {Map<number, Promise<Unit[]>>} */
  #tops = new Map();

  /** @param {{fetch?: typeof fetch}} [options] the fetch to use (tests pass their own) */
  constructor({ fetch = globalThis.fetch.bind(globalThis) } = {}) {
    this.#fetch = fetch;
  }

  /** @param {string} version the model version whose units are wanted from now on */
  useVersion(version) {
    if (version === this.#version) return;
    this.#version = version;
    this.#units.clear();
    this.#tops.clear();
  }

  /**
   * The `count` most varied units, the most varied first.
   * @param {number} count
   * @returns {Promise<Unit[]>}
   */
  top(count) {
    if (!this.#tops.has(count)) {
      const asked = this.#request(`top=${count}`).then((units) => {
        if (units.length === 0) this.#tops.delete(count); // retry next time
        for (const unit of units) this.#units.set(unit.id, Promise.resolve(unit));
        return units;
      });
      this.#tops.set(count, asked);
    }
    return this.#tops.get(count);
  }

  /**
   * One unit of layer 1.
   * @param {number} id
   * @returns {Promise<Unit | null>}
   */
  unit(id) {
    if (!this.#units.has(id)) {
      const asked = this.#request(`ids=${id}`).then((units) => {
        const unit = units.find((u) => u.id === id) ?? null;
        if (unit === null) this.#units.delete(id);
        return unit;
      });
      this.#units.set(id, asked);
    }
    return this.#units.get(id);
  }

  /**
   * @param {string} query
   * @returns {Promise<Unit[]>}
   */
  async #request(query) {
    const version = this.#version;
    try {
      const response = await this.#fetch(`/api/model/units?layer=1&${query}`, {
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return [];
      const body = await response.json();
      if (version !== null && body.version !== version) return []; // another model answered
      return body.units.map(decodeUnit);
    } catch {
      return [];
    }
  }
}

/**
 * @param {{id: number, scale: number, spread: number, weights: string}} unit
 * @returns {Unit}
 */
export function decodeUnit(unit) {
  const bytes = Uint8Array.from(atob(unit.weights), (c) => c.charCodeAt(0));
  const signed = new Int8Array(bytes.buffer);
  const weights = new Float32Array(signed.length);
  for (let i = 0; i < signed.length; i++) weights[i] = (signed[i] * unit.scale) / 127;
  return { id: unit.id, scale: unit.scale, spread: unit.spread, weights };
}
