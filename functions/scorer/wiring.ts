/** Builds a scorer on real (or S3/DynamoDB-compatible) stores. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DeploymentBinding, Logger, ScoringMetrics } from './domain/ports.js';
import { createScorer, type BulkOptions, type Scorer } from './domain/scorer.js';
import type { ModelLoader } from './engines/engine-registry.js';
import { loadModel } from './engines/framework-engines.js';
import { createDynamoDbDeploymentStore } from './store/dynamodb-deployment-store.js';
import { createDynamoDbInputLedger } from './store/dynamodb-input-ledger.js';
import { createDynamoDbUsageMeter } from './store/dynamodb-usage-meter.js';
import { createS3ObjectStore } from './store/s3-object-store.js';

export interface StoreWiring {
  readonly s3: S3Client;
  readonly db: DynamoDBClient;
  readonly deploymentsTable: string;
  readonly ledgerTable: string;
  readonly log: Logger;
  readonly metrics?: ScoringMetrics;
  /** Bulk files: part size, and (AWS) the fan-out for large ones. */
  readonly bulk?: BulkOptions;
}

/** A scorer that loads a model of any framework (the local stack, tests). */
export function createStoredScorer(wiring: StoreWiring, binding: DeploymentBinding, modelDir: string, maxRecordBytes?: number): Scorer {
  return createStoredScorerWith(loadModel, wiring, binding, modelDir, maxRecordBytes);
}

/** A scorer limited to the engines `load` knows: what a one-framework Lambda bundle uses. */
export function createStoredScorerWith(load: ModelLoader, wiring: StoreWiring, binding: DeploymentBinding, modelDir: string, maxRecordBytes?: number): Scorer {
  return createScorer({
    binding,
    modelDir,
    maxRecordBytes,
    load,
    objects: createS3ObjectStore(wiring.s3),
    deployments: createDynamoDbDeploymentStore(wiring.db, wiring.deploymentsTable),
    ledger: createDynamoDbInputLedger(wiring.db, wiring.ledgerTable),
    usage: createDynamoDbUsageMeter(wiring.db, wiring.deploymentsTable),
    log: wiring.log,
    metrics: wiring.metrics,
    bulk: wiring.bulk,
  });
}
