/** The HiGHS LP/QP solver (npm `highs`, HiGHS compiled to wasm), loaded once per process. */
import * as highsModule from 'highs';
import type { Highs } from 'highs';

type HighsLoader = () => Promise<Highs>;

let highsPromise: Promise<Highs> | null = null;

export function loadHighs(): Promise<Highs> {
  if (highsPromise === null) {
    // `highs` declares CommonJS types, but Node's ESM import gets its .mjs build, whose default export is the
    // loader: accept either shape.
    const mod = highsModule as unknown as { default: HighsLoader | { default: HighsLoader } };
    const loader = typeof mod.default === 'function' ? mod.default : mod.default.default;
    const loading = loader();
    highsPromise = loading;
    loading.catch(() => {
      highsPromise = null;
    });
    return loading;
  }
  return highsPromise;
}
