/**
 * tfjs in the page, set up as a user of the library does it: `init({ backend: 'wasm', wasmPaths })` with the folder
 * of the .wasm files (next to main.js: the build copies them); it registers the library's gradient rules and starts
 * the backend. The cpu backend when wasm cannot start or `?backend=cpu` asks for it.
 */
import { init } from 'icnn';

export type PageBackend = 'wasm' | 'cpu';

export async function initBackend(requested: string | null): Promise<PageBackend> {
  if (requested !== 'cpu') {
    try {
      await init({ backend: 'wasm', wasmPaths: new URL('./', document.baseURI).href });
      return 'wasm';
    } catch {
      // fall through to cpu
    }
  }
  await init({ backend: 'cpu' });
  return 'cpu';
}
