/**
 * The embedded S3's storage: buckets as folders, each object one file named by
 * the SHA-256 of its key (object-file.ts), and an in-memory sorted index of
 * keys for listings, rebuilt from the files' metadata at start.
 *
 * Committing a write is a rename plus an index update in one synchronous
 * step, so concurrent writes of one key end with the same winner on disk and
 * in the index. The object's event is announced just before the rename (so a
 * journal can keep it even if the process dies between the two) and released
 * just after it (so nobody reads the object before it is in place).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { compareKeys, listKeys, lowerBound, type ListRequest } from './key-listing.js';
import { openObjectFile, readObjectMetaSync, writeObjectFile, type BodyExpectations, type ObjectMeta, type OpenObject } from './object-file.js';
import { invalidArgument, noSuchBucket, noSuchKey, noSuchUpload, S3Error } from './s3-error.js';

export type CreatedHow = 'Put' | 'Copy' | 'CompleteMultipartUpload';

export interface ObjectCreated {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
  readonly how: CreatedHow;
}

/** Called just before an object is put in place; what it returns is called once it is. */
export type OnCreating = (event: ObjectCreated) => () => void;

export type NewObjectMeta = Pick<ObjectMeta, 'contentType' | 'metadata'>;

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
  readonly lastModified: string;
}

const MAX_KEY_BYTES = 1024;
// S3's floor for every part but the last.
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

interface BucketIndex {
  readonly created: string;
  /** Sorted as S3 lists them. */
  readonly keys: string[];
  readonly objects: Map<string, ListedObject>;
}

