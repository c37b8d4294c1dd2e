/**
 * Warm starts for the TD targets' inner argmax (§4.5): the last solution a'(s') found for each replay slot.
 * The target network moves slowly (τ = 0.01), so the argmax of a transition sampled again is usually near its
 * previous one; starting there (when it scores better than the default start) lets the adaptive stop of
 * ./innerAdam.ts end after a few iterations. A slot is forgotten when the replay buffer overwrites it.
 * Storage grows with the replay buffer (float32, capacity × d at most).
 */
export class ActionCache {
  private values = new Float32Array(0);
  private valid = new Uint8Array(0);

  constructor(readonly actionSize: number) {}

  /** Forget `slot` (the replay buffer is about to overwrite it). */
  invalidate(slot: number): void {
    if (slot < this.valid.length) this.valid[slot] = 0;
  }

  /** Starts for the rows of `slots`: the cached action, or 0 where none is cached (the default start). */
  starts(slots: ArrayLike<number>): { start: Float64Array; hits: number } {
    const d = this.actionSize;
    const start = new Float64Array(slots.length * d);
    let hits = 0;
    for (let r = 0; r < slots.length; r++) {
      const s = slots[r];
      if (s >= this.valid.length || !this.valid[s]) continue;
      hits++;
      for (let j = 0; j < d; j++) start[r * d + j] = this.values[s * d + j];
    }
    return { start, hits };
  }

  /** Remember the solutions `actions` (rows × d) for `slots`. */
  store(slots: ArrayLike<number>, actions: ArrayLike<number>): void {
    const d = this.actionSize;
    let top = 0;
    for (let r = 0; r < slots.length; r++) top = Math.max(top, slots[r] + 1);
    if (top > this.valid.length) this.grow(top);
    for (let r = 0; r < slots.length; r++) {
      const s = slots[r];
      this.valid[s] = 1;
      for (let j = 0; j < d; j++) this.values[s * d + j] = actions[r * d + j];
    }
  }

  private grow(rows: number): void {
    const size = Math.max(rows, this.valid.length * 2, 1024);
    const values = new Float32Array(size * this.actionSize);
    values.set(this.values);
    const valid = new Uint8Array(size);
    valid.set(this.valid);
    this.values = values;
    this.valid = valid;
  }
}
