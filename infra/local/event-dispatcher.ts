/**
 * Delivers S3 notifications to the deployment watching the object, the way
 * Lambda's asynchronous invoke does: a bounded pool of concurrent
 * invocations, two retries with backoff, then a dead-letter file, so a
 * failing event is never silently dropped. Like SQS's batching window,
 * records arriving together are handed over in one invocation (micro-batch),
 * so the scorer can stack their predictions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../../functions/scorer/domain/errors.js';
import { isWatched } from '../../functions/scorer/domain/outcome-object.js';
import type { DeploymentBinding, Logger } from '../../functions/scorer/domain/ports.js';
import { decodeS3Key } from '../../functions/scorer/domain/s3-event.js';
import type { EventReport } from '../../functions/scorer/domain/scorer.js';

export type EventHandler = (event: unknown) => Promise<EventReport>;

export interface Subscriber {
  readonly binding: DeploymentBinding;
  readonly handle: EventHandler;
}

export type Delivery =
  | { readonly deployment: string; readonly keys: readonly string[]; readonly report: EventReport }
  | { readonly deployment: string; readonly keys: readonly string[]; readonly error: string; readonly deadLetter: string };

export interface DispatcherOptions {
  readonly subscribers: () => readonly Subscriber[];
  readonly concurrency: number;
  /** Waits before each retry; Lambda's async invoke retries twice. */
  readonly retryDelaysMs: readonly number[];
  readonly deadLetterDir: string;
  readonly log: Logger;
  /** How long a record waits for others to join its invocation (0: no batching). */
  readonly batchWindowMs?: number;
  readonly maxBatchSize?: number;
  /** Awaited, so `idle()` also waits for what the caller does with each delivery. */
  readonly onDelivered?: (delivery: Delivery) => void | Promise<void>;
}

/** One S3 notification record, and what to call once its delivery has ended either way. */
export interface Dispatchable {
  readonly record: unknown;
  readonly settled?: () => void;
}

interface Job {
  readonly subscriber: Subscriber;
  readonly keys: string[];
  readonly event: { Records: unknown[] };
  readonly settles: (() => void)[];
}

interface Pending {
  readonly job: Job;
  timer?: NodeJS.Timeout;
}

export function createEventDispatcher(options: DispatcherOptions) {
  const queue: Job[] = [];
  // Keyed by deployment id: one gathering invocation per deployment.
  const gathering = new Map<string, Pending>();
  let running = 0;
  let idleWaiters: (() => void)[] = [];
  const window = options.batchWindowMs ?? 0;
  const maxBatch = options.maxBatchSize ?? 1;

  function release(deploymentId: string): void {
    const pending = gathering.get(deploymentId);
    if (!pending) return;
    clearTimeout(pending.timer);
    gathering.delete(deploymentId);
    queue.push(pending.job);
    pump();
  }

  function pump(): void {
    while (running < options.concurrency && queue.length > 0) {
      const job = queue.shift()!;
      running++;
      void run(job).finally(() => {
        running--;
        pump();
        if (running === 0 && queue.length === 0 && gathering.size === 0) {
          for (const wake of idleWaiters) wake();
          idleWaiters = [];
        }
      });
    }
  }

  async function run(job: Job): Promise<void> {
    const deployment = job.subscriber.binding.name;
    const keys = job.keys;
    let delivery: Delivery | undefined;
    let lastError: unknown;
    for (let attempt = 0; attempt <= options.retryDelaysMs.length && !delivery; attempt++) {
      if (attempt > 0) await sleep(options.retryDelaysMs[attempt - 1]!);
      try {
        delivery = { deployment, keys, report: await job.subscriber.handle(job.event) };
      } catch (error) {
        lastError = error;
        options.log.warn('invocation failed', { deployment, keys, attempt: attempt + 1, reason: describeError(error) });
      }
    }
    if (!delivery) {
      let deadLetter: string;
      try {
        deadLetter = writeDeadLetter(job, lastError);
      } catch (error) {
        // Nowhere to keep it: the log is the last place the event can be seen.
        deadLetter = `(not saved: ${describeError(error)})`;
        options.log.error('dead-letter file not written; the event follows', { deployment, keys, reason: describeError(error), event: job.event });
      }
      options.log.error('event dead-lettered after retries', { deployment, keys, deadLetter });
      delivery = { deployment, keys, error: describeError(lastError), deadLetter };
    }
    for (const settled of job.settles) settled();
    try {
      await options.onDelivered?.(delivery);
    } catch (error) {
      options.log.error('delivery listener failed', { deployment, keys, reason: describeError(error) });
    }
  }

  function writeDeadLetter(job: Job, error: unknown): string {
    mkdirSync(options.deadLetterDir, { recursive: true });
    const file = join(options.deadLetterDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 8)}.json`);
    writeFileSync(file, JSON.stringify({ deployment: job.subscriber.binding.name, error: describeError(error), event: job.event }, null, 2));
    return file;
  }

  return {
    /** Takes notification records in the real S3 shape; one invocation per record, as S3 sends them. */
    dispatch(records: readonly Dispatchable[]): void {
      for (const { record, settled } of records) {
        const s3 = (record as { s3: { bucket: { name: string }; object: { key: string } } }).s3;
        const key = decodeS3Key(s3.object.key);
        const subscriber = options.subscribers().find((s) => isWatched(s.binding, s3.bucket.name, key));
        if (!subscriber) {
          options.log.info('no deployment watches this object', { bucket: s3.bucket.name, key });
          settled?.();
          continue;
        }
        const id = subscriber.binding.id;
        const pending = gathering.get(id) ?? { job: { subscriber, keys: [], event: { Records: [] }, settles: [] } };
        gathering.set(id, pending);
        pending.job.keys.push(key);
        pending.job.event.Records.push(record);
        if (settled) pending.job.settles.push(settled);
        if (pending.job.keys.length >= maxBatch || window === 0) release(id);
        else pending.timer ??= setTimeout(() => release(id), window);
      }
    },

    /** Resolves once every dispatched event has been delivered or dead-lettered. */
    idle(): Promise<void> {
      if (running === 0 && queue.length === 0 && gathering.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

export type EventDispatcher = ReturnType<typeof createEventDispatcher>;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
