/**
 * The bulk fan-out on AWS: one Step Functions execution per input version.
 * Its name is derived from the version, so Step Functions itself absorbs
 * duplicate S3 events while the execution runs (StartExecution with the same
 * name and input is idempotent for Standard workflows). Once it has ended,
 * the same name is refused for 90 days: a version sent again then has no
 * outcome of its own (the scorer checked), so it runs again under a new name.
 */
import { createHash } from 'node:crypto';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { FanOutInput } from '../bulk/fan-out-events.js';
import type { BulkFanOut } from '../domain/ports.js';

type Version = Parameters<BulkFanOut['start']>[0];

/**
 * `connect` makes the client when the first file fans out: most invocations
 * fan out nothing, and the Step Functions SDK is left out of the cold start.
 */
export function createStepFunctionsFanOut(connect: () => Promise<SFNClient>, stateMachineArn: string, minBytes: number): BulkFanOut {
  let client: Promise<SFNClient> | undefined;
  const startAs = async (name: string, input: Version) => {
    const { StartExecutionCommand } = await import('./step-functions-client.js');
    client ??= connect();
    const execution: FanOutInput = { input };
    return (await client).send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(execution) }));
  };
  return {
    minBytes,
    async start(input) {
      const name = executionNameFor(input);
      try {
        await startAs(name, input);
      } catch (error) {
        if ((error as { name?: string }).name !== 'ExecutionAlreadyExists') throw error;
        await startAs(`${name.slice(0, 60)}-${Date.now().toString(36)}`, input);
      }
    },
  };
}

/** 64 hex digits: within Step Functions' 80-character names, the same for the same version. */
export function executionNameFor(input: Version): string {
  return createHash('sha256').update(JSON.stringify([input.bucket, input.key, input.eTag, input.versionId ?? ''])).digest('hex');
}
