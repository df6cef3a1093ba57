/**
 * HTTP requests to the embedded stack as any client could send them: signed
 * with SigV4 by the SDK's own signer (or not at all), with bodies that may
 * differ from what was signed, streamed, or presigned into the URL.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request } from 'node:http';
import type { Readable } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';
import type { KeyPair } from '../../infra/local/auth/sigv4-verifier.js';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface RawRequest {
  readonly method: string;
  /** Already percent-encoded, as it goes on the wire. */
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer | Readable;
}

/** The hash the signer wants: SHA-256, or HMAC-SHA256 when given a secret. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: Uint8Array | string) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }
  update(data: Uint8Array | string): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

export function signer(keys: KeyPair, service: 's3' | 'dynamodb', region = 'us-east-1'): SignatureV4 {
  return new SignatureV4({ credentials: keys, region, service, sha256: NodeSha256 as never, uriEscapePath: service !== 's3', applyChecksum: service === 's3' });
}

/** Signs `signed` (the body hash included, unless a header sets it) and sends `sent` with it. */
export async function signedRequest(endpoint: string, keys: KeyPair, signed: RawRequest & { readonly service?: 's3' | 'dynamodb' }, sent: Partial<RawRequest> = {}): Promise<RawResponse> {
  const url = new URL(endpoint);
  const service = signed.service ?? 's3';
  const bodyForHash = typeof signed.body === 'string' || Buffer.isBuffer(signed.body) ? signed.body : undefined;
  const headers: Record<string, string> = { host: url.host, ...signed.headers };
  if (service === 's3' && !headers['x-amz-content-sha256']) {
    headers['x-amz-content-sha256'] = bodyForHash === undefined ? 'UNSIGNED-PAYLOAD' : createHash('sha256').update(bodyForHash).digest('hex');
  }
  const signedOne = await signer(keys, service).sign({
    method: signed.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: signed.path,
    query: signed.query ?? {},
    headers,
    body: bodyForHash,
  } as never);
  return send(endpoint, { ...signed, headers: (signedOne as unknown as { headers: Record<string, string> }).headers, ...sent });
}

/** A presigned URL's path and query for a request, as the SDK's presigner makes them. */
export async function presign(endpoint: string, keys: KeyPair, method: string, path: string, expiresIn: number, signingDate = new Date()): Promise<string> {
  const url = new URL(endpoint);
  // As S3 presigners do: the body is not signed (the hash travels hoisted into the query).
  const headers = { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  const presigned = (await signer(keys, 's3').presign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query: {}, headers } as never, { expiresIn, signingDate })) as { query: Record<string, string> };
  return `${path}?${Object.entries(presigned.query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

export function send(endpoint: string, raw: RawRequest): Promise<RawResponse> {
  const url = new URL(endpoint);
  const query = raw.query && Object.keys(raw.query).length > 0 ? `?${Object.entries(raw.query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : '';
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: raw.method, path: raw.path + query, headers: raw.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (raw.body === undefined) req.end();
    else if (typeof raw.body === 'string' || Buffer.isBuffer(raw.body)) req.end(raw.body);
    else raw.body.pipe(req);
  });
}
