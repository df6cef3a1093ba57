/**
 * The scorer's ports in memory, for unit tests of the domain: as strict as the
 * real adapters where the domain relies on them (a pinned read of another
 * version throws ObjectChangedError, ranges are exact, the ledger's
 * transitions are conditional), with a record of the calls made.
 */
import { createHash } from 'node:crypto';
import { ObjectChangedError } from '../../functions/scorer/domain/errors.js';
import type { ClaimState, Completion, Counters, DeploymentRecord, DeploymentStore, InputLedger, LedgerTally, ObjectStore, UsageMeter } from '../../functions/scorer/domain/ports.js';

interface StoredObject {
  readonly body: Buffer;
  readonly eTag: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly contentType: string;
}

export function createMemoryObjectStore(options: { readonly chunkBytes?: number } = {}) {
  const objects = new Map<string, StoredObject>();
  const id = (bucket: string, key: string) => `${bucket}/${key}`;
  const calls: { op: string; bucket: string; key: string; range?: { start: number; end: number } }[] = [];
  const chunkBytes = options.chunkBytes ?? 1000;

  function put(bucket: string, key: string, body: Buffer | string, metadata: Readonly<Record<string, string>> = {}, contentType = 'application/json'): string {
    const bytes = Buffer.from(body);
    const eTag = createHash('md5').update(bytes).digest('hex');
    objects.set(id(bucket, key), { body: bytes, eTag, metadata: { ...metadata }, contentType });
    return eTag;
  }

  async function* chunks(bytes: Buffer): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += chunkBytes) yield bytes.subarray(i, i + chunkBytes);
  }

  const store: ObjectStore = {
    async read(bucket, key, maxBytes) {
      calls.push({ op: 'read', bucket, key });
      const o = objects.get(id(bucket, key));
      if (!o) return undefined;
      return { eTag: o.eTag, size: o.body.length, ...(o.body.length <= maxBytes ? { body: new Uint8Array(o.body) } : {}) };
    },
    async head(bucket, key) {
      calls.push({ op: 'head', bucket, key });
      const o = objects.get(id(bucket, key));
      return o && { eTag: o.eTag, size: o.body.length, metadata: o.metadata };
    },
    async write(bucket, key, body, metadata) {
      calls.push({ op: 'write', bucket, key });
      put(bucket, key, body, metadata);
    },
    async stream(bucket, key, opts = {}) {
      calls.push({ op: 'stream', bucket, key, ...(opts.range ? { range: opts.range } : {}) });
      const o = objects.get(id(bucket, key));
      if (opts.version && o?.eTag !== opts.version.eTag) throw new ObjectChangedError(bucket, key, opts.version.eTag);
      if (!o) return undefined;
      if (opts.range && (opts.range.start >= opts.range.end || opts.range.end > o.body.length)) throw new Error(`InvalidRange ${opts.range.start}-${opts.range.end} of ${o.body.length}`);
      const bytes = opts.range ? o.body.subarray(opts.range.start, opts.range.end) : o.body;
      return { eTag: o.eTag, size: bytes.length, body: chunks(bytes) };
    },
    async writeStream(bucket, key, body, metadata, contentType) {
      calls.push({ op: 'writeStream', bucket, key });
      const parts: Buffer[] = [];
      for await (const chunk of body) parts.push(Buffer.from(chunk));
      put(bucket, key, Buffer.concat(parts), metadata, contentType);
    },
    async remove(bucket, keys) {
      for (const key of keys) {
        calls.push({ op: 'remove', bucket, key });
        objects.delete(id(bucket, key));
      }
    },
  };
  return {
    store,
    put,
    calls,
    get: (bucket: string, key: string) => objects.get(id(bucket, key)),
    keys: (bucket: string) => [...objects.keys()].filter((k) => k.startsWith(`${bucket}/`)).map((k) => k.slice(bucket.length + 1)).sort(),
  };
}

