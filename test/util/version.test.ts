/** The library's VERSION constant and package.json agree. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { VERSION } from '../../src/version.js';
import { VERSION as exported } from '../helpers/icnn.js';

test('src/version.ts VERSION equals package.json version', () => {
  const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
  assert.match(pkg.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  assert.equal(VERSION, pkg.version);
  assert.equal(exported, VERSION);
});
