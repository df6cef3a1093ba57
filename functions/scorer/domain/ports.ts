/**
 * What the scoring domain needs from the outside world. The scorer Lambda and
 * the local stack plug in S3 and DynamoDB adapters; unit tests plug in mocks.
 */

export interface ObjectRead {
  readonly eTag: string;
  readonly versionId?: string;
  readonly size: number;
  /** Absent when the object is larger than the caller's limit: it was not downloaded. */
  readonly body?: Uint8Array;
}

/** One version of an object, to read it whole or by byte ranges without ever getting another version. */
export interface ObjectVersion {
  readonly eTag: string;
  readonly versionId?: string;
}

export interface ObjectStream extends ObjectVersion {
  /** The bytes returned (the range's length for a ranged read). */
  readonly size: number;
  readonly body: AsyncIterable<Uint8Array>;
}

export interface ObjectStore {
  /** `undefined` when there is no such key (deleted since its event was sent). */
  read(bucket: string, key: string, maxBytes: number): Promise<ObjectRead | undefined>;
  /** The current eTag, version, size and user metadata of a key, or `undefined` if there is none. */
  head(bucket: string, key: string): Promise<{ readonly eTag: string; readonly versionId?: string; readonly size?: number; readonly metadata: Readonly<Record<string, string>> } | undefined>;
  write(bucket: string, key: string, body: string, metadata: Readonly<Record<string, string>>): Promise<void>;
  /**
   * Streams an object, or the byte range [start, end) of it. Pinned to `version`:
   * throws ObjectChangedError if the key holds another version now (or none).
   * `undefined` when unpinned and there is no such key.
   */
  stream(bucket: string, key: string, options?: { readonly version?: ObjectVersion; readonly range?: { readonly start: number; readonly end: number } }): Promise<ObjectStream | undefined>;
  /** Writes a body of any size from a stream, in bounded memory (multipart upload when large). */
  writeStream(bucket: string, key: string, body: AsyncIterable<Uint8Array | string>, metadata: Readonly<Record<string, string>>, contentType: string): Promise<void>;
  /** Deletes keys; keys already gone are no error. */
  remove(bucket: string, keys: readonly string[]): Promise<void>;
}

export type DeploymentStatus = 'INITIALIZING' | 'DEPLOY_SUCCESS' | 'FAILED' | 'DELETED';

export interface BucketBinding {
  readonly bucket: string;
  /** Only keys under this prefix are watched (source) or written (target). */
  readonly prefix: string;
  /** Source only: only keys ending so are watched (e.g. `.json`); empty for all. */
  readonly suffix?: string;
}

export interface DeploymentBinding {
  readonly id: string;
  readonly name: string;
  readonly model: string;
  readonly source: BucketBinding;
  readonly target: BucketBinding;
}

export interface AwsResources {
  readonly scorerFunction: string;
  /** Direct delivery: failed async invocations (Lambda's on-failure records); queued: messages received too often. */
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  /** Queued delivery only: the queue S3 sends to and the scorer reads. */
  readonly deliveryQueueArn?: string;
}

export interface Counters {
  readonly received: number;
  readonly scored: number;
  readonly failed: number;
}

export interface DeploymentRecord extends DeploymentBinding {
  readonly description: string;
  readonly framework: string;
  /** AWS: the scorer's function URL for online scoring (IAM auth). */
  readonly scoringUrl?: string;
  /** AWS: the scorer and its queues, for `dropscore backfill` and `redrive` (written at deploy time). */
  readonly awsResources?: AwsResources;
  readonly status: DeploymentStatus;
  readonly statusDetails?: string;
  readonly createdAt: string;
  readonly modifiedAt: string;
  readonly counters: Counters;
  readonly lastError?: string;
  /**
   * 0 for a deployment's first life; each time it is created again after being
   * deleted, one more. Its inputs are ledgered per generation (ledger-scope.ts).
   */
  readonly generation: number;
}

export type NewDeployment = Omit<DeploymentRecord, 'status' | 'statusDetails' | 'createdAt' | 'modifiedAt' | 'counters' | 'lastError' | 'generation'>;

export interface DeploymentStore {
  /**
   * Creates the record as INITIALIZING, or rebinds a live one keeping its counters,
   * creation time and last error. A DELETED one is created anew: the next generation,
   * a new creation time, zero counters, no last error.
   */
  upsert(deployment: NewDeployment): Promise<DeploymentRecord>;
  get(id: string): Promise<DeploymentRecord | undefined>;
  list(): Promise<DeploymentRecord[]>;
  setStatus(id: string, status: DeploymentStatus, details?: string): Promise<void>;
  addCounters(id: string, delta: Partial<Counters>, lastError?: string): Promise<void>;
  /**
   * Overwrites the counters with values recounted from the ledger (after a crash). With
   * `onlyIf`, only while they still hold those values: false when they moved meanwhile.
   */
  setCounters(id: string, counters: Counters, onlyIf?: Counters): Promise<boolean>;
}

