/**
 * The embedded S3: the REST API subset that dropscore, the SDK and the aws
 * CLI use (buckets, objects with ranges and copies, multipart uploads, V1 and
 * V2 listings with `encoding-type=url`, batch delete), path-style, on
 * 127.0.0.1. Every request must be signed with the stack's key pair
 * (SigV4); requests from web pages (an Origin header, CORS preflights,
 * browser form POSTs) are refused, and so is any Host but a loopback one,
 * so no web page can reach the stack, even by DNS rebinding.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { verifySigV4, sha256Hex, type KeyPair } from '../auth/sigv4-verifier.js';
import { comesFromWebPage, hostOf, isAddressedToLoopback } from '../auth/web-page-guard.js';
import type { BucketStore, NewObjectMeta } from './bucket-store.js';
import { BodyMismatchError } from './object-file.js';
import { formEncodeKey } from './s3-notification.js';
import { invalidArgument, noSuchKey, S3Error } from './s3-error.js';
import { document, elements, parseCompleteUpload, parseDeleteObjects, xmlText } from './s3-xml.js';

export interface S3ServerOptions {
  readonly store: BucketStore;
  readonly keys: KeyPair;
  readonly region: string;
}

// S3's single-PUT ceiling.
const MAX_PUT_BYTES = 5 * 1024 ** 3;
const MAX_USER_METADATA_BYTES = 2048;
// XML request bodies (batch delete of 1,000 keys, the part list of a big upload).
const MAX_XML_BODY_BYTES = 2 * 1024 * 1024;
const MAX_LIST_KEYS = 1000;

interface Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly bucket?: string;
  readonly key?: string;
  readonly query: Record<string, string>;
  /** The payload hash the signature covers: a hex SHA-256, or UNSIGNED-PAYLOAD. */
  readonly payloadHash: string;
}

