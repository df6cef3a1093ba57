/**
 * The embedded local stack's servers: our own S3 (s3/) and dynalite
 * (DynamoDB), both pure Node, on 127.0.0.1, their data kept under one folder
 * so a restart loses nothing. An edge port routes each request by the service
 * it is signed for, so one endpoint URL serves S3 and DynamoDB, as LocalStack
 * does. Both check every request's SigV4 signature against the stack's key pair.
 *
 * Each runs in a thread of its own (servers-thread.ts): the stand-ins for S3
 * and DynamoDB then take no time from the scorers' thread, as in the cloud,
 * and a bulk drop keeps every core busy.
 */
import type { KeyPair } from './auth/sigv4-verifier.js';
import type { JournaledEvent } from './event-journal.js';
import type { S3Notification } from './s3/s3-notification.js';
import type { HostMessage, ServerThreadOptions, ThreadMessage } from './servers-thread.js';
import { startTypeScriptThread } from './typescript-thread.js';

export const LOCAL_HOST = '127.0.0.1';

export interface EmbeddedServersOptions {
  readonly dataDir: string;
  /** 0 picks a free port. */
  readonly edgePort: number;
  /** The one key pair requests must be signed with. */
  readonly keys: KeyPair;
  readonly region: string;
}

export interface EmbeddedServers {
  /** One endpoint for both services. */
  readonly endpoint: string;
  readonly s3Endpoint: string;
  readonly dynamoDbEndpoint: string;
  /** Events a previous run journaled but had not finished delivering (a crash): deliver them again. */
  readonly unfinishedS3Events: readonly JournaledEvent<S3Notification>[];
  /** New S3 event notifications, in the real shape, each with its journal number. */
  onS3Event(listener: (event: JournaledEvent<S3Notification>) => void): void;
  /** Marks events delivered (an outcome, or a dead letter): they are not replayed after a restart. */
  markDelivered(seqs: readonly number[]): void;
  /**
   * Resolves once the listeners have had the events of every S3 request answered
   * so far. The S3 server posts an object's event before it answers the request, and a
   * thread's messages arrive in order: a round trip to the S3 thread is enough.
   */
  flushS3Events(): Promise<void>;
  close(): Promise<void>;
}

interface ServerThread {
  readonly port: number;
  readonly edgePort?: number;
  readonly unfinished?: readonly JournaledEvent<S3Notification>[];
  flush(): Promise<void>;
  tell(message: HostMessage): void;
  close(): Promise<void>;
}

export async function startEmbeddedServers(options: EmbeddedServersOptions): Promise<EmbeddedServers> {
  const listeners: ((event: JournaledEvent<S3Notification>) => void)[] = [];
  const s3 = await startServerThread({ serve: 's3', dataDir: options.dataDir, keys: options.keys, region: options.region }, (event) => {
    for (const listener of listeners) listener(event);
  });
  let dynamo: ServerThread;
  try {
    dynamo = await startServerThread({ serve: 'dynamodb+edge', dataDir: options.dataDir, keys: options.keys, edgePort: options.edgePort, s3Port: s3.port });
  } catch (error) {
    await s3.close();
    throw error;
  }
  const url = (port: number | undefined) => `http://${LOCAL_HOST}:${port}`;
  return {
    endpoint: url(dynamo.edgePort),
    s3Endpoint: url(s3.port),
    dynamoDbEndpoint: url(dynamo.port),
    unfinishedS3Events: s3.unfinished ?? [],
    onS3Event: (listener) => void listeners.push(listener),
    markDelivered: (seqs) => s3.tell({ type: 'done', seqs }),
    flushS3Events: () => s3.flush(),
    close: async () => void (await Promise.all([dynamo.close(), s3.close()])),
  };
}

async function startServerThread(options: ServerThreadOptions, onS3Event?: (event: JournaledEvent<S3Notification>) => void): Promise<ServerThread> {
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
    unfinished: ready.unfinished,
    flush: () =>
      new Promise<void>((resolve) => {
        flushes.push(resolve);
        thread.postMessage({ type: 'flush' } satisfies HostMessage);
      }),
    tell: (message) => thread.postMessage(message),
    async close() {
      thread.postMessage({ type: 'close' } satisfies HostMessage);
      await exited;
    },
  };
}
