/**
 * The deployment's received count across a failed and retried delivery: an
 * input whose received count could not be written is counted by the retry,
 * exactly once (memory ports, the real demo ONNX model).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentBinding } from '../../functions/scorer/domain/ports.js';
import { createScorer } from '../../functions/scorer/domain/scorer.js';
import type { LoadedModel } from '../../functions/scorer/engines/engine-registry.js';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { createMemoryDeployments, createMemoryLedger, createMemoryObjectStore, createMemoryUsage } from '../support/memory-ports.js';
import { FIXTURES, MODELS_ROOT } from '../support/paths.js';

const binding: DeploymentBinding = { id: 'dep-1', name: 'mnist', model: 'mnist-cnn-onnx', source: { bucket: 'in', prefix: 'drop/' }, target: { bucket: 'out', prefix: 'scored/' } };
const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

let onnx: LoadedModel;
beforeAll(async () => {
  onnx = await loadModel(`${MODELS_ROOT}/mnist-cnn-onnx`);
});

describe('the received count of a retried delivery', () => {
  it('is written by the retry when the first delivery could not write it, and counted once', async () => {
    const s3 = createMemoryObjectStore();
    const ledger = createMemoryLedger();
    const usage = createMemoryUsage();
    const deployments = createMemoryDeployments();
    let receivedWrites = 0;
    const flaky = {
      ...deployments,
      async addCounters(...args: Parameters<typeof deployments.addCounters>) {
        if (args[1].received !== undefined && receivedWrites++ === 0) throw new Error('throttled');
        return deployments.addCounters(...args);
      },
    };
    const scorer = createScorer({ binding, modelDir: 'unused', load: async () => onnx, objects: s3.store, deployments: flaky, ledger, usage, log: quietLog });
    s3.put('in', 'drop/a.json', readFileSync(`${FIXTURES}/payloads/keras/img1.json`));
    s3.put('in', 'drop/b.json', readFileSync(`${FIXTURES}/payloads/keras/img1.json`));
    const refs = [{ bucket: 'in', key: 'drop/a.json' }, { bucket: 'in', key: 'drop/b.json' }];

    expect(await scorer.scoreObjects(refs)).toEqual([{ failure: 'throttled' }, { failure: 'throttled' }]);
    expect(await scorer.scoreObjects(refs)).toEqual(['scored', 'scored']);
    expect(deployments.counters.get('dep-1')).toMatchObject({ received: 2, scored: 2, failed: 0 });
    expect([...ledger.totals.values()].reduce((n, t) => n + t.received, 0)).toBe(2);
    expect(usage.predictions()).toBe(2);
    // And a third delivery of the same set counts nothing.
    expect(await scorer.scoreObjects(refs)).toEqual(['duplicate', 'duplicate']);
    expect(deployments.counters.get('dep-1')).toMatchObject({ received: 2, scored: 2, failed: 0 });
  });
});
