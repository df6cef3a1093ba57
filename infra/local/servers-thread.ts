/**
 * Runs one side of the embedded stack in a worker thread (started by
 * embedded-servers.ts): the S3 server with its event journal, or DynamoDB
 * (dynalite) behind the edge port. Tells the host its endpoint, forwards
 * S3 event notifications, and closes its servers when asked.
 *
 * dynalite checks no signature, so it gets requests only from the edge, which
 * verifies each DynamoDB request's SigV4 signature first and hands it to
 * dynalite's request handler in this thread (dynalite also listens on a Unix
 * socket in a private folder, only so that closing it closes its database).
 * S3 requests are passed to the S3 server, which verifies its own (the
 * stack's own clients call it directly).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';
import { sha256Hex, verifySigV4, type KeyPair } from './auth/sigv4-verifier.js';
import { comesFromWebPage, isAddressedToLoopback } from './auth/web-page-guard.js';
import { openEventJournal, type JournaledEvent } from './event-journal.js';
import { openBucketStore } from './s3/bucket-store.js';
import { createNotifier, type S3Notification } from './s3/s3-notification.js';
import { createS3Server } from './s3/s3-server.js';

// Not imported from embedded-servers.ts: this thread must not load the host's module.
const HOST = '127.0.0.1';
// DynamoDB's own ceiling for a request body.
const MAX_DYNAMODB_BODY_BYTES = 16 * 1024 * 1024;

export type ServerThreadOptions =
  | { readonly serve: 's3'; readonly dataDir: string; readonly keys: KeyPair; readonly region: string }
  /** DynamoDB, and the edge port (0 picks a free one) that routes to it or to S3. */
  | { readonly serve: 'dynamodb+edge'; readonly dataDir: string; readonly keys: KeyPair; readonly edgePort: number; readonly s3Port: number };

export type ThreadMessage =
  /** The S3 thread's `unfinished`: events a previous run journaled but had not finished delivering. */
  | { readonly type: 'ready'; readonly port: number; readonly edgePort?: number; readonly unfinished?: readonly JournaledEvent<S3Notification>[] }
  | { readonly type: 'failed'; readonly reason: string }
  | { readonly type: 's3-event'; readonly event: JournaledEvent<S3Notification> }
  /** The answer to a `flush`: every event posted before it has been posted. */
  | { readonly type: 'flushed' };

/** What the host asks of a thread. */
export type HostMessage = { readonly type: 'close' } | { readonly type: 'flush' } | { readonly type: 'done'; readonly seqs: readonly number[] };

interface Running {
  close(): Promise<void>;
  onDone?(seqs: readonly number[]): void;
}

async function serveS3(options: Extract<ServerThreadOptions, { serve: 's3' }>, post: (message: ThreadMessage) => void): Promise<Running> {
  mkdirSync(options.dataDir, { recursive: true });
  const journal = openEventJournal<S3Notification>(join(options.dataDir, 's3-events.jsonl'));
  const notificationOf = createNotifier(options.region);
  const store = await openBucketStore(join(options.dataDir, 's3-store'), (created) => {
    const record = notificationOf(created, HOST);
    // Journaled before the object is in place: no crash can leave an object without its event
    // (one left with an event but no object is delivered again and finds nothing new to score).
    const seq = journal.append(record);
    return () => post({ type: 's3-event', event: { seq, record } });
  });
  const server = createS3Server({ store, keys: options.keys, region: options.region });
  await listen(server, 0);
  post({ type: 'ready', port: (server.address() as AddressInfo).port, unfinished: journal.replay });
  return {
    close: async () => {
      await closeServer(server);
      journal.close();
    },
    onDone: (seqs) => journal.markDone(seqs),
  };
}

