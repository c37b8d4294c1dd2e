/**
 * The library as most tests use it: the core and its Node half in one namespace, plus `tf`, with the default backend
 * initialized (the core itself initializes nothing at import; see test/package/).
 */
import { init } from '../../src/index.js';

export * from '../../src/index.js';
export * from '../../src/node.js';
export * as tf from '@tensorflow/tfjs';

await init();
