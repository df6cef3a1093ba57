/**
 * The scorer Lambda: a thin middy shell. Each framework's entry module
 * (lambda/<framework>-scorer.ts) builds it at init with only its engine, and
 * loads the deployment's model there, so the first event only scores and a
 * deploy-time warm-up or provisioned concurrency pre-loads the model.
 */
import { readScorerConfig } from './config.js';
import { describeError } from './domain/errors.js';
import { createModelLoader, type EngineTable } from './engines/engine-registry.js';
import { createHandler } from './event-handler.js';
import { createLambdaObservability } from './observability.js';
import { createDynamoDbClient, createS3Client } from './store/aws-clients.js';
import { createStepFunctionsFanOut } from './store/step-functions-fan-out.js';
import { createStoredScorerWith } from './wiring.js';
import type { BulkConfig } from './config.js';
import type { BulkOptions } from './domain/scorer.js';
import type { SFNClient } from '@aws-sdk/client-sfn';

/** The Lambda handler, with the model loaded: awaited at the top level of an entry module (Lambda's init). */
export async function initLambdaHandler(engines: EngineTable) {
  const config = readScorerConfig(process.env);
  const observability = await createLambdaObservability(config.binding, { traceAwsCalls: config.traceAwsCalls });
  const { log, traceClient } = observability;
  const wiring = {
    s3: traceClient(createS3Client(config.connection)),
    db: traceClient(createDynamoDbClient(config.connection)),
    deploymentsTable: config.deploymentsTable,
    ledgerTable: config.ledgerTable,
    log,
    metrics: observability.scoringMetrics,
  };
  const bulk = bulkOptionsOf(config.bulk, async () => traceClient((await import('./store/step-functions-client.js')).createStepFunctionsClient(config.connection)));
  const scorer = createStoredScorerWith(createModelLoader(engines), wiring, config.binding, config.modelDir, config.maxRecordBytes, bulk);
  // A failed status write must not fail the init (Lambda would retry it blindly): the first event loads again.
  await scorer.warmUp().catch((error: unknown) => log.error('model not loaded at init, retried on the first event', { reason: describeError(error) }));
  return createHandler(() => scorer).use(observability.middlewares);
}

function bulkOptionsOf(config: BulkConfig, connect: () => Promise<SFNClient>): BulkOptions {
  const { fanOut, partBytes } = config;
  return { ...(partBytes ? { partBytes } : {}), ...(fanOut ? { fanOut: createStepFunctionsFanOut(connect, fanOut.stateMachineArn, fanOut.fanOutBytes) } : {}) };
}
