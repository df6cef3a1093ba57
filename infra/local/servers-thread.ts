/**
 * Runs one of the embedded servers in a worker thread (started by
 * embedded-servers.ts): s3rver, or dynalite with the edge port. Tells the host
 * its endpoint, forwards s3rver's event notifications, and closes its servers
 * when asked.
 */
import { mkdirSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { makeObjectsAtomic, type S3rverStore } from './s3rver-atomic-objects.js';

// Not imported from embedded-servers.ts: this thread must not load the host's module.
const HOST = '127.0.0.1';

export type ServerThreadOptions =
  | { readonly serve: 's3'; readonly dataDir: string }
  /** DynamoDB, and the edge port (0 picks a free one) that routes to it or to S3. */
  | { readonly serve: 'dynamodb+edge'; readonly dataDir: string; readonly edgePort: number; readonly s3Port: number };

export type ThreadMessage =
  | { readonly type: 'ready'; readonly port: number; readonly edgePort?: number }
  | { readonly type: 'failed'; readonly reason: string }
  | { readonly type: 's3-event'; readonly event: unknown }
  /** The answer to a `flush`: every event posted before it has been posted. */
  | { readonly type: 'flushed' };

/** What the host asks of a thread. */
export type HostMessage = { readonly type: 'close' } | { readonly type: 'flush' };

type Close = () => Promise<void>;

async function serveS3(dataDir: string, post: (message: ThreadMessage) => void): Promise<Close> {
  const directory = join(dataDir, 's3');
  mkdirSync(directory, { recursive: true });
  const s3rver = new S3rver({ address: HOST, port: 0, directory, silent: process.env['S3RVER_DEBUG'] !== '1' });
  makeObjectsAtomic((s3rver as unknown as { store: S3rverStore }).store);
  const { port } = (await s3rver.run()) as AddressInfo;
  s3rver.on('event', (event: unknown) => post({ type: 's3-event', event }));
  post({ type: 'ready', port });
  return () => closeServer((s3rver as unknown as { httpServer: Server }).httpServer);
}

async function serveDynamoDbAndEdge(dataDir: string, edgePort: number, s3Port: number, post: (message: ThreadMessage) => void): Promise<Close> {
  const path = join(dataDir, 'dynamodb');
  mkdirSync(path, { recursive: true });
  const dynamo: Server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listen(dynamo, 0);
  const port = (dynamo.address() as AddressInfo).port;
  const edge = createServer((req, res) => forward(req, res, isDynamoDbRequest(req) ? port : s3Port));
  await listen(edge, edgePort).catch((error: Error) => {
    throw new Error(`edge port ${edgePort}: ${error.message}`);
  });
  post({ type: 'ready', port, edgePort: (edge.address() as AddressInfo).port });
  return async () => void (await Promise.all([closeServer(edge), closeServer(dynamo)]));
}

/** SigV4 names the service in the credential scope: `Credential=AKID/20260101/us-east-1/dynamodb/aws4_request`. */
function isDynamoDbRequest(req: IncomingMessage): boolean {
  const auth = req.headers.authorization ?? '';
  const target = req.headers['x-amz-target'];
  return /\/dynamodb\/aws4_request/.test(auth) || (typeof target === 'string' && target.startsWith('DynamoDB_'));
}

function forward(req: IncomingMessage, res: ServerResponse, port: number): void {
  // Headers pass unchanged (Host included): the signature covers them.
  const upstream = request({ host: HOST, port, method: req.method, path: req.url, headers: req.headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`local stack edge: upstream error: ${error.message}`);
  });
  req.pipe(upstream);
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
  const started = options.serve === 's3' ? serveS3(options.dataDir, post) : serveDynamoDbAndEdge(options.dataDir, options.edgePort, options.s3Port, post);
  started.then(
    (close) => host.on('message', (message: HostMessage) => {
      // Closing the servers and the port lets the thread end on its own.
      if (message.type === 'close') void close().then(() => host.close());
      else post({ type: 'flushed' });
    }),
    (error: unknown) => {
      post({ type: 'failed', reason: error instanceof Error ? error.message : String(error) });
      process.exit(1); // ends this thread only, with whatever servers did start
    },
  );
}
