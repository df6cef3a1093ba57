/**
 * Checks AWS Signature Version 4 the way S3 and DynamoDB do, for the embedded
 * stack's one key pair: an Authorization header, or a presigned URL's query.
 * A request that is unsigned, signed with another key or secret, too old, or
 * whose signed parts were changed is refused with the service's own error code.
 *
 * The canonical request follows the SigV4 specification; the query is
 * canonicalised by the SDK's own signer helper, so both ends encode alike.
 * S3 signs the path as sent (no normalisation, no double encoding): keys like
 * `a/../b` or `a//b` stay distinct, as they are on S3.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { getCanonicalQuery } from '@smithy/signature-v4';

export interface KeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface SignedRequest {
  readonly method: string;
  /** The path exactly as sent, still percent-encoded, without the query. */
  readonly rawPath: string;
  readonly query: Readonly<Record<string, string | string[]>>;
  /** Lower-case names, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * The payload's SHA-256 as hex, for services that sign the body itself
   * (DynamoDB). S3 takes it from `x-amz-content-sha256` instead.
   */
  readonly bodySha256?: string;
}

export type Verdict =
  | { readonly ok: true; readonly service: string; readonly region: string; readonly payloadHash: string }
  | { readonly ok: false; readonly reason: AuthFailure; readonly message: string };

export type AuthFailure = 'missing' | 'malformed' | 'unknown-key' | 'bad-signature' | 'expired' | 'skewed';

const ALGORITHM = 'AWS4-HMAC-SHA256';
// Both services refuse a request whose time is further than this from theirs.
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;

interface Parsed {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: string[];
  readonly signature: string;
  readonly amzDate: string;
  readonly expiresSeconds?: number;
}

export function verifySigV4(request: SignedRequest, keys: KeyPair, now: Date = new Date()): Verdict {
  const parsed = parseAuthorization(request);
  if ('reason' in parsed) return { ok: false, ...parsed };
  if (parsed.accessKeyId !== keys.accessKeyId) {
    return refuse('unknown-key', `the access key ID ${parsed.accessKeyId} does not exist in this stack's records`);
  }
  const signedAt = parseAmzDate(parsed.amzDate);
  if (!signedAt || !parsed.amzDate.startsWith(parsed.date)) return refuse('malformed', `invalid request date ${parsed.amzDate}`);
  if (parsed.expiresSeconds === undefined) {
    if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_SKEW_MS) {
      return refuse('skewed', `the difference between the request time (${parsed.amzDate}) and the server's time is too large`);
    }
  } else if (now.getTime() > signedAt.getTime() + parsed.expiresSeconds * 1000) {
    return refuse('expired', 'the presigned request has expired');
  }
  const payloadHash = payloadHashOf(request, parsed);
  if (payloadHash === undefined) return refuse('malformed', 'the request has no x-amz-content-sha256 header');
  const canonicalRequest = [
    request.method,
    request.rawPath,
    getCanonicalQuery({ query: request.query } as never),
    ...parsed.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}`),
    '',
    parsed.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${parsed.date}/${parsed.region}/${parsed.service}/aws4_request`;
  const stringToSign = [ALGORITHM, parsed.amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${keys.secretAccessKey}`, parsed.date);
  for (const part of [parsed.region, parsed.service, 'aws4_request']) key = hmac(key, part);
  const expected = Buffer.from(hmac(key, stringToSign).toString('hex'));
  const given = Buffer.from(parsed.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return refuse('bad-signature', 'the request signature does not match the signature computed with the stack\'s secret key; check your key and signing method');
  }
  return { ok: true, service: parsed.service, region: parsed.region, payloadHash };
}

function parseAuthorization(request: SignedRequest): Parsed | { reason: AuthFailure; message: string } {
  const header = single(request.headers['authorization']);
  const queryAlgorithm = single(request.query['X-Amz-Algorithm']);
  if (header !== undefined && queryAlgorithm !== undefined) return { reason: 'malformed', message: 'only one authentication mechanism is allowed' };
  if (header !== undefined) {
    const match = /^AWS4-HMAC-SHA256 +Credential=([^,]+), *SignedHeaders=([^,]+), *Signature=([0-9a-f]{64})$/.exec(header.trim());
    if (!match) return { reason: 'malformed', message: 'the Authorization header is not a valid AWS4-HMAC-SHA256 signature' };
    const credential = parseCredential(match[1]!);
    const amzDate = single(request.headers['x-amz-date']);
    if (!credential || amzDate === undefined) return { reason: 'malformed', message: 'the Authorization header has no valid credential scope or the request no x-amz-date' };
    return { ...credential, signedHeaders: match[2]!.split(';'), signature: match[3]!, amzDate };
  }
  if (queryAlgorithm !== undefined) {
    if (queryAlgorithm !== ALGORITHM) return { reason: 'malformed', message: `unsupported signing algorithm ${queryAlgorithm}` };
    const credential = parseCredential(single(request.query['X-Amz-Credential']) ?? '');
    const amzDate = single(request.query['X-Amz-Date']);
    const signature = single(request.query['X-Amz-Signature']) ?? '';
    const signedHeaders = single(request.query['X-Amz-SignedHeaders']);
    const expires = Number(single(request.query['X-Amz-Expires']));
    if (!credential || amzDate === undefined || signedHeaders === undefined || !/^[0-9a-f]{64}$/.test(signature) || !Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_SECONDS) {
      return { reason: 'malformed', message: 'the presigned URL is missing or has invalid X-Amz-* parameters' };
    }
    return { ...credential, signedHeaders: signedHeaders.split(';'), signature, amzDate, expiresSeconds: expires };
  }
  return { reason: 'missing', message: 'the request is not signed: sign it with AWS Signature Version 4 and the stack\'s key pair' };
}

function parseCredential(credential: string) {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]!) || !parts[0] || !parts[2] || !parts[3]) return undefined;
  return { accessKeyId: parts[0], date: parts[1]!, region: parts[2], service: parts[3] };
}

function payloadHashOf(request: SignedRequest, parsed: Parsed): string | undefined {
  if (parsed.service === 's3') {
    const declared = single(request.headers['x-amz-content-sha256']);
    if (parsed.expiresSeconds === undefined) return declared;
    // A presigned URL's body is unsigned, unless it says otherwise (a hash hoisted into its query).
    const hoisted = Object.keys(request.query).find((name) => name.toLowerCase() === 'x-amz-content-sha256');
    return (hoisted && single(request.query[hoisted])) ?? declared ?? 'UNSIGNED-PAYLOAD';
  }
  return request.bodySha256;
}

function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function refuse(reason: AuthFailure, message: string): Verdict {
  return { ok: false, reason, message };
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
