/**
 * The scorer's starter of bulk fan-outs (AWS Step Functions), against a mocked
 * SDK: one execution per input version, named after it; a running duplicate
 * is Step Functions' to absorb; a version sent again after its execution ended
 * runs under a new name.
 */
import { SFNClient, StartExecutionCommand, ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { readScorerConfig } from '../../functions/scorer/config.js';
import { createStepFunctionsFanOut, executionNameFor } from '../../functions/scorer/store/step-functions-fan-out.js';

const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Dropscore-fan-bulk';
const sfn = mockClient(SFNClient);
const version = { bucket: 'in', key: 'big.jsonl', eTag: 'abc' };

beforeEach(() => sfn.reset());

describe('Step Functions fan-out', () => {
  it('starts one execution named after the input version, with the version as its input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x' });
    await createStepFunctionsFanOut(async () => new SFNClient({}), ARN, 1).start(version);
    const [call] = sfn.commandCalls(StartExecutionCommand);
    expect(call!.args[0].input).toEqual({ stateMachineArn: ARN, name: executionNameFor(version), input: JSON.stringify({ input: version }) });
    expect(executionNameFor(version)).toMatch(/^[0-9a-f]{64}$/);
    expect(executionNameFor({ ...version, eTag: 'abd' })).not.toBe(executionNameFor(version));
  });

  it('runs a version again under a new name when its name was used by an execution that ended', async () => {
    sfn.on(StartExecutionCommand).rejectsOnce(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} })).resolves({ executionArn: 'y' });
    await createStepFunctionsFanOut(async () => new SFNClient({}), ARN, 1).start(version);
    const names = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name!);
    expect(names).toHaveLength(2);
    expect(names[1]).toMatch(new RegExp(`^${executionNameFor(version).slice(0, 60)}-[0-9a-z]+$`));
    expect(names[1]!.length).toBeLessThanOrEqual(80);
  });

  it('makes its client when the first file fans out, once', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x' });
    let made = 0;
    const fanOut = createStepFunctionsFanOut(async () => (made++, new SFNClient({})), ARN, 1);
    expect(made).toBe(0);
    await Promise.all([fanOut.start(version), fanOut.start({ ...version, key: 'other.jsonl' })]);
    expect(made).toBe(1);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(2);
  });

  it('lets any other failure through, for the event to be retried', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(createStepFunctionsFanOut(async () => new SFNClient({}), ARN, 1).start(version)).rejects.toThrow('Rate exceeded');
  });

  it('is configured from the environment the stack sets, and refuses half a configuration', () => {
    const env = { MODEL_NAME: 'm', DEPLOYMENT_ID: 'd', DEPLOYMENT_NAME: 'n', SOURCE_BUCKET: 's', TARGET_BUCKET: 't', DEPLOYMENTS_TABLE: 'dt', LEDGER_TABLE: 'lt', MODEL_DIR: '/opt/models/m' };
    expect(readScorerConfig(env).bulk).toEqual({});
    expect(readScorerConfig({ ...env, BULK_STATE_MACHINE_ARN: ARN, BULK_FAN_OUT_BYTES: '67108864', BULK_PART_BYTES: '8388608' }).bulk).toEqual({ partBytes: 8388608, fanOut: { stateMachineArn: ARN, fanOutBytes: 67108864 } });
    expect(() => readScorerConfig({ ...env, BULK_STATE_MACHINE_ARN: ARN })).toThrow(/BULK_FAN_OUT_BYTES is required/);
    expect(() => readScorerConfig({ ...env, BULK_PART_BYTES: '-1' })).toThrow(/BULK_PART_BYTES must be a positive integer/);
  });
});
