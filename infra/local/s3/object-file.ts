/**
 * One S3 object is one file: its body, then its metadata as JSON, then a
 * fixed 8-byte footer (magic + metadata length). Files are named by the hash
 * of their key, never by the key itself, so any key S3 accepts (`../x`, `a//b`,
 * control characters, 1,024 bytes) is stored without touching anything
 * outside the bucket's folder.
 *
 * A write streams the body to a temporary file and renames it over the
 * object's file once complete: readers see the old object or the new one,
 * never a mix, and a failed or interrupted write leaves only a temporary file
 * that the next start removes. A read opens the file once and serves both
 * metadata and body from that descriptor, so a rename during the read cannot
 * tear it.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fstatSync, openSync, readSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface ObjectMeta {
  readonly key: string;
  readonly size: number;
  /** Hex MD5 of the body, or `<md5 of part md5s>-<parts>` for a multipart upload. */
  readonly eTag: string;
  readonly lastModified: string;
  readonly contentType?: string;
  /** `x-amz-meta-*` values, names lower-case without the prefix. */
  readonly metadata: Readonly<Record<string, string>>;
}

const MAGIC = 0x44534f31; // "DSO1"
const FOOTER_BYTES = 8;

/** What a body had to be, as the client declared it (Content-MD5, x-amz-content-sha256). */
export interface BodyExpectations {
  readonly md5Base64?: string;
  readonly sha256Hex?: string;
  readonly length?: number;
}

export class BodyMismatchError extends Error {
  constructor(readonly code: 'BadDigest' | 'XAmzContentSHA256Mismatch' | 'IncompleteBody', message: string) {
    super(message);
  }
}

/**
 * Streams `body` into `tmpPath` and appends the metadata; returns it with the
 * body's size and MD5. The caller renames the file into place (or removes it).
 */
export async function writeObjectFile(
  tmpPath: string,
  body: Readable | AsyncIterable<Uint8Array>,
  meta: Omit<ObjectMeta, 'size' | 'eTag'> & { readonly eTag?: string },
  expect: BodyExpectations = {},
): Promise<ObjectMeta> {
  const md5 = createHash('md5');
  const sha256 = expect.sha256Hex ? createHash('sha256') : undefined;
  let size = 0;
  const digest = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      md5.update(chunk);
      sha256?.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, digest, createWriteStream(tmpPath, { flags: 'wx' }));
    check(expect, size, md5, sha256);
    const complete: ObjectMeta = { ...meta, size, eTag: meta.eTag ?? md5.digest('hex') };
    const json = Buffer.from(JSON.stringify(complete), 'utf8');
    const footer = Buffer.alloc(FOOTER_BYTES);
    footer.writeUInt32BE(MAGIC, 0);
    footer.writeUInt32BE(json.length, 4);
    const file = await open(tmpPath, 'a');
    try {
      await file.write(Buffer.concat([json, footer]));
    } finally {
      await file.close();
    }
    return complete;
  } catch (error) {
    await rm(tmpPath, { force: true });
    throw error;
  }
}

function check(expect: BodyExpectations, size: number, md5: Hash, sha256: Hash | undefined): void {
  if (expect.length !== undefined && size !== expect.length) {
    throw new BodyMismatchError('IncompleteBody', `the body has ${size} bytes, but Content-Length said ${expect.length}`);
  }
  if (expect.md5Base64 !== undefined && md5.copy().digest('base64') !== expect.md5Base64) {
    throw new BodyMismatchError('BadDigest', 'the Content-MD5 you specified did not match what was received');
  }
  if (sha256 && sha256.digest('hex') !== expect.sha256Hex) {
    throw new BodyMismatchError('XAmzContentSHA256Mismatch', 'the provided x-amz-content-sha256 header does not match what was computed');
  }
}

/** An object opened for reading: its metadata, and its body from the same descriptor. */
export interface OpenObject {
  readonly meta: ObjectMeta;
  /** The body's bytes [start, end] (inclusive), streamed; closes the file when done. */
  body(range?: { readonly start: number; readonly end: number }): Readable;
  close(): Promise<void>;
}

/** `undefined` when there is no such file. */
export async function openObjectFile(path: string): Promise<OpenObject | undefined> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const meta = await readMeta(file);
    let streaming = false;
    return {
      meta,
      body(range) {
        streaming = true;
        if (meta.size === 0) {
          void file.close();
          return Readable.from([]);
        }
        return createReadStream('', { fd: file, start: range?.start ?? 0, end: range?.end ?? meta.size - 1, autoClose: true });
      },
      close: () => (streaming ? Promise.resolve() : file.close()),
    };
  } catch (error) {
    await file.close();
    throw error;
  }
}

/** Reads just the metadata, synchronously: for the listing index at start, where thousands are read in a row. */
export function readObjectMetaSync(path: string): ObjectMeta {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    const footer = Buffer.alloc(FOOTER_BYTES);
    if (size < FOOTER_BYTES) throw new Error('object file too short');
    readSync(fd, footer, 0, FOOTER_BYTES, size - FOOTER_BYTES);
    return parseMeta(footer, size, (json, position) => readSync(fd, json, 0, json.length, position));
  } finally {
    closeSync(fd);
  }
}

async function readMeta(file: FileHandle): Promise<ObjectMeta> {
  const { size } = await file.stat();
  if (size < FOOTER_BYTES) throw new Error('object file too short');
  const footer = Buffer.alloc(FOOTER_BYTES);
  await file.read(footer, 0, FOOTER_BYTES, size - FOOTER_BYTES);
  const length = checkedMetaLength(footer, size);
  const json = Buffer.alloc(length);
  await file.read(json, 0, length, size - FOOTER_BYTES - length);
  return checkedMeta(json, size);
}

function parseMeta(footer: Buffer, size: number, read: (json: Buffer, position: number) => void): ObjectMeta {
  const json = Buffer.alloc(checkedMetaLength(footer, size));
  read(json, size - FOOTER_BYTES - json.length);
  return checkedMeta(json, size);
}

function checkedMetaLength(footer: Buffer, size: number): number {
  const length = footer.readUInt32BE(4);
  if (footer.readUInt32BE(0) !== MAGIC || length > size - FOOTER_BYTES) throw new Error('not an object file');
  return length;
}

function checkedMeta(json: Buffer, size: number): ObjectMeta {
  const meta = JSON.parse(json.toString('utf8')) as ObjectMeta;
  if (meta.size !== size - FOOTER_BYTES - json.length) throw new Error('object file size does not match its metadata');
  return meta;
}
