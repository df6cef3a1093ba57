/**
 * The five ways the scorer is invoked, told apart by the event's shape:
 * - an S3 notification (direct delivery, async invoke: a thrown error makes
 *   Lambda retry, then dead-letter the event);
 * - an SQS batch of S3 notifications (queued delivery: failed messages are
 *   reported one by one, so only they return to the queue);
 * - a warm-up request sent at deploy time, which loads the model so the
 *   deployment's status leaves INITIALIZING without waiting for a record;
 * - a step of a bulk file's fan-out (AWS Step Functions: `bulk-plan`,
 *   `bulk-parts` with an item batch of parts, `bulk-assemble`, `bulk-abandon`),
 *   its result returned as the state machine's task result;
 * - an HTTPS request to the function URL (IAM auth): online scoring of rows.
 */
import { fanOutStepOf } from '../bulk/fan-out-events.js';
import type { FanOutStepResult } from '../bulk/fan-out-steps.js';
import { describeError } from './errors.js';
import { parseS3Event, type ObjectCreated } from './s3-event.js';
import type { EventReport, Scorer } from './scorer.js';

export const WARM_UP_EVENT = Object.freeze({ dropscore: 'warm-up' });

export interface BatchItemFailures {
  batchItemFailures: { itemIdentifier: string }[];
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type InvocationResult = EventReport | BatchItemFailures | { warmedUp: true } | HttpResponse | FanOutStepResult;

export async function handleInvocation(scorer: Scorer, event: unknown): Promise<InvocationResult> {
  if ((event as { dropscore?: unknown })?.dropscore === WARM_UP_EVENT.dropscore) {
    await scorer.warmUp();
    return { warmedUp: true };
  }
  // The state machine takes the step's result as it is (its tasks keep the payload only).
  const step = fanOutStepOf(event);
  if (step) return scorer.runFanOutStep(step);
  const http = event as { requestContext?: { http?: { method?: string } }; body?: string; isBase64Encoded?: boolean };
  if (http?.requestContext?.http) return handleHttp(scorer, http);
  const records = (event as { Records?: { eventSource?: string }[] })?.Records;
  if (Array.isArray(records) && records.length > 0 && records.every((r) => r?.eventSource === 'aws:sqs')) {
    return handleQueuedBatch(scorer, records as SqsRecord[]);
  }
  return scorer.handleEvent(event);
}

interface SqsRecord {
  messageId: string;
  body: string;
}

/** All the batch's objects are scored together (stacked predictions); a message fails if any of its objects did. */
async function handleQueuedBatch(scorer: Scorer, records: SqsRecord[]): Promise<BatchItemFailures> {
  const failed = new Set<string>();
  const owners: string[] = [];
  const refs: ObjectCreated[] = [];
  for (const record of records) {
    let notification: unknown;
    try {
      notification = JSON.parse(record.body);
    } catch (error) {
      // Not an S3 notification at all: retrying cannot help, the queue's dead-letter queue keeps it.
      scorer.log.error('queued message is not JSON', { messageId: record.messageId, reason: describeError(error) });
      failed.add(record.messageId);
      continue;
    }
    // S3 sends one s3:TestEvent when a queue notification is configured; nothing to score.
    if ((notification as { Event?: string })?.Event === 's3:TestEvent') continue;
    const { objects, skipped } = parseS3Event(notification);
    for (const reason of skipped) scorer.log.warn('event record skipped', { messageId: record.messageId, reason });
    for (const ref of objects) {
      refs.push(ref);
      owners.push(record.messageId);
    }
  }
  const outcomes = await scorer.scoreObjects(refs);
  outcomes.forEach((outcome, i) => {
    if (typeof outcome === 'object') failed.add(owners[i]!);
  });
  return { batchItemFailures: records.filter((r) => failed.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })) };
}

async function handleHttp(scorer: Scorer, request: { requestContext?: { http?: { method?: string } }; body?: string; isBase64Encoded?: boolean }): Promise<HttpResponse> {
  const respond = (statusCode: number, body: unknown): HttpResponse => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (request.requestContext?.http?.method !== 'POST') return respond(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'POST a {"values": [[...], ...]} payload' } });
  const payload = Buffer.from(request.body ?? '', request.isBase64Encoded ? 'base64' : 'utf8');
  const outcome = await scorer.scoreOnline(payload);
  if (outcome.kind === 'result') return respond(200, outcome.body);
  // A model that failed to load is the server's problem; a used-up quota, a wait; a bad payload, the caller's.
  const status = outcome.error.code === 'MODEL_LOAD_FAILED' ? 503 : outcome.error.code === 'PREDICTION_LIMIT_REACHED' ? 429 : 400;
  return respond(status, { error: { code: outcome.error.code, message: outcome.error.message } });
}
