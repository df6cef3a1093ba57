/**
 * `deployments.json`: the one list of batch deployments. The embedded local
 * stack, the CLI and (later) `cdk deploy` all read it through this module, so
 * a deployment means the same thing everywhere.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, describeError } from '../../functions/scorer/domain/errors.js';
import type { BucketBinding, DeploymentBinding, UsageLimits } from '../../functions/scorer/domain/ports.js';

export interface DeploymentSpec {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly model: string;
  readonly source: BucketBinding;
  readonly target: BucketBinding;
  /** How the cloud wires it; the local stack ignores what it cannot apply. */
  readonly cloud: CloudOptions;
}

export interface CloudOptions {
  /** Buckets that exist already are referenced by name, not created (and not deleted with the stack). */
  readonly existingSource: boolean;
  readonly existingTarget: boolean;
  /** `direct`: S3 invokes the scorer per object; `queued`: S3 → SQS → scorer in batches, for high volumes. */
  readonly delivery: 'direct' | 'queued';
  readonly batchSize: number;
  readonly batchWindowSeconds: number;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /**
   * Concurrent executions reserved for (and capping) the scorer, so one large drop cannot take the
   * account's concurrency; `undefined` (`"reservedConcurrency": null`) leaves it unreserved.
   */
  readonly reservedConcurrency: number | undefined;
  /** Queued delivery: how many scorers the SQS event source may run at once (Lambda's MaximumConcurrency). */
  readonly maxConcurrency: number;
  /** SSE-KMS key of an `existing` source or target bucket: the scorer may decrypt (and encrypt) with it. */
  readonly sourceKmsKeyArn: string | undefined;
  readonly targetKmsKeyArn: string | undefined;
  /** Bulk files (JSON Lines, CSV) too large for one invocation fan out through a Step Functions Distributed Map. */
  readonly bulk: BulkFanOutOptions;
  /**
   * X-Ray subsegments for each S3, DynamoDB and Step Functions call (Powertools' tracer). Off by default:
   * Lambda's active tracing records every invocation anyway, and the X-Ray SDK costs the cold start its
   * import and an async hook on every promise (BENCHMARKS.md, "Cold start").
   */
  readonly traceAwsCalls: boolean;
}

export interface BulkFanOutOptions {
  /** Bulk files of at least this many bytes fan out; smaller ones are scored in the invocation their event reached. */
  readonly fanOutBytes: number;
  /** About how many bytes of whole lines one part holds. */
  readonly partBytes: number;
  /** Parts one scorer invocation scores (the Map's ItemBatcher). */
  readonly partsPerInvocation: number;
  /** Scorer invocations the Map runs at once; at most the reserved concurrency. */
  readonly maxConcurrency: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_CLOUD_OPTIONS: CloudOptions = Object.freeze({
  existingSource: false,
  existingTarget: false,
  delivery: 'direct',
  batchSize: 10,
  batchWindowSeconds: 5,
  memoryMb: 1024,
  timeoutSeconds: 60,
  reservedConcurrency: 10,
  maxConcurrency: 10,
  sourceKmsKeyArn: undefined,
  targetKmsKeyArn: undefined,
  bulk: Object.freeze({ fanOutBytes: 64 * MIB, partBytes: 8 * MIB, partsPerInvocation: 1, maxConcurrency: 5 }),
  traceAwsCalls: false,
});

// Lambda's limits: SQS event sources take batches over 10 only with a batching window, and run 2-1000 scorers at once.
const MAX_UNWINDOWED_BATCH = 10;
const MIN_MAX_CONCURRENCY = 2;
const MAX_MAX_CONCURRENCY = 1000;
// A key ARN (not an alias: grants on an alias do not cover the key S3 uses).
const KMS_KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export interface DeploymentsManifest {
  readonly deployments: readonly DeploymentSpec[];
  /** `"limits": {"model_count", "deployment_count", "prediction_count"}`; absent ones are unlimited. */
  readonly limits: UsageLimits;
  /** `"alarms": {"email": "ops@example.com"}`: subscribed to the alarm topic (CDK context `alarmEmail` overrides it). */
  readonly alarmEmail?: string;
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Stable across runs and machines, so a redeploy updates the same record. */
export function deploymentIdFor(name: string): string {
  return `dep-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

export function readDeploymentsManifest(path: string): DeploymentsManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read deployments manifest ${path}: ${describeError(error)}`, { cause: error });
  }
  return parseDeploymentsManifest(raw, path);
}

