/**
 * A static file server for the built demo, on 127.0.0.1 only. `npm run demo` builds the page, serves it and prints
 * its address; the browser test (test/demo/browser.test.ts) uses `serveDirectory` on a free port.
 */
import { createServer, type Server } from 'node:http';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemo } from './build.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Serve the files of `dir` (no listing, nothing outside it) on 127.0.0.1:`port` (0: any free port). */
export async function serveDirectory(dir: string, port = 0): Promise<RunningServer> {
  const root = path.resolve(dir);
  const server: Server = createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = path.join(root, urlPath.endsWith('/') ? `${urlPath}index.html` : urlPath);
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    fs.readFile(file).then((body) => {
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    }, () => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('demo server: no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const portArg = process.env.PORT ?? '8080';
  const port = Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo: PORT must be an integer port number in 0..65535, got ${JSON.stringify(portArg)}`);
    process.exit(2);
  }
  const dir = await buildDemo();
  const server = await serveDirectory(dir, port);
  console.log(`icnn demo: ${server.url}  (Ctrl-C stops)`);
}
