/**
 * The local stack runs the scorer's handler shell without Lambda's
 * observability: the X-Ray SDK behind the Powertools tracer installs a
 * process-wide async hook (cls-hooked) that taxes every promise of the
 * embedded stack, scorers and servers alike (BENCHMARKS.md, pipeline).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths.js';

it('loads neither the X-Ray SDK nor cls-hooked', async () => {
  const script = `
    import { createRequire } from 'node:module';
    await import('./infra/local/local-stack.ts');
    await import('./functions/scorer/engines/framework-engines.ts');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(['aws-xray-sdk-core', 'cls-hooked', '@aws-lambda-powertools/tracer'].filter((name) => loaded.some((path) => path.includes(name)))));
  `;
  const { stdout } = await promisify(execFile)('node', ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, timeout: 60_000 });
  expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual([]);
});
