/**
 * `kill -9` at a random moment while records are dropped and scored, then a
 * restart on the same data: every stored input ends with its outcome, and the
 * counters and the prediction count say exactly what the target bucket holds.
 * (bench/crash-recovery.ts runs ten rounds.)
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCrashRound } from '../support/crash-run.js';
import { tempRoot } from '../support/model-dir.js';
import { REPO_ROOT } from '../support/paths.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a stack killed with SIGKILL and restarted', () => {
  it('loses no outcome and keeps exact counters', async () => {
    const round = await runCrashRound({
      dir: root,
      records: 300,
      killWithinMs: 1500,
      record: readFileSync(join(REPO_ROOT, 'samples/mnist-onnx/seven-drawn.json')),
      bad: Buffer.from('{"values": [[1, 2, 3]]}'),
    });
    expect(round.inputs).toBeGreaterThanOrEqual(round.dropsAcknowledged);
    expect(round.results + round.errors).toBe(round.inputs);
    expect(round.counters).toEqual({ received: round.inputs, scored: round.results, failed: round.errors });
    expect(round.predictions).toBe(round.results);
  }, 180_000);
});
