/**
 * The test runner for synthesized state machines must be as strict as Step
 * Functions on what it supports: these cases pin its semantics (paths, result
 * paths, batching, Catch, Fail) before integration tests rely on it.
 */
import { describe, expect, it } from 'vitest';
import { runStateMachine } from '../support/state-machine-runner.js';

const definition = {
  StartAt: 'Plan',
  States: {
    Plan: { Type: 'Task', Resource: 'fn', Parameters: { step: 'plan', 'input.$': '$.input' }, ResultPath: '$.plan', Next: 'Fan', Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'GiveUp' }] },
    Fan: {
      Type: 'Map',
      ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { 'Bucket.$': '$.plan.bucket', 'Key.$': '$.plan.key' } },
      ItemBatcher: { MaxItemsPerBatch: 2 },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'Work', States: { Work: { Type: 'Task', Resource: 'fn', Parameters: { step: 'work', 'items.$': '$.Items' }, End: true } } },
      ResultPath: null,
      Next: 'Done',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'GiveUp' }],
    },
    Done: { Type: 'Task', Resource: 'fn', Parameters: { step: 'done', 'plan.$': '$.plan' }, End: true },
    GiveUp: { Type: 'Task', Resource: 'fn', Parameters: { step: 'give-up', 'failure.$': '$.failure' }, ResultPath: null, Next: 'Failed' },
    Failed: { Type: 'Fail', Error: 'Gave up', CausePath: '$.failure.Cause' },
  },
};

function environment(failOn?: string) {
  const calls: unknown[] = [];
  return {
    calls,
    env: {
      async invoke(_resource: unknown, payload: unknown) {
        calls.push(payload);
        const step = (payload as { step: string }).step;
        if (step === failOn) throw new Error(`${step} broke`);
        return step === 'plan' ? { bucket: 'b', key: 'plan.json' } : { ok: step };
      },
      getObject: async (bucket: string, key: string) => (bucket === 'b' && key === 'plan.json' ? '[1,2,3,4,5]' : '{}'),
    },
  };
}

describe('state machine runner', () => {
  it('passes each step what its Parameters and ResultPath say, and batches the items the reader read', async () => {
    const { env, calls } = environment();
    const result = await runStateMachine(definition, { input: { key: 'k' } }, env);
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { ok: 'done' } });
    expect(calls).toEqual([
      { step: 'plan', input: { key: 'k' } },
      // Children run in reverse order: nothing may rely on the order Step Functions runs them in.
      { step: 'work', items: [5] },
      { step: 'work', items: [3, 4] },
      { step: 'work', items: [1, 2] },
      { step: 'done', plan: { bucket: 'b', key: 'plan.json' } },
    ]);
  });

  it('catches a failing child into the give-up path, which ends the execution failed with the cause', async () => {
    const { env, calls } = environment('work');
    const result = await runStateMachine(definition, { input: { key: 'k' } }, env);
    expect(result).toMatchObject({ status: 'FAILED', error: 'Gave up', cause: 'work broke' });
    expect(calls.at(-1)).toEqual({ step: 'give-up', failure: { Error: 'States.TaskFailed', Cause: 'work broke' } });
    expect(result.visited).toEqual(['Plan', 'Fan', 'Fan/Work', 'GiveUp', 'Failed']);
  });

  it('refuses states it does not model instead of skipping them', async () => {
    const { env } = environment();
    await expect(runStateMachine({ StartAt: 'W', States: { W: { Type: 'Wait', End: true } } }, {}, env)).rejects.toThrow(/not supported/);
  });
});
