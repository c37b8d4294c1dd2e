/**
 * tfjs in the page, set up as a user of the library does it: tell tfjs's wasm backend where its .wasm files are
 * (next to main.js: the build copies them), then `init({ backend: 'wasm' })`, which registers the library's gradient
 * rules and starts the backend; the cpu backend when wasm cannot start or `?backend=cpu` asks for it.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { init } from 'icnn';

export type PageBackend = 'wasm' | 'cpu';

export async function initBackend(requested: string | null): Promise<PageBackend> {
  if (requested !== 'cpu') {
    setWasmPaths(new URL('./', document.baseURI).href);
    try {
      await init({ backend: 'wasm' });
      return 'wasm';
    } catch {
      // fall through to cpu
    }
  }
  await init({ backend: 'cpu' });
  return 'cpu';
}