export function parseDeploymentsManifest(raw: unknown, where: string): DeploymentsManifest {
  const list = (raw as { deployments?: unknown })?.deployments;
  if (!Array.isArray(list)) throw new ConfigError(`${where}: expected {"deployments": [...]}`);
  const deployments = list.map((entry, i) => parseDeployment(entry, `${where}: deployments[${i}]`));
  checkNamesUnique(deployments, where);
  checkDeploymentGraph(deployments, where);
  const limits = parseLimits((raw as { limits?: unknown }).limits, `${where}: limits`);
  if (limits.deploymentCount !== undefined && deployments.length > limits.deploymentCount) {
    throw new ConfigError(`${where}: ${deployments.length} deployments exceed limits.deployment_count (${limits.deploymentCount})`);
  }
  const alarmEmail = parseAlarmEmail((raw as { alarms?: unknown }).alarms, `${where}: alarms`);
  return Object.freeze({ deployments: Object.freeze(deployments), limits, ...(alarmEmail ? { alarmEmail } : {}) });
}

export function checkAlarmEmail(email: string, where: string): string {
  if (!EMAIL_PATTERN.test(email)) throw new ConfigError(`${where} must be an email address, got ${JSON.stringify(email)}`);
  return email;
}

function parseAlarmEmail(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) throw new ConfigError(`${where} must be an object like {"email": "ops@example.com"}`);
  const { email, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new ConfigError(`${where}: unknown option "${unknown[0]}" (known: email)`);
  if (email === undefined) return undefined;
  if (typeof email !== 'string') throw new ConfigError(`${where}.email must be an email address, got ${JSON.stringify(email)}`);
  return checkAlarmEmail(email, `${where}.email`);
}

const LIMIT_FIELDS: Record<string, keyof UsageLimits> = { model_count: 'modelCount', deployment_count: 'deploymentCount', prediction_count: 'predictionCount' };

function parseLimits(value: unknown, where: string): UsageLimits {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== 'object' || value === null) throw new ConfigError(`${where} must be an object`);
  const limits: Record<string, number> = {};
  for (const [key, limit] of Object.entries(value)) {
    const field = LIMIT_FIELDS[key];
    if (!field) throw new ConfigError(`${where}: unknown limit "${key}" (known: ${Object.keys(LIMIT_FIELDS).join(', ')})`);
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) throw new ConfigError(`${where}.${key} must be a non-negative integer, got ${JSON.stringify(limit)}`);
    limits[field] = limit;
  }
  return Object.freeze(limits as UsageLimits);
}

function parseDeployment(entry: unknown, where: string): DeploymentSpec {
  const e = (entry ?? {}) as Record<string, unknown>;
  const name = e['name'];
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new ConfigError(`${where}: "name" must be lowercase letters, digits and hyphens (1-63), got ${JSON.stringify(name)}`);
  }
  const model = e['model'];
  if (typeof model !== 'string' || !NAME_PATTERN.test(model)) {
    throw new ConfigError(`${where} (${name}): "model" must name a folder under layers/models, got ${JSON.stringify(model)}`);
  }
  const source = parseBinding(e['source'], `${where} (${name}).source`);
  const target = parseBinding(e['target'], `${where} (${name}).target`);
  const description = typeof e['description'] === 'string' ? e['description'] : '';
  const cloud = parseCloudOptions(e, `${where} (${name})`);
  return Object.freeze({ id: deploymentIdFor(name), name, description, model, source, target, cloud });
}

