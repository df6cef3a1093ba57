/**
 * The zero-loss check at scale: N records (default 5000), each event
 * delivered twice, 10% of S3 reads and writes failing.
 *
 *   npx tsx bench/zero-loss.ts [N]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack } from '../infra/local/local-stack.js';
import { runZeroLoss } from '../test/support/zero-loss-run.js';

const n = Number(process.argv[2] ?? 5000);
const root = mkdtempSync(join(tmpdir(), 'dropscore-zero-loss-'));
const stack = await startLocalStack({ dataDir: join(root, 'data'), edgePort: 0, modelsRoot: 'layers/models', log: { info() {}, warn() {}, error() {} } });
const report = await runZeroLoss(stack, { n, failureRate: 0.1, modelsRoot: 'layers/models', deadLetterDir: join(root, 'dead-letters'), record: readFileSync('samples/mnist-onnx/seven-drawn.json') });
console.log(JSON.stringify(report));
const ok = report.outcomes === n && report.outcomesOfOwnVersion === n && report.counters.received === n && report.counters.scored === n && report.deadLettered === 0;
console.log(ok ? `zero lost, zero duplicated: ${n} inputs, ${n} outcomes, counters exact` : 'LOSS OR DUPLICATION: see the report above');
await stack.close();
rmSync(root, { recursive: true, force: true });
process.exitCode = ok ? 0 : 1;
