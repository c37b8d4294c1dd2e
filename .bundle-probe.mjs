import { build } from 'esbuild';
const r = await build({ entryPoints: [process.argv[2]], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent', external: ['node:*'] }).catch(e => { console.log(e.errors.map(x => `${x.text} @ ${x.location?.file}`).join('\n')); process.exit(1); });
for (const [file, i] of Object.entries(r.metafile.inputs)) for (const x of i.imports) if (x.path.startsWith('node:') || x.external) console.log(file, x.path, x.kind);
console.log('bytes', r.outputFiles[0].text.length, 'inputs', Object.keys(r.metafile.inputs).length);
