/** `npm run build` step: bundles the task web app into `dist/web/` so the packaged server needs no esbuild at run time. */
import { mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { buildWebApp, WEB_SOURCE } from '../server/http/web-app.js';

mkdirSync('dist/web', { recursive: true });
writeFileSync('dist/web/app.js', await buildWebApp());
copyFileSync(WEB_SOURCE.html, 'dist/web/index.html');
console.log('web app built into dist/web/');
