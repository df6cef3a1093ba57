/**
 * Scores the parts of large bulk files on worker threads, so one file uses
 * every core: the local stand-in for the fan-out a Lambda deployment uses.
 * Workers start on first use, each loading the deployment's model once, and
 * take parts one at a time from a shared queue.
 */
import type { Worker } from 'node:worker_threads';
import type { BulkPartItem } from '../../functions/scorer/bulk/bulk-plan.js';
import type { PartRunner } from '../../functions/scorer/bulk/score-bulk-file.js';
import type { BulkPartResult } from '../../functions/scorer/bulk/score-part.js';
import { ObjectChangedError } from '../../functions/scorer/domain/errors.js';
import type { DeploymentBinding } from '../../functions/scorer/domain/ports.js';
import type { AwsConnection } from '../../functions/scorer/store/aws-clients.js';
import { startTypeScriptThread } from './typescript-thread.js';

export interface PartWorkerData {
  readonly binding: DeploymentBinding;
  readonly modelDir: string;
  readonly s3: AwsConnection;
  readonly dynamoDb: AwsConnection;
  readonly deploymentsTable: string;
  readonly maxRecordBytes?: number;
  readonly microBatch?: number;
}

/** One part to score; a worker scores one at a time, so its reply is the answer to its request. */
export interface PartWorkerRequest {
  readonly item: BulkPartItem;
}

export type PartWorkerReply =
  | { readonly result: BulkPartResult }
  | { readonly error: string; readonly changed?: { readonly bucket: string; readonly key: string; readonly eTag: string } };

interface Job {
  readonly request: PartWorkerRequest;
  readonly resolve: (result: BulkPartResult) => void;
  readonly reject: (error: Error) => void;
}

export interface PartWorkerPool {
  readonly runParts: PartRunner;
  close(): Promise<void>;
}

export function createPartWorkerPool(data: PartWorkerData, size: number): PartWorkerPool {
  const queue: Job[] = [];
  const workers: { thread: Worker; job?: Job }[] = [];
  let closed = false;

  function startWorker() {
    const slot: { thread: Worker; job?: Job } = { thread: startTypeScriptThread(new URL('./part-worker.ts', import.meta.url), data) };
    slot.thread.unref(); // never what keeps the process alive
    slot.thread.on('message', (reply: PartWorkerReply) => {
      const job = slot.job;
      slot.job = undefined;
      if (job) {
        if ('result' in reply) job.resolve(reply.result);
        else job.reject(reply.changed ? new ObjectChangedError(reply.changed.bucket, reply.changed.key, reply.changed.eTag) : new Error(reply.error));
      }
      pump();
    });
    const fail = (reason: string) => {
      workers.splice(workers.indexOf(slot), 1);
      slot.job?.reject(new Error(`a part worker stopped: ${reason}`));
      slot.job = undefined;
      pump();
    };
    slot.thread.on('error', (error) => fail(error.message));
    slot.thread.on('exit', (code) => workers.includes(slot) && fail(`exit code ${code}`));
    workers.push(slot);
  }

  function pump() {
    if (closed) return;
    while (queue.length > 0) {
      let idle = workers.find((w) => !w.job);
      if (!idle && workers.length < size) {
        startWorker();
        idle = workers[workers.length - 1];
      }
      if (!idle) return;
      idle.job = queue.shift()!;
      idle.thread.postMessage(idle.job.request);
    }
  }

  return {
    runParts(items) {
      if (closed) return Promise.reject(new Error('the part worker pool is closed'));
      const results = items.map((item) => new Promise<BulkPartResult>((resolve, reject) => queue.push({ request: { item }, resolve, reject })));
      pump();
      return Promise.all(results);
    },

    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new Error('the part worker pool closed'));
      await Promise.all(workers.splice(0).map(async (w) => {
        w.job?.reject(new Error('the part worker pool closed'));
        await w.thread.terminate();
      }));
    },
  };
}
