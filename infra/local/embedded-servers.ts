/**
 * The embedded local stack's servers: s3rver (S3) and dynalite (DynamoDB), both
 * pure Node, on 127.0.0.1, their data kept under one folder so a restart
 * loses nothing. An edge port routes each request by the service it is
 * signed for, so one endpoint URL serves S3 and DynamoDB, as LocalStack does.
 *
 * They run in a thread of their own (servers-thread.ts): the stand-ins for
 * S3 and DynamoDB then take no CPU from the scorers, as in the cloud, and a
 * bulk drop keeps both cores busy.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ServersReady, ServersThreadOptions, ThreadMessage } from './servers-thread.js';

export const LOCAL_HOST = '127.0.0.1';
/** s3rver checks SigV4 signatures against this fixed key pair (dynalite accepts any). */
export const LOCAL_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

export type EmbeddedServersOptions = ServersThreadOptions;

export interface EmbeddedServers {
  /** One endpoint for both services. */
  readonly endpoint: string;
  readonly s3Endpoint: string;
  readonly dynamoDbEndpoint: string;
  /** s3rver's raw event notifications (not yet in the real S3 shape). */
  onS3Event(listener: (event: unknown) => void): void;
  close(): Promise<void>;
}

export async function startEmbeddedServers(options: EmbeddedServersOptions): Promise<EmbeddedServers> {
  const thread = startThread(new URL('./servers-thread.ts', import.meta.url), options);
  const listeners: ((event: unknown) => void)[] = [];
  const ready = await new Promise<ServersReady>((resolve, reject) => {
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`the embedded servers' thread exited (code ${code}) before it was ready`)));
    thread.on('message', (message: ThreadMessage) => {
      if (message.type === 'ready') resolve(message);
      else if (message.type === 'failed') reject(new Error(`the embedded servers did not start: ${message.reason}`));
      else if (message.type === 's3-event') for (const listener of listeners) listener(message.event);
    });
  });
  thread.removeAllListeners('error').removeAllListeners('exit');
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  return {
    endpoint: ready.endpoint,
    s3Endpoint: ready.s3Endpoint,
    dynamoDbEndpoint: ready.dynamoDbEndpoint,
    onS3Event: (listener) => void listeners.push(listener),
    async close() {
      thread.postMessage({ type: 'close' });
      await exited;
    },
  };
}

/**
 * The project runs TypeScript through tsx, whose loader a worker thread does
 * not inherit: the thread registers it before importing its entry.
 */
function startThread(entry: URL, workerData: ServersThreadOptions): Worker {
  const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
