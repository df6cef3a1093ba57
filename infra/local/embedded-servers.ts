/**
 * The embedded local stack's servers: s3rver (S3) and dynalite (DynamoDB), both
 * pure Node, on 127.0.0.1, their data kept under one folder so a restart
 * loses nothing. An edge port routes each request by the service it is
 * signed for, so one endpoint URL serves S3 and DynamoDB, as LocalStack does.
 *
 * Each runs in a thread of its own (servers-thread.ts): the stand-ins for S3
 * and DynamoDB then take no time from the scorers' thread, as in the cloud,
 * and a bulk drop keeps every core busy.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HostMessage, ServerThreadOptions, ThreadMessage } from './servers-thread.js';

export const LOCAL_HOST = '127.0.0.1';
/** s3rver checks SigV4 signatures against this fixed key pair (dynalite accepts any). */
export const LOCAL_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

export interface EmbeddedServersOptions {
  readonly dataDir: string;
  /** 0 picks a free port. */
  readonly edgePort: number;
}

export interface EmbeddedServers {
  /** One endpoint for both services. */
  readonly endpoint: string;
  readonly s3Endpoint: string;
  readonly dynamoDbEndpoint: string;
  /** s3rver's raw event notifications (not yet in the real S3 shape). */
  onS3Event(listener: (event: unknown) => void): void;
  /**
   * Resolves once the listeners have had the events of every S3 request answered
   * so far. s3rver posts an object's event before it answers the request, and a
   * thread's messages arrive in order: a round trip to the S3 thread is enough.
   */
  flushS3Events(): Promise<void>;
  close(): Promise<void>;
}

interface ServerThread {
  readonly port: number;
  readonly edgePort?: number;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function startEmbeddedServers(options: EmbeddedServersOptions): Promise<EmbeddedServers> {
  const listeners: ((event: unknown) => void)[] = [];
  const s3 = await startServerThread({ serve: 's3', dataDir: options.dataDir }, (event) => {
    for (const listener of listeners) listener(event);
  });
  let dynamo: ServerThread;
  try {
    dynamo = await startServerThread({ serve: 'dynamodb+edge', dataDir: options.dataDir, edgePort: options.edgePort, s3Port: s3.port });
  } catch (error) {
    await s3.close();
    throw error;
  }
  const url = (port: number | undefined) => `http://${LOCAL_HOST}:${port}`;
  return {
    endpoint: url(dynamo.edgePort),
    s3Endpoint: url(s3.port),
    dynamoDbEndpoint: url(dynamo.port),
    onS3Event: (listener) => void listeners.push(listener),
    flushS3Events: () => s3.flush(),
    close: async () => void (await Promise.all([dynamo.close(), s3.close()])),
  };
}

async function startServerThread(options: ServerThreadOptions, onS3Event?: (event: unknown) => void): Promise<ServerThread> {
  const thread = startTypeScriptThread(new URL('./servers-thread.ts', import.meta.url), options);
  const flushes: (() => void)[] = [];
  const ready = await new Promise<Extract<ThreadMessage, { type: 'ready' }>>((resolve, reject) => {
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`the embedded ${options.serve} server's thread exited (code ${code}) before it was ready`)));
    thread.on('message', (message: ThreadMessage) => {
      if (message.type === 'ready') resolve(message);
      else if (message.type === 'failed') reject(new Error(`the embedded ${options.serve} server did not start: ${message.reason}`));
      else if (message.type === 'flushed') flushes.shift()?.();
      else onS3Event?.(message.event);
    });
  });
  thread.removeAllListeners('error').removeAllListeners('exit');
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  return {
    port: ready.port,
    edgePort: ready.edgePort,
    flush: () =>
      new Promise<void>((resolve) => {
        flushes.push(resolve);
        thread.postMessage({ type: 'flush' } satisfies HostMessage);
      }),
    async close() {
      thread.postMessage({ type: 'close' } satisfies HostMessage);
      await exited;
    },
  };
}

/**
 * The project runs TypeScript through tsx, whose loader a worker thread does
 * not inherit: the thread registers it before importing its entry.
 */
function startTypeScriptThread(entry: URL, workerData: ServerThreadOptions): Worker {
  const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
