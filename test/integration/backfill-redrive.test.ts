/**
 * `dropscore backfill` and `dropscore redrive` end to end on the embedded
 * stack, through the CLI as a user runs it against a running stack: objects
 * that were in the source before the deployment existed get their outcomes
 * (dry run first, then paced, then nothing left to do); an event that ended
 * in a dead-letter file (its target bucket was gone) stays there while the
 * cause lasts, and is scored and removed once it is fixed.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-run.js';
import type { LocalStack } from '../../infra/local/local-stack.js';
import { ensureBucket } from '../../infra/local/provision.js';
import { parseDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { tempRoot } from '../support/model-dir.js';
import { drop, readOutcome, startTestStack } from '../support/local-stack-harness.js';
import { MODELS_ROOT, REPO_ROOT } from '../support/paths.js';

const root = tempRoot();
const dataDir = join(root, 'data');
const manifestPath = join(root, 'deployments.json');
const good = readFileSync(join(REPO_ROOT, 'samples/mnist-onnx/seven-drawn.json'));
const bad = readFileSync(join(REPO_ROOT, 'samples/mnist-onnx/wrong-shape.json'));
const [backfilled, redriven] = parseDeploymentsManifest(
  {
    deployments: [
      { name: 'old-drops', model: 'mnist-cnn-onnx', source: { bucket: 'bf-in', prefix: 'in/' }, target: { bucket: 'bf-out', prefix: 'out/' } },
      { name: 'lost-target', model: 'mnist-cnn-onnx', source: { bucket: 'rd-in' }, target: { bucket: 'rd-out' } },
    ],
  },
  'test',
).deployments;
let stack: LocalStack;

beforeAll(async () => {
  writeFileSync(manifestPath, JSON.stringify({ deployments: [] }));
  stack = await startTestStack({ dataDir, modelsRoot: MODELS_ROOT });
});
afterAll(async () => {
  await stack?.close();
  rmSync(root, { recursive: true, force: true });
});

function cli(...argv: string[]) {
  return runCli([...argv, '--endpoint', stack.endpoint, '--data-dir', dataDir, '--manifest', manifestPath, '--models', MODELS_ROOT]);
}

describe('dropscore backfill', () => {
  it('scores the objects that were in the source before the deployment, paced, once', async () => {
    await ensureBucket(stack.s3, 'bf-in');
    const keys = Array.from({ length: 23 }, (_, i) => `in/r${String(i).padStart(2, '0')}.json`);
    for (const key of keys) await drop(stack, 'bf-in', key, good);
    await drop(stack, 'bf-in', 'in/zz-wrong.json', bad);
    await drop(stack, 'bf-in', 'elsewhere/not-watched.json', good);
    await stack.idle();
    await stack.deploy(backfilled!); // no catch-up: the objects have no outcome
    expect((await stack.deployments.get(backfilled!.id))!.counters.received).toBe(0);

    const dry = await cli('backfill', 'old-drops', '--dry-run', '--json');
    expect([dry.code, JSON.parse(dry.out)]).toEqual([0, expect.objectContaining({ listed: 24, upToDate: 0, toScore: 24, dryRun: true })]);
    expect(await readOutcome(stack, 'bf-out', 'out/r00.json')).toBeUndefined();

    const started = Date.now();
    const run = await cli('backfill', 'old-drops', '--rate', '40', '--concurrency', '2');
    expect(run.code).toBe(0);
    // 24 objects at 40/s, 10 per invocation: the third (objects 21-24) is sent no sooner than 0.5 s in.
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(run.out).toContain('24 object(s) in s3://bf-in/in/: 0 with the outcome of their current version, 24 without');
    expect(run.out).toContain('sent to the scorer: 23 scored, 1 error outcome(s), 0 already done (the ledger had them), 0 deleted meanwhile');
    expect(run.err).toMatch(/24\/24 done/);
    for (const key of keys) expect((await readOutcome(stack, 'bf-out', key.replace('in/', 'out/')))!.metadata['dropscore-outcome']).toBe('result');
    expect((await readOutcome(stack, 'bf-out', 'out/zz-wrong.json'))!.json.error.code).toBe('SHAPE_MISMATCH');
    expect(await readOutcome(stack, 'bf-out', 'out/../elsewhere/not-watched.json')).toBeUndefined();
    expect((await stack.deployments.get(backfilled!.id))!.counters).toEqual({ received: 24, scored: 23, failed: 1 });

    const again = await cli('backfill', 'old-drops', '--json');
    expect([again.code, JSON.parse(again.out)]).toEqual([0, expect.objectContaining({ listed: 24, upToDate: 24, toScore: 0, complete: true })]);
  });

  it('resumes after a key, and sends an input whose outcome is gone again: rewritten, not counted twice', async () => {
    await stack.s3.send(new DeleteObjectCommand({ Bucket: 'bf-out', Key: 'out/r20.json' }));
    const resumed = JSON.parse((await cli('backfill', 'old-drops', '--start-after', 'in/r10.json', '--json')).out);
    expect(resumed).toMatchObject({ listed: 13, upToDate: 12, toScore: 1, complete: true });
    expect((await readOutcome(stack, 'bf-out', 'out/r20.json'))!.metadata['dropscore-outcome']).toBe('result');
    expect((await stack.deployments.get(backfilled!.id))!.counters).toEqual({ received: 24, scored: 23, failed: 1 });
  });
});

describe('dropscore redrive', () => {
  it('keeps a dead letter while its cause lasts, and scores and removes it once it is fixed', async () => {
    await stack.deploy(redriven!);
    await stack.s3.send(new DeleteBucketCommand({ Bucket: 'rd-out' })); // outcomes cannot be written: a store failure
    await drop(stack, 'rd-in', 'lost.json', good);
    await stack.idle();
    const deadLetters = join(dataDir, 'dead-letter');
    expect(readdirSync(deadLetters)).toHaveLength(1);

    const stillBroken = await cli('redrive', 'lost-target', '--json');
    expect(stillBroken.code).toBe(1);
    expect(JSON.parse(stillBroken.out)).toMatchObject({ how: 'invoked', redriven: 0, left: 1, failures: [{ reason: expect.stringContaining('lost.json: The specified bucket does not exist') }] });
    expect(readdirSync(deadLetters)).toHaveLength(1);
    expect((await cli('redrive', 'old-drops', '--json')).out).toContain('"left": 0'); // another deployment's letters are not its own

    await stack.s3.send(new CreateBucketCommand({ Bucket: 'rd-out' }));
    const fixed = await cli('redrive', 'lost-target');
    expect(fixed.code).toBe(0);
    expect(fixed.out).toContain(`1 dead letter(s) of lost-target handed to the scorer again and finished; 0 left in ${deadLetters}`);
    expect(readdirSync(deadLetters)).toEqual([]);
    expect((await readOutcome(stack, 'rd-out', 'lost.json'))!.metadata['dropscore-outcome']).toBe('result');
    expect((await stack.deployments.get(redriven!.id))!.counters).toEqual({ received: 1, scored: 1, failed: 0 });
    expect(existsSync(deadLetters)).toBe(true);
  });
});