export interface UsageLimits {
  readonly modelCount?: number;
  readonly deploymentCount?: number;
  readonly predictionCount?: number;
}

export interface PredictionQuota {
  /** How many of the requested predictions may be made (and were counted). */
  readonly granted: number;
  readonly used: number;
  readonly limit?: number;
}

export interface PredictionOptions {
  /** An online request is scored whole or not at all: all of its predictions are granted, or none. */
  readonly allOrNothing?: boolean;
  /** Online predictions are kept apart too: the ledger recounts only batch ones. */
  readonly online?: boolean;
}

/** The instance's prediction count against its limit, shared by every deployment. */
export interface UsageMeter {
  /** Counts up to `count` predictions about to be made, never past the limit. */
  consumePredictions(count: number, options?: PredictionOptions): Promise<PredictionQuota>;
  /** Gives back predictions counted but not made (the engine failed). */
  refundPredictions(count: number, options?: PredictionOptions): Promise<void>;
  /**
   * Sets the count to the online predictions plus `batch`, recounted from the ledger (after a
   * crash). With `onlyIf`, only while the count is still that: false when it moved meanwhile.
   */
  setBatchPredictions(batch: number, onlyIf?: number): Promise<boolean>;
  /** `predictions` counts all of them, `onlinePredictions` the online ones among them. */
  read(): Promise<{ readonly predictions: number; readonly onlinePredictions: number; readonly limits: UsageLimits }>;
  setLimits(limits: UsageLimits): Promise<void>;
}

/** `new`: first sight of this input version; `claimed`: seen but not finished; `done`: it has its outcome. */
export type ClaimState = 'new' | 'claimed' | 'done';

/** How completing an input version went. */
export interface Completion {
  /** This call finished the input version, so the caller counts it; false if another delivery did. */
  readonly counted: boolean;
  /**
   * False only when the ledger shows no other version of the key, claimed before
   * this completion, whose outcome could have been written before this one's (a
   * newer version's outcome is written after its claim). The caller's outcome is
   * then the newest, and the key need not be checked for an overwrite.
   */
  readonly otherVersionClaimed: boolean;
}

/**
 * What the ledger saw of one deployment, over every input version ever claimed:
 * the truth the counters are recounted from after a crash (each `scored` input
 * is one prediction made).
 */
export type LedgerTally = Counters;

/**
 * Remembers which input versions (key + eTag) have an outcome, so a redelivered
 * S3 event neither scores twice nor counts twice.
 */
export interface InputLedger {
  /**
   * `scope` starts with the deployment id and `#` (see ledger-scope.ts). `received`: how many
   * records the version counts as received on its first claim (1 for a record file; 0 for a
   * bulk file, whose records are known and counted when it completes).
   */
  claim(scope: string, key: string, eTag: string, received?: number): Promise<ClaimState>;
  /**
   * Undoes a record file's `new` claim still in `received` (and the one it counted), when its
   * count could not be written: the retry then claims it anew and counts it. A no-op if any
   * delivery finished the version meanwhile.
   */
  release(scope: string, key: string, eTag: string): Promise<void>;
  /**
   * `tally`: what the version adds to the running totals (a bulk file counts its records);
   * by default one input, received before, ending `outcome`.
   */
  complete(scope: string, key: string, eTag: string, outcome: 'scored' | 'failed', tally?: Counters): Promise<Completion>;
  /** Totals per ledger owner (deployment id and generation: ledgerOwner). Reads the whole ledger: for recovery, not for every request. */
  tallies(): Promise<ReadonlyMap<string, LedgerTally>>;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What the scorer reports for dashboards and alarms (CloudWatch metrics on AWS; nothing locally). */
export interface ScoringMetrics {
  /** Outcomes a delivery finished and counted (as the deployment's counters count them). */
  outcomesCounted(scored: number, failed: number): void;
  /** From a set of objects' arrival at the scorer to their outcomes written. */
  scoringLatency(ms: number): void;
  modelLoadTime(ms: number): void;
}

export const NO_METRICS: ScoringMetrics = Object.freeze({ outcomesCounted() {}, scoringLatency() {}, modelLoadTime() {} });

/** Takes a bulk file too large for one invocation (AWS: a Step Functions Distributed Map); absent locally. */
export interface BulkFanOut {
  /** Bulk files of at least this many bytes fan out. */
  readonly minBytes: number;
  /** Starts the fan-out of one input version (a duplicate start while it runs is absorbed). */
  start(input: { readonly bucket: string; readonly key: string; readonly eTag: string; readonly versionId?: string }): Promise<void>;
}
