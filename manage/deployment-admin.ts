/**
 * Deployments as users manage them (CLI now, web console next): list, show,
 * deploy, delete, usage. On the local stack a change applies at once (the
 * running stack picks the record up); on AWS it edits the manifest and
 * returns the `cdk deploy` that applies it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, UsageLimitError } from '../functions/scorer/domain/errors.js';
import type { DeploymentRecord, DeploymentStore, UsageLimits, UsageMeter } from '../functions/scorer/domain/ports.js';
import { ensureBucket } from '../infra/local/provision.js';
import { checkDeploymentGraph } from '../infra/manifest/deployments-manifest.js';
import { addManifestEntry, readManifest, removeManifestEntry } from './manifest-editor.js';
import { findModel, listModels } from './model-catalog.js';

export type Target = 'local' | 'aws';

export interface AdminContext {
  readonly target: Target;
  readonly deployments: DeploymentStore;
  readonly usage: UsageMeter;
  readonly s3: S3Client;
  readonly manifestPath: string;
  readonly modelsRoot: string;
  /** Local only: make the running stack start the scorer now (when it runs in this process). */
  readonly reconcile?: () => Promise<void>;
}

export class UnknownDeploymentError extends ConfigError {}

export async function listDeployments(ctx: AdminContext, includeDeleted = false): Promise<DeploymentRecord[]> {
  const records = await ctx.deployments.list();
  return includeDeleted ? records : records.filter((r) => r.status !== 'DELETED');
}

export async function findDeployment(ctx: AdminContext, nameOrId: string): Promise<DeploymentRecord> {
  const records = await listDeployments(ctx);
  const found = records.find((r) => r.name === nameOrId || r.id === nameOrId);
  if (!found) {
    const known = records.map((r) => r.name).join(', ') || '(none: create one with `dropscore deploy`)';
    throw new UnknownDeploymentError(`no deployment named "${nameOrId}"; deployments: ${known}`);
  }
  return found;
}

export interface DeployRequest {
  readonly model: string;
  readonly source: string;
  readonly target: string;
  /** Key prefixes in the buckets (default: the whole bucket); "in/" and "out/" let one bucket serve both. */
  readonly sourcePrefix?: string;
  readonly targetPrefix?: string;
  readonly name?: string;
  readonly description?: string;
}

export interface DeployResult {
  readonly record?: DeploymentRecord;
  /** AWS: the command that applies the manifest change. */
  readonly apply?: string;
}

const STATUS_POLL_MS = 200;
const STATUS_TIMEOUT_MS = 60_000;

export async function deploy(ctx: AdminContext, request: DeployRequest): Promise<DeployResult> {
  const model = await findModel(ctx.modelsRoot, request.model);
  const name = request.name ?? `${request.model}-batch`;
  const existing = await listDeployments(ctx);
  if (existing.some((r) => r.name === name)) throw new ConfigError(`a deployment named "${name}" exists already (choose another with --name, or delete it first)`);
  const { limits } = readManifest(ctx.manifestPath);
  if (limits.deploymentCount !== undefined && existing.length >= limits.deploymentCount) {
    throw new UsageLimitError('DEPLOYMENT_LIMIT_REACHED', `the instance has ${existing.length} of its ${limits.deploymentCount} deployments (limit deployment_count)`);
  }
  // Against the table too, which may hold deployments the manifest does not (made from another manifest).
  const source = { bucket: request.source, ...(request.sourcePrefix ? { prefix: request.sourcePrefix } : {}) };
  const target = { bucket: request.target, ...(request.targetPrefix ? { prefix: request.targetPrefix } : {}) };
  checkDeploymentGraph([...existing, { name, source: { prefix: '', ...source }, target: { prefix: '', ...target } }]);
  const manifest = addManifestEntry(ctx.manifestPath, {
    name,
    description: request.description ?? `${model.framework} model ${model.name}`,
    model: model.name,
    source,
    target,
  });
  const spec = manifest.deployments.find((d) => d.name === name)!;
  if (ctx.target === 'aws') return { apply: cdkDeployCommand(ctx.manifestPath) };
  await ensureBucket(ctx.s3, spec.source.bucket);
  await ensureBucket(ctx.s3, spec.target.bucket);
  await ctx.deployments.upsert({ ...spec, framework: model.framework });
  await ctx.reconcile?.();
  return { record: await waitWhileInitializing(ctx, spec.id) };
}

export async function deleteDeployment(ctx: AdminContext, nameOrId: string): Promise<DeployResult> {
  const record = await findDeployment(ctx, nameOrId);
  removeManifestEntry(ctx.manifestPath, record.name);
  if (ctx.target === 'aws') return { record, apply: cdkDeployCommand(ctx.manifestPath) };
  await ctx.deployments.setStatus(record.id, 'DELETED');
  await ctx.reconcile?.();
  return { record: (await ctx.deployments.get(record.id))! };
}

export interface UsageLine {
  readonly used: number;
  readonly limit?: number;
}

export interface UsageReport {
  readonly models: UsageLine;
  readonly deployments: UsageLine;
  readonly predictions: UsageLine;
}

export async function usageReport(ctx: AdminContext): Promise<UsageReport> {
  const [models, deployments, usage] = await Promise.all([listModels(ctx.modelsRoot), listDeployments(ctx), ctx.usage.read()]);
  const limits: UsageLimits = { ...readManifest(ctx.manifestPath).limits, ...usage.limits };
  return {
    models: { used: models.length, limit: limits.modelCount },
    deployments: { used: deployments.length, limit: limits.deploymentCount },
    predictions: { used: usage.predictions, limit: limits.predictionCount },
  };
}

export function cdkDeployCommand(manifestPath: string): string {
  return `npx cdk deploy -c manifest=${manifestPath}`;
}

async function waitWhileInitializing(ctx: AdminContext, id: string): Promise<DeploymentRecord> {
  const deadline = Date.now() + STATUS_TIMEOUT_MS;
  for (;;) {
    const record = (await ctx.deployments.get(id))!;
    if (record.status !== 'INITIALIZING' || Date.now() > deadline) return record;
    await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
  }
}
