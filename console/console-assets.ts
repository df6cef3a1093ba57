/**
 * The console's pages: static files from console/web/ and the browser bundle
 * esbuild makes of console/web/main.ts. `npm run build:console` writes the
 * bundle to console/dist/; the server builds it at start when it is missing
 * or older than its sources, so a fresh clone's `npm start` just works.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONSOLE_DIR = fileURLToPath(new URL('.', import.meta.url));
const WEB_DIR = join(CONSOLE_DIR, 'web');
export const DIST_DIR = join(CONSOLE_DIR, 'dist');
const BUNDLE = join(DIST_DIR, 'console.js');

export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

/** URL path → asset. */
export type Assets = ReadonlyMap<string, Asset>;

export async function loadConsoleAssets(): Promise<Assets> {
  const bundle = isBundleFresh() ? readFileSync(BUNDLE) : await buildConsoleBundle();
  return new Map<string, Asset>([
    ['/', { contentType: 'text/html; charset=utf-8', body: readFileSync(join(WEB_DIR, 'index.html')) }],
    ['/assets/console.css', { contentType: 'text/css; charset=utf-8', body: readFileSync(join(WEB_DIR, 'console.css')) }],
    ['/assets/console.js', { contentType: 'text/javascript; charset=utf-8', body: bundle }],
  ]);
}

/** Bundles the browser code; writes console/dist/console.js when it can (a read-only checkout still gets the bundle in memory). */
export async function buildConsoleBundle(): Promise<Buffer> {
  // esbuild only when building: a prebuilt bundle needs no dev dependency.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(WEB_DIR, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const body = Buffer.from(result.outputFiles[0]!.contents);
  try {
    mkdirSync(DIST_DIR, { recursive: true });
    writeFileSync(BUNDLE, body);
  } catch {
    // Read-only install: serving from memory is enough.
  }
  return body;
}

function isBundleFresh(): boolean {
  if (!existsSync(BUNDLE)) return false;
  const built = statSync(BUNDLE).mtimeMs;
  return newestSource([WEB_DIR, join(CONSOLE_DIR, 'api-types.ts')]) <= built;
}

function newestSource(paths: readonly string[]): number {
  let newest = 0;
  for (const path of paths) {
    const stats = statSync(path);
    if (stats.isDirectory()) newest = Math.max(newest, newestSource(readdirSync(path).map((entry) => join(path, entry))));
    else if (path.endsWith('.ts')) newest = Math.max(newest, stats.mtimeMs);
  }
  return newest;
}
