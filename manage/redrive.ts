/**
 * `dropscore redrive`: gives the events a deployment could not finish (its
 * dead letters) another go, and says what is left.
 * - AWS, queued delivery: the dead-letter queue's messages are S3
 *   notifications the queue gave up on; SQS moves them back to the delivery
 *   queue itself (a message move task), where the scorer reads them as usual.
 * - AWS, direct delivery: the dead-letter queue holds Lambda's records of
 *   failed asynchronous invocations; each record's original event is handed
 *   to the scorer again and the message deleted once it succeeded.
 * - Local stack: the dispatcher's dead-letter files, likewise.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  StartMessageMoveTaskCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describeNamedError } from '../functions/scorer/domain/errors.js';
import type { AwsResources } from '../functions/scorer/domain/ports.js';
import type { ScorerInvoker } from './scorer-invoker.js';
import { pacer } from './pacer.js';

export interface RedriveReport {
  /** How the dead letters were given back: to the scorer, or moved to the delivery queue. */
  readonly how: 'invoked' | 'moved';
  /** Events the scorer finished (invoked), or messages moved back to the delivery queue (moved). */
  readonly redriven: number;
  /** Dead letters still there after the run, and why the ones this run tried failed. */
  readonly left: number;
  readonly failures: readonly { readonly id: string; readonly reason: string }[];
}

export interface RedriveOptions {
  /** Dead letters handed back per second at most (default: no limit). */
  readonly ratePerSecond?: number;
  readonly onProgress?: (redriven: number, failed: number) => void;
}

// Long enough for one re-invocation; a message that failed stays out of this run's sight that long, then returns.
const RECEIVE_VISIBILITY_SECONDS = 900;
const MOVE_POLL_MS = 2000;

/** Direct delivery: re-invoke the scorer with each failed invocation's event; delete the record once it succeeded. */
export async function redriveInvocations(sqs: SQSClient, resources: AwsResources, invoke: ScorerInvoker, options: RedriveOptions = {}): Promise<RedriveReport> {
  const failures: { id: string; reason: string }[] = [];
  let redriven = 0;
  const pace = pacer(options.ratePerSecond);
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: resources.deadLetterQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, VisibilityTimeout: RECEIVE_VISIBILITY_SECONDS }));
    if (Messages.length === 0) break;
    for (const message of Messages) {
      await pace();
      try {
        await invoke(originalEvent(message.Body ?? ''));
        await sqs.send(new DeleteMessageCommand({ QueueUrl: resources.deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }));
        redriven++;
      } catch (error) {
        failures.push({ id: message.MessageId ?? '?', reason: describeNamedError(error) });
      }
      options.onProgress?.(redriven, failures.length);
    }
  }
  return { how: 'invoked', redriven, left: await depthOf(sqs, resources.deadLetterQueueUrl), failures };
}

/** Queued delivery: SQS moves the dead letters back to the delivery queue; waits for the move to end. */
export async function redriveQueue(sqs: SQSClient, resources: AwsResources, options: RedriveOptions & { readonly pollMs?: number } = {}): Promise<RedriveReport> {
  if (!resources.deliveryQueueArn) throw new Error('this deployment has no delivery queue (direct delivery): its dead letters are invocation records');
  const { TaskHandle } = await sqs.send(
    new StartMessageMoveTaskCommand({ SourceArn: resources.deadLetterQueueArn, DestinationArn: resources.deliveryQueueArn, ...(options.ratePerSecond ? { MaxNumberOfMessagesPerSecond: options.ratePerSecond } : {}) }),
  );
  for (;;) {
    const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: resources.deadLetterQueueArn, MaxResults: 10 }));
    const task = Results.find((t) => t.TaskHandle === TaskHandle) ?? Results[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    options.onProgress?.(moved, 0);
    if (task && task.Status !== 'RUNNING' && task.Status !== 'CANCELLING') {
      const failures = task.Status === 'COMPLETED' ? [] : [{ id: TaskHandle ?? 'move task', reason: `${task.Status}${task.FailureReason ? `: ${task.FailureReason}` : ''}` }];
      return { how: 'moved', redriven: moved, left: await depthOf(sqs, resources.deadLetterQueueUrl), failures };
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? MOVE_POLL_MS));
  }
}

/** Local stack: each dead-letter file of the deployment is handed to the scorer again and removed once it succeeded. */
export async function redriveDeadLetterFiles(dir: string, deployment: string, invoke: ScorerInvoker, options: RedriveOptions = {}): Promise<RedriveReport> {
  const failures: { id: string; reason: string }[] = [];
  let redriven = 0;
  let left = 0;
  const pace = pacer(options.ratePerSecond);
  const names = (await readdir(dir).catch((error: { code?: string }) => (error.code === 'ENOENT' ? [] : Promise.reject(error)))).filter((name) => name.endsWith('.json')).sort();
  for (const name of names) {
    const file = join(dir, name);
    let letter: { deployment?: string; event?: unknown };
    try {
      letter = JSON.parse(await readFile(file, 'utf8')) as typeof letter;
    } catch (error) {
      failures.push({ id: name, reason: `not a dead-letter file: ${describeNamedError(error)}` });
      left++;
      continue;
    }
    if (letter.deployment !== deployment) continue;
    await pace();
    try {
      await invoke(letter.event);
      await rm(file);
      redriven++;
    } catch (error) {
      failures.push({ id: name, reason: describeNamedError(error) });
      left++;
    }
    options.onProgress?.(redriven, failures.length);
  }
  return { how: 'invoked', redriven, left, failures };
}

/** The event of a Lambda on-failure record (`requestPayload`), or the message itself when it is an S3 notification. */
export function originalEvent(body: string): unknown {
  const parsed = JSON.parse(body) as { requestPayload?: unknown };
  return parsed.requestPayload ?? parsed;
}

async function depthOf(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes['ApproximateNumberOfMessages'] ?? 0) + Number(Attributes['ApproximateNumberOfMessagesNotVisible'] ?? 0);
}