export function createS3Server(options: S3ServerOptions): Server {
  const { store } = options;
  return createServer((req, res) => {
    res.setHeader('x-amz-request-id', randomBytes(8).toString('hex').toUpperCase());
    handle(req, res).catch((error: unknown) => sendError(req, res, error instanceof S3Error ? error : internalError(error)));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const rawPath = queryStart < 0 ? url : url.slice(0, queryStart);
    const query = parseQuery(queryStart < 0 ? '' : url.slice(queryStart + 1));
    refuseWebPages(req);
    const verdict = verifySigV4({ method: req.method ?? 'GET', rawPath, query, headers: req.headers }, options.keys);
    if (!verdict.ok) throw authError(verdict.reason, verdict.message);
    if (verdict.service !== 's3') throw new S3Error(403, 'SignatureDoesNotMatch', `the request is signed for ${verdict.service}, not s3`);
    if (verdict.payloadHash.startsWith('STREAMING-')) {
      throw new S3Error(501, 'NotImplemented', 'aws-chunked (streaming-signed) uploads are not supported by the embedded S3; send a signed or UNSIGNED-PAYLOAD body (SDK v3: requestChecksumCalculation WHEN_REQUIRED)');
    }
    const [bucket, key] = splitPath(rawPath);
    const request: Request = { req, res, query, payloadHash: verdict.payloadHash, ...(bucket ? { bucket } : {}), ...(key ? { key } : {}) };
    if (!bucket) return req.method === 'GET' ? listBuckets(request) : notImplemented();
    if (key === undefined) return bucketOperation(request, bucket);
    return objectOperation(request, bucket, key);
  }

  async function bucketOperation(request: Request, bucket: string): Promise<void> {
    const { req, res, query } = request;
    const sub = subresource(query, ['location', 'list-type', 'delete', 'versioning', 'uploads', 'encoding-type', 'prefix', 'delimiter', 'marker', 'max-keys', 'start-after', 'continuation-token', 'fetch-owner']);
    switch (req.method) {
      case 'PUT':
        if (sub) return notImplemented();
        await drain(request);
        await store.createBucket(bucket);
        return send(res, 200, '', { location: `/${bucket}` });
      case 'HEAD':
        if (!store.hasBucket(bucket)) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', bucket);
        return send(res, 200, '', { 'x-amz-bucket-region': options.region });
      case 'DELETE':
        if (sub) return notImplemented();
        await store.deleteBucket(bucket);
        return send(res, 204);
      case 'POST':
        if ('delete' in query) return deleteObjects(request, bucket);
        return notImplemented();
      case 'GET':
        if ('location' in query) {
          store.list(bucket, { prefix: '', maxKeys: 0 });
          return sendXml(res, 200, document('LocationConstraint', options.region === 'us-east-1' ? '' : xmlText(options.region)));
        }
        if ('versioning' in query) {
          store.list(bucket, { prefix: '', maxKeys: 0 });
          return sendXml(res, 200, document('VersioningConfiguration', ''));
        }
        if (sub && sub !== 'list-type') return notImplemented();
        return listObjects(request, bucket);
      default:
        return notImplemented();
    }
  }

  async function objectOperation(request: Request, bucket: string, key: string): Promise<void> {
    const { req, res, query } = request;
    const sub = subresource(query, ['uploadId', 'partNumber', 'uploads', 'versionId']);
    if (sub === 'versionId') throw new S3Error(501, 'NotImplemented', 'the embedded S3 keeps no object versions');
    switch (req.method) {
      case 'PUT':
        if ('partNumber' in query && 'uploadId' in query) {
          if (req.headers['x-amz-copy-source']) return copyPart(request, bucket, key);
          const eTag = await store.putPart(bucket, key, query['uploadId']!, Number(query['partNumber']), req, bodyExpectations(request));
          return send(res, 200, '', { etag: `"${eTag}"` });
        }
        if (sub) return notImplemented();
        return req.headers['x-amz-copy-source'] ? copyObject(request, bucket, key) : putObject(request, bucket, key);
      case 'GET':
      case 'HEAD':
        if (sub) return notImplemented();
        return getObject(request, bucket, key);
      case 'DELETE':
        if ('uploadId' in query) {
          await store.abortUpload(bucket, key, query['uploadId']!);
          return send(res, 204);
        }
        if (sub) return notImplemented();
        store.deleteObject(bucket, key);
        return send(res, 204);
      case 'POST':
        if ('uploads' in query) {
          await drain(request);
          const uploadId = await store.createUpload(bucket, key, objectMetaOf(req));
          return sendXml(res, 200, document('InitiateMultipartUploadResult', elements({ Bucket: bucket, Key: key, UploadId: uploadId })));
        }
        if ('uploadId' in query) {
          const parts = parseCompleteUpload(await readXmlBody(request));
          if (!parts) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
          const written = await store.completeUpload(bucket, key, query['uploadId']!, parts);
          return sendXml(res, 200, document('CompleteMultipartUploadResult', elements({ Location: `/${bucket}/${key}`, Bucket: bucket, Key: key, ETag: `"${written.eTag}"` })));
        }
        return notImplemented();
      default:
        return notImplemented();
    }
  }

  async function putObject(request: Request, bucket: string, key: string): Promise<void> {
    const { req, res } = request;
    const length = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
    // As S3: a streamed (chunked) body without its length is refused too.
    if (length === undefined) throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    if (length !== undefined && length > MAX_PUT_BYTES) throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
    if (req.headers['if-none-match'] === '*' && (await exists(bucket, key))) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    const written = await store.putObject(bucket, key, req, objectMetaOf(req), bodyExpectations(request));
    send(res, 200, '', { etag: `"${written.eTag}"` });
  }

  async function copyObject(request: Request, bucket: string, key: string): Promise<void> {
    const { req, res } = request;
    const source = copySourceOf(req);
    await drain(request);
    const replace = req.headers['x-amz-metadata-directive'] === 'REPLACE' ? objectMetaOf(req) : undefined;
    const written = await store.copyObject(source, bucket, key, replace);
    sendXml(res, 200, document('CopyObjectResult', elements({ LastModified: written.lastModified, ETag: `"${written.eTag}"` })));
  }

  /** UploadPartCopy: a part taken from (a byte range of) an existing object, as `aws s3 cp` does for large copies. */
  async function copyPart(request: Request, bucket: string, key: string): Promise<void> {
    const { req, res, query } = request;
    const source = copySourceOf(req);
    await drain(request);
    const object = await store.getObject(source.bucket, source.key);
    if (!object) throw noSuchKey(source.key);
    const rangeHeader = req.headers['x-amz-copy-source-range'] as string | undefined;
    const range = rangeHeader === undefined ? undefined : parseRange(rangeHeader, object.meta.size);
    if (range === 'unsatisfiable' || (rangeHeader !== undefined && range === undefined)) {
      await object.close();
      throw new S3Error(400, 'InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy');
    }
    const body = object.meta.size === 0 ? object.body() : object.body(range);
    const eTag = await store.putPart(bucket, key, query['uploadId']!, Number(query['partNumber']), body, {});
    sendXml(res, 200, document('CopyPartResult', elements({ LastModified: new Date().toISOString(), ETag: `"${eTag}"` })));
  }

  async function getObject(request: Request, bucket: string, key: string): Promise<void> {
    const { req, res } = request;
    const object = await store.getObject(bucket, key);
    if (!object) throw noSuchKey(key);
    const { meta } = object;
    const headers: Record<string, string | number> = {
      etag: `"${meta.eTag}"`,
      'last-modified': new Date(meta.lastModified).toUTCString(),
      'content-type': meta.contentType ?? 'binary/octet-stream',
      'accept-ranges': 'bytes',
      ...Object.fromEntries(Object.entries(meta.metadata).map(([name, value]) => [`x-amz-meta-${name}`, value])),
    };
    // A reader pinned to a version (If-Match) must not get a newer one: S3 answers 412 then.
    const ifMatch = req.headers['if-match'];
    if (ifMatch && ifMatch !== '*' && ifMatch.replace(/"/g, '') !== meta.eTag) {
      await object.close();
      throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch && ifNoneMatch.replace(/"/g, '') === meta.eTag) {
      await object.close();
      return send(res, 304, '', headers);
    }
    const range = parseRange(req.headers.range, meta.size);
    if (range === 'unsatisfiable') {
      await object.close();
      throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable');
    }
    const length = range ? range.end - range.start + 1 : meta.size;
    headers['content-length'] = length;
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${meta.size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || length === 0) {
      await object.close();
      res.end();
      return;
    }
    await pipeline(object.body(range), res);
  }

  async function deleteObjects(request: Request, bucket: string): Promise<void> {
    const parsed = parseDeleteObjects(await readXmlBody(request));
    if (!parsed) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    if (parsed.keys.length > 1000) throw new S3Error(400, 'MalformedXML', 'a batch delete names at most 1,000 keys');
    const deleted: string[] = [];
    const errors: string[] = [];
    for (const key of parsed.keys) {
      try {
        store.deleteObject(bucket, key);
        if (!parsed.quiet) deleted.push(`<Deleted>${elements({ Key: key })}</Deleted>`);
      } catch (error) {
        const e = error instanceof S3Error ? error : internalError(error);
        errors.push(`<Error>${elements({ Key: key, Code: e.code, Message: e.message })}</Error>`);
      }
    }
    sendXml(request.res, 200, document('DeleteResult', deleted.join('') + errors.join('')));
  }

  function listBuckets({ res }: Request): void {
    const buckets = store.listBuckets().map((b) => `<Bucket>${elements({ Name: b.name, CreationDate: b.created })}</Bucket>`).join('');
    sendXml(res, 200, document('ListAllMyBucketsResult', `<Owner>${elements({ ID: 'local', DisplayName: 'local' })}</Owner><Buckets>${buckets}</Buckets>`));
  }

  function listObjects({ res, query }: Request, bucket: string): void {
    const v2 = query['list-type'] === '2';
    if (query['list-type'] !== undefined && !v2) throw invalidArgument('Invalid list-type');
    const urlEncoded = query['encoding-type'] === 'url';
    if (query['encoding-type'] !== undefined && !urlEncoded) throw invalidArgument('Invalid Encoding Method specified in Request');
    const encode = (value: string | undefined) => (value === undefined ? undefined : urlEncoded ? formEncodeKey(value) : value);
    const maxKeys = query['max-keys'] === undefined ? MAX_LIST_KEYS : Number(query['max-keys']);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) throw invalidArgument('Provided max-keys not an integer or within integer range');
    const prefix = query['prefix'] ?? '';
    const delimiter = query['delimiter'] || undefined;
    const token = query['continuation-token'];
    const after = v2 ? (token !== undefined ? decodeToken(token) : query['start-after']) : query['marker'];
    const page = store.list(bucket, { prefix, delimiter, after, maxKeys: Math.min(maxKeys, MAX_LIST_KEYS) });
    const contents = page.objects
      .map((o) => `<Contents>${elements({ Key: encode(o.key), LastModified: o.lastModified, ETag: `"${o.eTag}"`, Size: o.size, StorageClass: 'STANDARD' })}</Contents>`)
      .join('');
    const prefixes = page.commonPrefixes.map((p) => `<CommonPrefixes>${elements({ Prefix: encode(p) })}</CommonPrefixes>`).join('');
    const head = v2
      ? elements({
          Name: bucket,
          Prefix: encode(prefix),
          Delimiter: encode(delimiter),
          MaxKeys: maxKeys,
          EncodingType: urlEncoded ? 'url' : undefined,
          KeyCount: page.keys.length + page.commonPrefixes.length,
          IsTruncated: page.isTruncated,
          ContinuationToken: token,
          NextContinuationToken: page.isTruncated && page.last !== undefined ? encodeToken(page.last) : undefined,
          StartAfter: encode(query['start-after']),
        })
      : elements({
          Name: bucket,
          Prefix: encode(prefix),
          Marker: encode(query['marker'] ?? ''),
          Delimiter: encode(delimiter),
          MaxKeys: maxKeys,
          EncodingType: urlEncoded ? 'url' : undefined,
          IsTruncated: page.isTruncated,
          // As S3: only with a delimiter; without one, clients continue from the last key.
          NextMarker: page.isTruncated && delimiter ? encode(page.last) : undefined,
        });
    sendXml(res, 200, document('ListBucketResult', head + contents + prefixes));
  }

  async function exists(bucket: string, key: string): Promise<boolean> {
    const object = await store.getObject(bucket, key);
    await object?.close();
    return object !== undefined;
  }
}

function copySourceOf(req: IncomingMessage): { bucket: string; key: string } {
  let source: string;
  try {
    source = decodeURIComponent(String(req.headers['x-amz-copy-source']).split('?')[0]!).replace(/^\//, '');
  } catch {
    throw invalidArgument('Copy Source is not validly percent-encoded');
  }
  const slash = source.indexOf('/');
  if (slash < 1) throw invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  return { bucket: source.slice(0, slash), key: source.slice(slash + 1) };
}

/** What the client said the body is: its length, Content-MD5, and the signed SHA-256. */
function bodyExpectations({ req, payloadHash }: Request) {
  const length = req.headers['content-length'];
  const md5 = req.headers['content-md5'];
  return {
    ...(length !== undefined ? { length: Number(length) } : {}),
    ...(typeof md5 === 'string' ? { md5Base64: md5 } : {}),
    ...(/^[0-9a-f]{64}$/.test(payloadHash) ? { sha256Hex: payloadHash } : {}),
  };
}

function objectMetaOf(req: IncomingMessage): NewObjectMeta {
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    metadata[name.slice('x-amz-meta-'.length)] = text;
    bytes += Buffer.byteLength(name) - 'x-amz-meta-'.length + Buffer.byteLength(text);
  }
  if (bytes > MAX_USER_METADATA_BYTES) throw new S3Error(400, 'MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size');
  const contentType = req.headers['content-type'];
  return { metadata, ...(contentType ? { contentType } : {}) };
}

/** A web page's request carries an Origin; forms post multipart bodies; neither has any business here. */
function refuseWebPages(req: IncomingMessage): void {
  if (!isAddressedToLoopback(req)) throw new S3Error(403, 'AccessDenied', `the embedded S3 answers only requests addressed to 127.0.0.1 or localhost, not "${hostOf(req)}"`);
  if (comesFromWebPage(req)) {
    throw new S3Error(403, 'AccessDenied', 'requests from web pages (CORS) are refused by the embedded S3');
  }
  if (req.method === 'POST' && /^multipart\/form-data/i.test(req.headers['content-type'] ?? '')) {
    throw new S3Error(403, 'AccessDenied', 'browser form uploads (POST Object) are refused by the embedded S3');
  }
}

function authError(reason: string, message: string): S3Error {
  switch (reason) {
    case 'missing':
      return new S3Error(403, 'AccessDenied', `Access Denied: ${message}`);
    case 'unknown-key':
      return new S3Error(403, 'InvalidAccessKeyId', message);
    case 'bad-signature':
      return new S3Error(403, 'SignatureDoesNotMatch', message);
    case 'expired':
      return new S3Error(403, 'AccessDenied', 'Request has expired');
    case 'skewed':
      return new S3Error(403, 'RequestTimeTooSkewed', message);
    default:
      return new S3Error(400, 'AuthorizationHeaderMalformed', message);
  }
}

function notImplemented(): never {
  throw new S3Error(501, 'NotImplemented', 'A header or query you provided implies functionality that the embedded S3 does not implement');
}

function internalError(error: unknown): S3Error {
  if (error instanceof BodyMismatchError) return new S3Error(400, error.code, error.message);
  return new S3Error(500, 'InternalError', `We encountered an internal error: ${error instanceof Error ? error.message : String(error)}`);
}

function sendError(req: IncomingMessage, res: ServerResponse, error: S3Error): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = req.method === 'HEAD' ? '' : document('Error', elements({ Code: error.code, Message: error.message, Resource: error.resource })).replace(/ xmlns="[^"]*"/, '');
  // Whatever body the client is still sending is read and dropped, so it gets this answer, not a reset.
  req.resume();
  sendXml(res, error.status, body, { 'x-amz-error-code': error.code });
}

function send(res: ServerResponse, status: number, body = '', headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendXml(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  send(res, status, body, { 'content-type': 'application/xml', ...headers });
}

/** A small XML body, checked against the signed payload hash. */
async function readXmlBody({ req, payloadHash }: Request): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_XML_BODY_BYTES) throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  if (/^[0-9a-f]{64}$/.test(payloadHash) && sha256Hex(body) !== payloadHash) {
    throw new S3Error(400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
  }
  return body.toString('utf8');
}

async function drain(request: Request): Promise<void> {
  await readXmlBody(request);
}

function splitPath(rawPath: string): [string | undefined, string | undefined] {
  const withoutSlash = rawPath.slice(1);
  const slash = withoutSlash.indexOf('/');
  const rawBucket = slash < 0 ? withoutSlash : withoutSlash.slice(0, slash);
  const rawKey = slash < 0 ? '' : withoutSlash.slice(slash + 1);
  try {
    return [rawBucket ? decodeURIComponent(rawBucket) : undefined, rawKey ? decodeURIComponent(rawKey) : undefined];
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
}

/** Query parameters, percent-decoded (a `+` stays a `+`, as the signature canonicalises it). */
function parseQuery(raw: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const part of raw.split('&')) {
    if (!part) continue;
    const equals = part.indexOf('=');
    try {
      const name = decodeURIComponent(equals < 0 ? part : part.slice(0, equals));
      query[name] = equals < 0 ? '' : decodeURIComponent(part.slice(equals + 1));
    } catch {
      throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
    }
  }
  return query;
}

/** The first query parameter that names a subresource or operation, if any; signing parameters are not. */
function subresource(query: Record<string, string>, allowed: readonly string[]): string | undefined {
  const names = Object.keys(query).filter((name) => !/^(x-amz-|x-id$|response-)/i.test(name));
  const unknown = names.find((name) => !allowed.includes(name));
  if (unknown !== undefined) return unknown;
  return names.find((name) => ['location', 'delete', 'versioning', 'uploads', 'uploadId', 'partNumber', 'versionId'].includes(name));
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header) : null;
  if (!match || (match[1] === '' && match[2] === '')) return undefined; // S3 ignores ranges it cannot parse
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

function encodeToken(lastKey: string): string {
  return Buffer.from(`dropscore:${lastKey}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  if (!decoded.startsWith('dropscore:')) throw invalidArgument('The continuation token provided is incorrect');
  return decoded.slice('dropscore:'.length);
}
