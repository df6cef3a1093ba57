/** `npm run build:console`: writes the browser bundle to console/dist/ (the server also builds it at start when missing). */
import { buildConsoleBundle, DIST_DIR } from './console-assets.js';

const bundle = await buildConsoleBundle();
console.log(`built ${DIST_DIR}/console.js (${(bundle.length / 1024).toFixed(1)} KiB)`);
