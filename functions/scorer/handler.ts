/**
 * The scorer Lambda: a thin middy shell. Configuration and the model are set
 * up once per container; each invocation (an S3 notification, an SQS batch of
 * them, or a warm-up) goes to the domain.
 */
import middy from '@middy/core';
import { readScorerConfig } from './config.js';
import { handleInvocation } from './domain/invocation.js';
import type { Scorer } from './domain/scorer.js';
import { createJsonLogger } from './logging.js';
import { createDynamoDbClient, createS3Client } from './store/aws-clients.js';
import { createStoredScorer } from './wiring.js';

/** Shared with the local stack, so it runs exactly the handler Lambda runs. */
export function createHandler(getScorer: () => Scorer) {
  return middy(async (event: unknown) => handleInvocation(getScorer(), event));
}

function scorerFromEnvironment(): Scorer {
  const config = readScorerConfig(process.env);
  const wiring = {
    s3: createS3Client(config.connection),
    db: createDynamoDbClient(config.connection),
    deploymentsTable: config.deploymentsTable,
    ledgerTable: config.ledgerTable,
    log: createJsonLogger(),
  };
  return createStoredScorer(wiring, config.binding, config.modelDir, config.maxRecordBytes);
}

let lambdaScorer: Scorer | undefined;

/** The Lambda entry point; the scorer is built on first use so importing this module has no side effects. */
export const handler = createHandler(() => (lambdaScorer ??= scorerFromEnvironment()));
