/**
 * Nothing lost, nothing counted twice: every event delivered twice, a tenth
 * of S3 reads and writes failing, and still exactly one outcome per input,
 * of its own version, with exact counters. (`bench/zero-loss.ts` runs it at N = 5000.)
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempRoot } from '../support/model-dir.js';
import { startTestStack } from '../support/local-stack-harness.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';
import { runZeroLoss } from '../support/zero-loss-run.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('zero loss under duplicate events and transient S3 errors', () => {
  it('gives each of 200 inputs exactly one outcome and counts each once', async () => {
    const stack = await startTestStack({ dataDir: join(root, 'data'), modelsRoot: MODELS_ROOT });
    try {
      const report = await runZeroLoss(stack, { n: 200, failureRate: 0.1, modelsRoot: MODELS_ROOT, deadLetterDir: join(root, 'dead-letters'), record: readFileSync(`${REPO_ROOT}samples/mnist-onnx/seven-drawn.json`) });
      expect(report.injectedFailures).toBeGreaterThan(10);
      expect(report).toMatchObject({ deadLettered: 0, outcomes: 200, outcomesOfOwnVersion: 200, counters: { received: 200, scored: 200, failed: 0 } });
    } finally {
      await stack.close();
    }
  });
});