/** The DynamoDB ledger's semantics: one conditional transition per version, running totals per key. */
export function createMemoryLedger(): InputLedger & { readonly totals: Map<string, Counters> } {
  const versions = new Map<string, Map<string, string>>();
  const totals = new Map<string, Counters>();
  const item = (scope: string, key: string) => {
    const k = `${scope}\u0000${key}`;
    if (!versions.has(k)) versions.set(k, new Map());
    return { k, versions: versions.get(k)! };
  };
  const add = (k: string, delta: Partial<Counters>) => {
    const t = totals.get(k) ?? { received: 0, scored: 0, failed: 0 };
    totals.set(k, { received: t.received + (delta.received ?? 0), scored: t.scored + (delta.scored ?? 0), failed: t.failed + (delta.failed ?? 0) });
  };
  return {
    totals,
    async claim(scope, key, eTag, received = 1): Promise<ClaimState> {
      const { k, versions: v } = item(scope, key);
      const state = v.get(eTag);
      if (state === undefined) {
        v.set(eTag, 'received');
        add(k, { received });
        return 'new';
      }
      return state === 'received' ? 'claimed' : 'done';
    },
    async release(scope, key, eTag) {
      const { k, versions: v } = item(scope, key);
      if (v.get(eTag) !== 'received') return;
      v.delete(eTag);
      add(k, { received: -1 });
    },
    async complete(scope, key, eTag, outcome, tally): Promise<Completion> {
      const { k, versions: v } = item(scope, key);
      if (v.get(eTag) !== 'received') return { counted: false, otherVersionClaimed: true };
      v.set(eTag, outcome);
      add(k, tally ?? { [outcome]: 1 });
      return { counted: true, otherVersionClaimed: v.size > 1 };
    },
    async tallies() {
      const byDeployment = new Map<string, LedgerTally>();
      for (const [k, t] of totals) {
        const id = k.split('#')[0]!;
        const sum = byDeployment.get(id) ?? { received: 0, scored: 0, failed: 0 };
        byDeployment.set(id, { received: sum.received + t.received, scored: sum.scored + t.scored, failed: sum.failed + t.failed });
      }
      return byDeployment;
    },
  };
}

export function createMemoryUsage(limit?: number): UsageMeter & { readonly predictions: () => number } {
  let batch = 0;
  return {
    predictions: () => batch,
    async consumePredictions(count) {
      const granted = limit === undefined ? count : Math.max(0, Math.min(count, limit - batch));
      batch += granted;
      return { granted, used: batch, ...(limit === undefined ? {} : { limit }) };
    },
    async refundPredictions(count) {
      batch -= count;
    },
    async setBatchPredictions(n, onlyIf) {
      if (onlyIf !== undefined && onlyIf !== batch) return false;
      batch = n;
      return true;
    },
    async read() {
      return { predictions: batch, onlinePredictions: 0, limits: limit === undefined ? {} : { predictionCount: limit } };
    },
    async setLimits() {},
  };
}

export function createMemoryDeployments(): DeploymentStore & { readonly counters: Map<string, Counters & { lastError?: string }> } {
  const counters = new Map<string, Counters & { lastError?: string }>();
  const notUsed = async (): Promise<never> => {
    throw new Error('not used by these tests');
  };
  return {
    counters,
    upsert: notUsed,
    get: async () => undefined as DeploymentRecord | undefined,
    list: async () => [],
    setStatus: async () => {},
    async addCounters(id, delta, lastError) {
      const c = counters.get(id) ?? { received: 0, scored: 0, failed: 0 };
      counters.set(id, { received: c.received + (delta.received ?? 0), scored: c.scored + (delta.scored ?? 0), failed: c.failed + (delta.failed ?? 0), ...(lastError ? { lastError } : c.lastError ? { lastError: c.lastError } : {}) });
    },
    setCounters: notUsed,
  };
}
