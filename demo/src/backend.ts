/**
 * tfjs in the page: the library's gradient rules (src/backend/gradients.ts, needed by every backend), then the
 * wasm backend with its .wasm files served next to main.js (the build copies them), or the cpu backend when wasm
 * cannot start or `?backend=cpu` asks for it. Until the core entry of issue #17 offers `init({ backend })`, the page
 * does this itself.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerGradientOverrides } from '../../src/backend/gradients.js';

export type PageBackend = 'wasm' | 'cpu';

export async function initBackend(requested: string | null): Promise<PageBackend> {
  tf.env().set('PROD', true);
  registerGradientOverrides();
  if (requested !== 'cpu') {
    setWasmPaths(new URL('./', document.baseURI).href);
    try {
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return 'wasm';
      }
    } catch {
      // fall through to cpu
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return 'cpu';
}