async function serveDynamoDbAndEdge(options: Extract<ServerThreadOptions, { serve: 'dynamodb+edge' }>, post: (message: ThreadMessage) => void): Promise<Running> {
  const path = join(options.dataDir, 'dynamodb');
  mkdirSync(path, { recursive: true });
  // A Unix socket in a folder only this user can enter: no unauthenticated port exists.
  const socketDir = mkdtempSync(join(tmpdir(), 'dropscore-'));
  const socketPath = join(socketDir, 'dynamodb.sock');
  const dynamo: Server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => dynamo.once('error', reject).listen(socketPath, () => resolve()));
  const handleDynamoDb = dynamo.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
  const edge = createServer((req, res) => {
    routeAtEdge(req, res, options.keys, handleDynamoDb, options.s3Port).catch((error: unknown) => {
      if (!res.headersSent) dynamoDbError(res, 500, 'InternalServerError', error instanceof Error ? error.message : String(error));
      else res.destroy();
    });
  });
  await listen(edge, options.edgePort).catch(async (error: Error) => {
    await closeServer(dynamo);
    rmSync(socketDir, { recursive: true, force: true });
    throw new Error(`edge port ${options.edgePort}: ${error.message}`);
  });
  post({ type: 'ready', port: (edge.address() as AddressInfo).port, edgePort: (edge.address() as AddressInfo).port });
  return {
    close: async () => {
      await Promise.all([closeServer(edge), closeServer(dynamo)]);
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

/** DynamoDB requests are verified here and passed to dynalite; anything else goes to the S3 server, which verifies its own. */
async function routeAtEdge(req: IncomingMessage, res: ServerResponse, keys: KeyPair, handleDynamoDb: (req: IncomingMessage, res: ServerResponse) => void, s3Port: number): Promise<void> {
  if (!isDynamoDbRequest(req)) return forward(req, res, { host: HOST, port: s3Port }, req);
  if (!isAddressedToLoopback(req) || comesFromWebPage(req) || req.method !== 'POST') {
    return dynamoDbError(res, 400, 'AccessDeniedException', 'the embedded DynamoDB answers only signed POSTs to 127.0.0.1 or localhost, never web pages');
  }
  const body = await readBody(req, MAX_DYNAMODB_BODY_BYTES);
  if (!body) return dynamoDbError(res, 413, 'RequestEntityTooLarge', 'Request must be smaller than 16 MiB');
  const verdict = verifySigV4({ method: 'POST', rawPath: (req.url ?? '/').split('?')[0]!, query: {}, headers: req.headers, bodySha256: sha256Hex(body) }, keys);
  if (!verdict.ok) {
    const [code, message] = {
      missing: ['MissingAuthenticationTokenException', 'Request is missing Authentication Token'],
      'unknown-key': ['UnrecognizedClientException', 'The security token included in the request is invalid.'],
      'bad-signature': ['InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.'],
      expired: ['InvalidSignatureException', 'Signature expired.'],
      skewed: ['InvalidSignatureException', `Signature expired: ${verdict.message}`],
      malformed: ['IncompleteSignatureException', verdict.message],
    }[verdict.reason];
    return dynamoDbError(res, 400, code!, message!);
  }
  // The body was read to check its hash: dynalite reads it again from a replay of the request.
  const replay = Object.assign(Readable.from([body]), { headers: req.headers, method: req.method, url: req.url });
  handleDynamoDb(replay as unknown as IncomingMessage, res);
}

/** SigV4 names the service in the credential scope: `Credential=AKID/20260101/us-east-1/dynamodb/aws4_request`. */
function isDynamoDbRequest(req: IncomingMessage): boolean {
  const auth = req.headers.authorization ?? '';
  const target = req.headers['x-amz-target'];
  return /\/dynamodb\/aws4_request/.test(auth) || (typeof target === 'string' && target.startsWith('DynamoDB_'));
}

function dynamoDbError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message });
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function forward(req: IncomingMessage, res: ServerResponse, to: { host: string; port: number }, body: IncomingMessage): void {
  // Headers pass unchanged (Host included): the S3 server checks the signature over them.
  const upstream = request({ ...to, method: req.method, path: req.url, headers: req.headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`local stack edge: upstream error: ${error.message}`);
  });
  body.pipe(upstream);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

if (parentPort) {
  const host = parentPort;
  const post = (message: ThreadMessage) => host.postMessage(message);
  const options = workerData as ServerThreadOptions;
  const started = options.serve === 's3' ? serveS3(options, post) : serveDynamoDbAndEdge(options, post);
  started.then(
    (running) => host.on('message', (message: HostMessage) => {
      // Closing the servers and the port lets the thread end on its own.
      if (message.type === 'close') void running.close().then(() => host.close());
      else if (message.type === 'done') running.onDone?.(message.seqs);
      else post({ type: 'flushed' });
    }),
    (error: unknown) => {
      post({ type: 'failed', reason: error instanceof Error ? error.message : String(error) });
      process.exit(1); // ends this thread only, with whatever servers did start
    },
  );
}
