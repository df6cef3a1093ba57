/**
 * Runs s3rver, dynalite and the edge port in a worker thread (started by
 * embedded-servers.ts): tells the host its endpoints, forwards s3rver's event
 * notifications, and closes the servers when asked.
 */
import { mkdirSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';
import S3rver from 's3rver';

// Not imported from embedded-servers.ts: this thread must not load the host's module.
const HOST = '127.0.0.1';

export interface ServersThreadOptions {
  readonly dataDir: string;
  /** 0 picks a free port. */
  readonly edgePort: number;
}

export interface ServersReady {
  readonly type: 'ready';
  readonly endpoint: string;
  readonly s3Endpoint: string;
  readonly dynamoDbEndpoint: string;
}

export type ThreadMessage = ServersReady | { readonly type: 'failed'; readonly reason: string } | { readonly type: 's3-event'; readonly event: unknown };

async function serve(options: ServersThreadOptions, post: (message: ThreadMessage) => void): Promise<() => Promise<void>> {
  const s3Dir = join(options.dataDir, 's3');
  const dynamoDir = join(options.dataDir, 'dynamodb');
  mkdirSync(s3Dir, { recursive: true });
  mkdirSync(dynamoDir, { recursive: true });

  const s3rver = new S3rver({ address: HOST, port: 0, directory: s3Dir, silent: process.env['S3RVER_DEBUG'] !== '1' });
  const s3Address = (await s3rver.run()) as AddressInfo;
  s3rver.on('event', (event: unknown) => post({ type: 's3-event', event }));
  const dynamo: Server = dynalite({ path: dynamoDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listen(dynamo, 0);
  const dynamoPort = (dynamo.address() as AddressInfo).port;

  const edge = createServer((req, res) => forward(req, res, isDynamoDbRequest(req) ? dynamoPort : s3Address.port));
  await listen(edge, options.edgePort);
  const edgePort = (edge.address() as AddressInfo).port;

  post({
    type: 'ready',
    endpoint: `http://${HOST}:${edgePort}`,
    s3Endpoint: `http://${HOST}:${s3Address.port}`,
    dynamoDbEndpoint: `http://${HOST}:${dynamoPort}`,
  });
  return async () => {
    await Promise.all([closeServer(edge), closeServer(dynamo), closeServer((s3rver as unknown as { httpServer: Server }).httpServer)]);
  };
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
  serve(workerData as ServersThreadOptions, post).then(
    (close) => host.on('message', (message: { type: string }) => {
      // Closing the servers and the port lets the thread end on its own.
      if (message.type === 'close') void close().then(() => host.close());
    }),
    (error: unknown) => {
      post({ type: 'failed', reason: error instanceof Error ? error.message : String(error) });
      process.exit(1); // ends this thread only, with whatever servers did start
    },
  );
}