function parseCloudOptions(e: Record<string, unknown>, where: string): CloudOptions {
  const source = (e['source'] ?? {}) as Record<string, unknown>;
  const target = (e['target'] ?? {}) as Record<string, unknown>;
  const delivery = (e['delivery'] ?? {}) as Record<string, unknown>;
  const mode = delivery['mode'] ?? DEFAULT_CLOUD_OPTIONS.delivery;
  if (mode !== 'direct' && mode !== 'queued') throw new ConfigError(`${where}: delivery.mode must be "direct" or "queued", got ${JSON.stringify(mode)}`);
  const integer = (value: unknown, fallback: number, min: number, max: number, field: string): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`${where}: ${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const existingSource = source['existing'] === true;
  const existingTarget = target['existing'] === true;
  const batchSize = integer(delivery['batchSize'], DEFAULT_CLOUD_OPTIONS.batchSize, 1, 10_000, 'delivery.batchSize');
  const batchWindowSeconds = integer(delivery['batchWindowSeconds'], DEFAULT_CLOUD_OPTIONS.batchWindowSeconds, 0, 300, 'delivery.batchWindowSeconds');
  if (mode === 'queued' && batchSize > MAX_UNWINDOWED_BATCH && batchWindowSeconds < 1) {
    throw new ConfigError(
      `${where}: delivery.batchSize ${batchSize} needs delivery.batchWindowSeconds of at least 1 (Lambda refuses SQS batches over ${MAX_UNWINDOWED_BATCH} without a batching window)`,
    );
  }
  const reserved = e['reservedConcurrency'];
  const reservedConcurrency = reserved === null ? undefined : integer(reserved, DEFAULT_CLOUD_OPTIONS.reservedConcurrency!, 1, 10_000, 'reservedConcurrency (or null for none)');
  const maxConcurrency = integer(delivery['maxConcurrency'], Math.max(MIN_MAX_CONCURRENCY, Math.min(reservedConcurrency ?? DEFAULT_CLOUD_OPTIONS.maxConcurrency, MAX_MAX_CONCURRENCY)), MIN_MAX_CONCURRENCY, MAX_MAX_CONCURRENCY, 'delivery.maxConcurrency');
  if (mode === 'queued' && reservedConcurrency !== undefined && maxConcurrency > reservedConcurrency) {
    throw new ConfigError(
      `${where}: delivery.maxConcurrency ${maxConcurrency} exceeds reservedConcurrency ${reservedConcurrency}: the queue would start scorers Lambda throttles (raise reservedConcurrency to at least ${maxConcurrency})`,
    );
  }
  return Object.freeze({
    existingSource,
    existingTarget,
    delivery: mode,
    batchSize,
    batchWindowSeconds,
    memoryMb: integer(e['memoryMb'], DEFAULT_CLOUD_OPTIONS.memoryMb, 128, 10_240, 'memoryMb'),
    timeoutSeconds: integer(e['timeoutSeconds'], DEFAULT_CLOUD_OPTIONS.timeoutSeconds, 1, 900, 'timeoutSeconds'),
    reservedConcurrency,
    maxConcurrency,
    sourceKmsKeyArn: kmsKeyArnOf(source, existingSource, `${where}: source`),
    targetKmsKeyArn: kmsKeyArnOf(target, existingTarget, `${where}: target`),
    bulk: parseBulkOptions((e['bulk'] ?? {}) as Record<string, unknown>, reservedConcurrency, integer),
    traceAwsCalls: traceAwsCallsOf(e['traceAwsCalls'], where),
  });
}

function traceAwsCallsOf(value: unknown, where: string): boolean {
  if (value === undefined) return DEFAULT_CLOUD_OPTIONS.traceAwsCalls;
  if (typeof value !== 'boolean') throw new ConfigError(`${where}: traceAwsCalls must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

type IntegerField = (value: unknown, fallback: number, min: number, max: number, field: string) => number;

function parseBulkOptions(bulk: Record<string, unknown>, reservedConcurrency: number | undefined, integer: IntegerField): BulkFanOutOptions {
  const defaults = DEFAULT_CLOUD_OPTIONS.bulk;
  // A Distributed Map runs up to 10,000 child workflows at once; Lambda throttles past the reserved concurrency.
  const concurrencyCap = Math.min(reservedConcurrency ?? 10_000, 10_000);
  return Object.freeze({
    fanOutBytes: integer(bulk['fanOutBytes'], defaults.fanOutBytes, 1, Number.MAX_SAFE_INTEGER, 'bulk.fanOutBytes'),
    // A part is read whole into a scorer: at least one line (the record size limit), well under its memory.
    partBytes: integer(bulk['partBytes'], defaults.partBytes, MIB, 256 * MIB, 'bulk.partBytes'),
    partsPerInvocation: integer(bulk['partsPerInvocation'], defaults.partsPerInvocation, 1, 100, 'bulk.partsPerInvocation'),
    maxConcurrency: integer(bulk['maxConcurrency'], Math.min(defaults.maxConcurrency, concurrencyCap), 1, concurrencyCap, `bulk.maxConcurrency (at most reservedConcurrency, ${concurrencyCap})`),
  });
}

/** Buckets the stack creates use S3-managed keys; a KMS key is only for a bucket that already exists. */
function kmsKeyArnOf(binding: Record<string, unknown>, existing: boolean, where: string): string | undefined {
  const arn = binding['kmsKeyArn'];
  if (arn === undefined) return undefined;
  if (typeof arn !== 'string' || !KMS_KEY_ARN_PATTERN.test(arn)) {
    throw new ConfigError(`${where}.kmsKeyArn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>, not an alias), got ${JSON.stringify(arn)}`);
  }
  if (!existing) throw new ConfigError(`${where}.kmsKeyArn is only for an existing bucket ("existing": true): buckets the stack creates use S3-managed encryption`);
  return arn;
}

function parseBinding(value: unknown, where: string): BucketBinding {
  const v = (value ?? {}) as Record<string, unknown>;
  const bucket = v['bucket'];
  if (typeof bucket !== 'string' || !BUCKET_PATTERN.test(bucket) || bucket.includes('..')) {
    throw new ConfigError(`${where}: "bucket" must be a valid S3 bucket name, got ${JSON.stringify(bucket)}`);
  }
  const prefix = v['prefix'] ?? '';
  if (typeof prefix !== 'string' || prefix.startsWith('/')) {
    throw new ConfigError(`${where}: "prefix" must be a string not starting with "/", got ${JSON.stringify(prefix)}`);
  }
  const suffix = v['suffix'] ?? '';
  if (typeof suffix !== 'string') throw new ConfigError(`${where}: "suffix" must be a string, got ${JSON.stringify(suffix)}`);
  return Object.freeze({ bucket, prefix, ...(suffix ? { suffix } : {}) });
}

function checkNamesUnique(deployments: DeploymentSpec[], where: string): void {
  const seen = new Set<string>();
  for (const d of deployments) {
    if (seen.has(d.name)) throw new ConfigError(`${where}: deployment name "${d.name}" is used twice`);
    seen.add(d.name);
  }
}

type Bound = Pick<DeploymentBinding, 'name' | 'source' | 'target'>;

/**
 * The rules every entry point shares (manifest and synth, `dropscore deploy`,
 * the console, the local stack): one object belongs to at most one deployment,
 * or it would get two outcomes; and no deployment writes where any deployment
 * (itself included) watches, or its outcomes would be scored again, in a loop
 * or a chain, for as long as it runs.
 */
export function checkDeploymentGraph(deployments: readonly Bound[], where?: string): void {
  const at = where ? `${where}: ` : '';
  deployments.forEach((a, i) => {
    for (const b of deployments.slice(i + 1)) {
      if (overlaps(a.source, b.source)) throw new ConfigError(`${at}deployments "${a.name}" and "${b.name}" watch overlapping keys in bucket "${a.source.bucket}"`);
    }
  });
  for (const writer of deployments) {
    for (const watcher of deployments) {
      if (!overlaps(writer.target, watcher.source)) continue;
      if (writer === watcher) {
        throw new ConfigError(
          `${where ? `${where} (${writer.name}): ` : ''}source and target share bucket "${writer.source.bucket}" with overlapping prefixes ` +
            `("${writer.source.prefix}" and "${writer.target.prefix}"): outcomes would be scored again in a loop; use another bucket or disjoint prefixes`,
        );
      }
      throw new ConfigError(
        `${at}the target of deployment "${writer.name}" (${s3Url(writer.target)}) overlaps the source of deployment "${watcher.name}" (${s3Url(watcher.source)}): ` +
          `"${watcher.name}" would score the outcomes of "${writer.name}" (a chain, or a loop); use another bucket or disjoint prefixes`,
      );
    }
  }
}

function overlaps(a: BucketBinding, b: BucketBinding): boolean {
  return a.bucket === b.bucket && (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix));
}

function s3Url(binding: BucketBinding): string {
  return `s3://${binding.bucket}/${binding.prefix}`;
}
