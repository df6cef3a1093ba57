/**
 * The scorer Lambda's settings, read from its environment once at cold start,
 * validated and frozen. Nothing else in the scorer reads `process.env`.
 */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from './domain/errors.js';
import type { DeploymentBinding } from './domain/ports.js';
import { DEFAULT_MAX_RECORD_BYTES } from './domain/record-bytes.js';
import type { AwsConnection } from './store/aws-clients.js';

export interface ScorerConfig {
  readonly binding: DeploymentBinding;
  readonly modelDir: string;
  readonly deploymentsTable: string;
  readonly ledgerTable: string;
  readonly maxRecordBytes: number;
  readonly connection: AwsConnection;
  readonly bulk: BulkConfig;
  /** X-Ray subsegments for each AWS call (the manifest's traceAwsCalls). */
  readonly traceAwsCalls: boolean;
}

export interface BulkConfig {
  /** About how many bytes of whole lines a part of a bulk file holds. */
  readonly partBytes?: number;
  /** AWS: the deployment's fan-out, for bulk files of at least `fanOutBytes`. */
  readonly fanOut?: { readonly stateMachineArn: string; readonly fanOutBytes: number };
}

export function readScorerConfig(env: NodeJS.ProcessEnv): ScorerConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new ConfigError(`environment variable ${name} is required`);
    return value;
  };
  const model = required('MODEL_NAME');
  const maxRecordBytes = env['MAX_RECORD_BYTES'] ? Number(env['MAX_RECORD_BYTES']) : DEFAULT_MAX_RECORD_BYTES;
  if (!Number.isInteger(maxRecordBytes) || maxRecordBytes <= 0) {
    throw new ConfigError(`MAX_RECORD_BYTES must be a positive integer, got ${JSON.stringify(env['MAX_RECORD_BYTES'])}`);
  }
  return Object.freeze({
    binding: Object.freeze({
      id: required('DEPLOYMENT_ID'),
      name: required('DEPLOYMENT_NAME'),
      model,
      source: Object.freeze({ bucket: required('SOURCE_BUCKET'), prefix: env['SOURCE_PREFIX'] ?? '', suffix: env['SOURCE_SUFFIX'] ?? '' }),
      target: Object.freeze({ bucket: required('TARGET_BUCKET'), prefix: env['TARGET_PREFIX'] ?? '' }),
    }),
    modelDir: modelDirOf(env, model),
    deploymentsTable: required('DEPLOYMENTS_TABLE'),
    ledgerTable: required('LEDGER_TABLE'),
    maxRecordBytes,
    connection: Object.freeze({ region: env['AWS_REGION'] ?? 'us-east-1', endpoint: env['AWS_ENDPOINT_URL'] || undefined }),
    bulk: readBulkConfig(env),
    traceAwsCalls: env['TRACE_AWS_CALLS'] === 'true',
  });
}

/**
 * Where the model is: MODEL_DIR as the construct set it, either absolute (a
 * model layer, /opt/models/<name>) or relative to the function's own code
 * (LAMBDA_TASK_ROOT, which Lambda sets: the LocalStack package carries the
 * model inside the function).
 */
function modelDirOf(env: NodeJS.ProcessEnv, model: string): string {
  const modelDir = env['MODEL_DIR'] || `/opt/models/${model}`;
  if (isAbsolute(modelDir)) return modelDir;
  const taskRoot = env['LAMBDA_TASK_ROOT'];
  if (!taskRoot) throw new ConfigError(`MODEL_DIR ${JSON.stringify(modelDir)} is relative to the function's code, but LAMBDA_TASK_ROOT is not set`);
  return resolve(taskRoot, modelDir);
}

function readBulkConfig(env: NodeJS.ProcessEnv): BulkConfig {
  const bytes = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };
  const partBytes = bytes('BULK_PART_BYTES');
  const stateMachineArn = env['BULK_STATE_MACHINE_ARN'];
  const fanOutBytes = bytes('BULK_FAN_OUT_BYTES');
  if (stateMachineArn && fanOutBytes === undefined) throw new ConfigError('BULK_FAN_OUT_BYTES is required with BULK_STATE_MACHINE_ARN');
  return Object.freeze({ ...(partBytes ? { partBytes } : {}), ...(stateMachineArn ? { fanOut: Object.freeze({ stateMachineArn, fanOutBytes: fanOutBytes! }) } : {}) });
}
