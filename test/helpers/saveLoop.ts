/**
 * Child process for the kill-mid-save test: saves a large PICNN into argv[2] over and over, each time with
 * different weights (bias z0.b filled with the iteration number), printing `start k` before and `saved k` after
 * each save. The parent kills it with SIGKILL at a random moment.
 */
import { PICNN, tf } from './icnn.js';

const dir = process.argv[2];
const first = Number(process.argv[3] ?? 1);
if (!dir) throw new Error('usage: saveLoop.ts DIR [FIRST_ITERATION]');

const model = new PICNN({ xDim: 1836, yDim: 159, hidden: [600, 159], seed: 3 });
const bias = model.parameters().find((p) => p.name === 'z0.b');
if (!bias) throw new Error('saveLoop: no parameter z0.b');
for (let k = first; ; k++) {
  tf.tidy(() => bias.variable.assign(tf.fill(bias.variable.shape, k)));
  process.stdout.write(`start ${k}\n`);
  await model.save(dir);
  process.stdout.write(`saved ${k}\n`);
}
