/**
 * The embedded local stack's servers: s3rver (S3) and dynalite (DynamoDB), both
 * pure Node, on 127.0.0.1, their data kept under one folder so a restart
 * loses nothing. An edge port routes each request by the service it is
 * signed for, so one endpoint URL serves S3 and DynamoDB, as LocalStack does.
 */
import { mkdirSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import S3rver from 's3rver';

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
  close(): Promise<void>;
}

export async function startEmbeddedServers(options: EmbeddedServersOptions): Promise<EmbeddedServers> {
  const s3Dir = join(options.dataDir, 's3');
  const dynamoDir = join(options.dataDir, 'dynamodb');
  mkdirSync(s3Dir, { recursive: true });
  mkdirSync(dynamoDir, { recursive: true });

  const s3rver = new S3rver({ address: LOCAL_HOST, port: 0, directory: s3Dir, silent: process.env['S3RVER_DEBUG'] !== '1' });
  const s3Address = (await s3rver.run()) as AddressInfo;
  const dynamo: Server = dynalite({ path: dynamoDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listen(dynamo, 0);
  const dynamoPort = (dynamo.address() as AddressInfo).port;

  const edge = createServer((req, res) => forward(req, res, isDynamoDbRequest(req) ? dynamoPort : s3Address.port));
  await listen(edge, options.edgePort);
  const edgePort = (edge.address() as AddressInfo).port;

  return {
    endpoint: `http://${LOCAL_HOST}:${edgePort}`,
    s3Endpoint: `http://${LOCAL_HOST}:${s3Address.port}`,
    dynamoDbEndpoint: `http://${LOCAL_HOST}:${dynamoPort}`,
    onS3Event: (listener) => void s3rver.on('event', listener),
    async close() {
      await Promise.all([closeServer(edge), closeServer(dynamo), closeServer((s3rver as unknown as { httpServer: Server }).httpServer)]);
    },
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
  const upstream = request({ host: LOCAL_HOST, port, method: req.method, path: req.url, headers: req.headers }, (up) => {
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
    server.listen(port, LOCAL_HOST, () => {
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
