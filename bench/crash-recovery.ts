/**
 * The crash test at length: ROUNDS rounds (default 10) of 300 records dropped
 * into `npm start`'s stack, `kill -9` at a random moment within 1.5 s, a
 * restart on the same data, and counters compared with the target bucket.
 *
 *   npx tsx bench/crash-recovery.ts [ROUNDS]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCrashRound } from '../test/support/crash-run.js';

const rounds = Number(process.argv[2] ?? 10);
const record = readFileSync('samples/mnist-onnx/seven-drawn.json');
const bad = Buffer.from('{"values": [[1, 2, 3]]}');
let exact = 0;
for (let i = 1; i <= rounds; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'dropscore-crash-'));
  try {
    const r = await runCrashRound({ dir, records: 300, killWithinMs: 1500, record, bad });
    const ok = r.results + r.errors === r.inputs && r.counters.received === r.inputs && r.counters.scored === r.results && r.counters.failed === r.errors && r.predictions === r.results;
    if (ok) exact++;
    console.log(`round ${i}: killed after ${r.killedAfterMs} ms (${r.dropsAcknowledged} drops acknowledged), ${r.inputs} inputs stored, outcomes ${r.results} results + ${r.errors} errors; counters received ${r.counters.received}, scored ${r.counters.scored}, failed ${r.counters.failed}; predictions ${r.predictions}; restart ${Math.round(r.restartMs)} ms: ${ok ? 'exact' : 'MISMATCH'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`${exact} of ${rounds} rounds exact`);
process.exitCode = exact === rounds ? 0 : 1;