export async function openBucketStore(root: string, onCreating: OnCreating) {
  const bucketsDir = join(root, 'buckets');
  const tmpDir = join(root, 'tmp');
  // Whatever a crash left half-written is not an object.
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(tmpDir, { recursive: true });
  mkdirSync(bucketsDir, { recursive: true });
  const buckets = new Map<string, BucketIndex>();
  for (const name of readdirSync(bucketsDir)) buckets.set(name, loadBucket(join(bucketsDir, name)));

  const bucketDir = (bucket: string) => join(bucketsDir, bucket);
  const objectPath = (bucket: string, key: string) => join(bucketDir(bucket), 'objects', createHash('sha256').update(key, 'utf8').digest('hex'));
  const uploadDir = (bucket: string, uploadId: string) => join(bucketDir(bucket), 'uploads', uploadId);
  const tmpPath = () => join(tmpDir, randomBytes(12).toString('hex'));

  function indexOf(bucket: string): BucketIndex {
    const index = buckets.get(bucket);
    if (!index) throw noSuchBucket(bucket);
    return index;
  }

  /** Renames the written file into place and updates the index, in one synchronous step. */
  function commit(bucket: string, tmp: string, meta: ObjectMeta, how: CreatedHow): void {
    const index = indexOf(bucket);
    const created = onCreating({ bucket, key: meta.key, size: meta.size, eTag: meta.eTag, how });
    renameSync(tmp, objectPath(bucket, meta.key));
    if (!index.objects.has(meta.key)) index.keys.splice(lowerBound(index.keys, meta.key), 0, meta.key);
    index.objects.set(meta.key, { key: meta.key, size: meta.size, eTag: meta.eTag, lastModified: meta.lastModified });
    created();
  }

  async function writeTo(bucket: string, key: string, body: Readable | AsyncIterable<Uint8Array>, meta: NewObjectMeta, expect: BodyExpectations, how: CreatedHow): Promise<ObjectMeta> {
    checkKey(key);
    indexOf(bucket);
    const tmp = tmpPath();
    const written = await writeObjectFile(tmp, body, { key, lastModified: new Date().toISOString(), metadata: meta.metadata, ...(meta.contentType ? { contentType: meta.contentType } : {}) }, expect);
    try {
      commit(bucket, tmp, written, how);
    } catch (error) {
      rmSync(tmp, { force: true }); // the bucket was deleted meanwhile
      throw error;
    }
    return written;
  }

  return {
    listBuckets: () => [...buckets.entries()].map(([name, index]) => ({ name, created: index.created })).sort((a, b) => (a.name < b.name ? -1 : 1)),

    hasBucket: (bucket: string) => buckets.has(bucket),

    async createBucket(bucket: string): Promise<void> {
      checkBucketName(bucket);
      if (buckets.has(bucket)) throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', bucket);
      const created = new Date().toISOString();
      mkdirSync(join(bucketDir(bucket), 'objects'), { recursive: true });
      await writeFile(join(bucketDir(bucket), 'bucket.json'), JSON.stringify({ created }));
      buckets.set(bucket, { created, keys: [], objects: new Map() });
    },

    async deleteBucket(bucket: string): Promise<void> {
      const index = indexOf(bucket);
      if (index.keys.length > 0) throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', bucket);
      buckets.delete(bucket);
      await rm(bucketDir(bucket), { recursive: true, force: true });
    },

    putObject: (bucket: string, key: string, body: Readable, meta: NewObjectMeta, expect: BodyExpectations) => writeTo(bucket, key, body, meta, expect, 'Put'),

    /** `undefined` when there is no such key; the caller must close (or stream) what it gets. */
    async getObject(bucket: string, key: string): Promise<OpenObject | undefined> {
      indexOf(bucket);
      checkKey(key);
      return openObjectFile(objectPath(bucket, key));
    },

    async copyObject(from: { bucket: string; key: string }, bucket: string, key: string, replace: NewObjectMeta | undefined): Promise<ObjectMeta> {
      indexOf(from.bucket);
      checkKey(from.key);
      const source = await openObjectFile(objectPath(from.bucket, from.key));
      if (!source) throw noSuchKey(from.key);
      const meta = replace ?? { metadata: source.meta.metadata, ...(source.meta.contentType ? { contentType: source.meta.contentType } : {}) };
      return writeTo(bucket, key, source.body(), meta, {}, 'Copy');
    },

    deleteObject(bucket: string, key: string): void {
      const index = indexOf(bucket);
      checkKey(key);
      rmSync(objectPath(bucket, key), { force: true });
      if (index.objects.delete(key)) index.keys.splice(lowerBound(index.keys, key), 1);
    },

    list(bucket: string, request: ListRequest) {
      const index = indexOf(bucket);
      const page = listKeys(index.keys, request);
      return { ...page, objects: page.keys.map((key) => index.objects.get(key)!) };
    },

    async createUpload(bucket: string, key: string, meta: NewObjectMeta): Promise<string> {
      indexOf(bucket);
      checkKey(key);
      const uploadId = randomBytes(16).toString('hex');
      mkdirSync(uploadDir(bucket, uploadId), { recursive: true });
      await writeFile(join(uploadDir(bucket, uploadId), 'upload.json'), JSON.stringify({ key, meta }));
      return uploadId;
    },

    async putPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Readable | AsyncIterable<Uint8Array>, expect: BodyExpectations): Promise<string> {
      await readUpload(bucket, key, uploadId);
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) throw invalidArgument(`Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`);
      const tmp = tmpPath();
      const part = await writeObjectFile(tmp, body, { key, lastModified: new Date().toISOString(), metadata: {} }, expect);
      renameSync(tmp, join(uploadDir(bucket, uploadId), `part-${partNumber}`));
      return part.eTag;
    },

    async completeUpload(bucket: string, key: string, uploadId: string, parts: readonly { partNumber: number; eTag: string }[]): Promise<ObjectMeta> {
      const upload = await readUpload(bucket, key, uploadId);
      if (parts.length === 0) throw new S3Error(400, 'MalformedXML', 'You must specify at least one part');
      const opened: OpenObject[] = [];
      try {
        for (const [i, part] of parts.entries()) {
          if (i > 0 && part.partNumber <= parts[i - 1]!.partNumber) throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
          const file = await openObjectFile(join(uploadDir(bucket, uploadId), `part-${part.partNumber}`));
          if (!file || file.meta.eTag !== part.eTag.replace(/"/g, '')) {
            await file?.close();
            throw new S3Error(400, 'InvalidPart', `part ${part.partNumber} was not uploaded or its ETag does not match`);
          }
          opened.push(file);
          if (i < parts.length - 1 && file.meta.size < MIN_PART_BYTES) throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
        }
        const partsMd5 = createHash('md5');
        for (const file of opened) partsMd5.update(Buffer.from(file.meta.eTag, 'hex'));
        const eTag = `${partsMd5.digest('hex')}-${opened.length}`;
        const tmp = tmpPath();
        const body = Readable.from((async function* () {
          for (const file of opened) yield* file.body();
        })());
        const written = await writeObjectFile(tmp, body, { key, eTag, lastModified: new Date().toISOString(), ...upload.meta });
        opened.length = 0; // streamed, so closed
        commit(bucket, tmp, written, 'CompleteMultipartUpload');
        await rm(uploadDir(bucket, uploadId), { recursive: true, force: true });
        return written;
      } finally {
        await Promise.all(opened.map((file) => file.close()));
      }
    },

    async abortUpload(bucket: string, key: string, uploadId: string): Promise<void> {
      await readUpload(bucket, key, uploadId);
      await rm(uploadDir(bucket, uploadId), { recursive: true, force: true });
    },
  };

  async function readUpload(bucket: string, key: string, uploadId: string): Promise<{ meta: NewObjectMeta }> {
    indexOf(bucket);
    if (!/^[0-9a-f]{32}$/.test(uploadId)) throw noSuchUpload(uploadId);
    try {
      const upload = JSON.parse(await readFile(join(uploadDir(bucket, uploadId), 'upload.json'), 'utf8')) as { key: string; meta: NewObjectMeta };
      if (upload.key !== key) throw noSuchUpload(uploadId);
      return upload;
    } catch (error) {
      if (error instanceof S3Error) throw error;
      throw noSuchUpload(uploadId);
    }
  }
}

export type BucketStore = Awaited<ReturnType<typeof openBucketStore>>;

function loadBucket(dir: string): BucketIndex {
  const { created } = JSON.parse(readFileSync(join(dir, 'bucket.json'), 'utf8')) as { created: string };
  const objects = new Map<string, ListedObject>();
  const objectsDir = join(dir, 'objects');
  for (const file of readdirSync(objectsDir)) {
    try {
      const meta = readObjectMetaSync(join(objectsDir, file));
      objects.set(meta.key, { key: meta.key, size: meta.size, eTag: meta.eTag, lastModified: meta.lastModified });
    } catch {
      unlinkSync(join(objectsDir, file)); // not an object this store wrote whole
    }
  }
  const keys = [...objects.keys()].sort(compareKeys);
  return { created, keys, objects };
}

/** S3's rules: 1 to 1,024 bytes of UTF-8; anything else goes, `..` and control characters included. */
function checkKey(key: string): void {
  if (key.length === 0) throw new S3Error(400, 'InvalidArgument', 'object keys must not be empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new S3Error(400, 'KeyTooLongError', 'Your key is too long', key);
}

/** S3's general-purpose bucket naming rules (which also keep a bucket name a safe folder name). */
export function checkBucketName(bucket: string): void {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', bucket);
  }
}
