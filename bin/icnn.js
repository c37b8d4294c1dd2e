#!/usr/bin/env node
// Entry point of the `icnn` command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs via `prepare`).
import { main } from '../dist/cli/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`icnn: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
