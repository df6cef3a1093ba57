/**
 * The scorer's observability on Lambda, with Powertools for AWS Lambda:
 * structured logs carrying the request id and the deployment, CloudWatch
 * metrics in the embedded metric format (no API calls), and, where the
 * deployment asks for it, X-Ray subsegments for each AWS call (aws-call-tracing.ts,
 * imported only then: the X-Ray SDK's import and its async hook on every
 * promise cost the cold start). Lambda's active tracing records each
 * invocation either way. The domain sees only its Logger and ScoringMetrics
 * ports; the local stack keeps its plain JSON logs.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { InvocationResult } from './domain/invocation.js';
import type { DeploymentBinding, Logger, ScoringMetrics } from './domain/ports.js';

export const SERVICE_NAME = 'dropscore-scorer';
export const METRICS_NAMESPACE = 'dropscore';

export interface LambdaObservability {
  readonly logger: PowertoolsLogger;
  readonly metrics: Metrics;
  /** The domain's ports over the Powertools utilities. */
  readonly log: Logger;
  readonly scoringMetrics: ScoringMetrics;
  /** An AWS SDK client whose calls are traced when the deployment traces AWS calls; else the client itself. */
  traceClient<Client>(client: Client): Client;
  /** Request id and cold start on every log line, metrics flushed after each invocation (and its trace segment, when traced). */
  readonly middlewares: MiddlewareObj[];
}

export async function createLambdaObservability(binding: DeploymentBinding, options: { traceAwsCalls: boolean }): Promise<LambdaObservability> {
  const logger = new PowertoolsLogger({ serviceName: SERVICE_NAME, persistentKeys: { deployment: binding.name, deploymentId: binding.id, model: binding.model } });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, defaultDimensions: { deployment: binding.name } });
  const tracing = options.traceAwsCalls ? (await import('./aws-call-tracing.js')).createAwsCallTracing(SERVICE_NAME) : undefined;
  return {
    logger,
    metrics,
    log: loggerPortOf(logger),
    scoringMetrics: scoringMetricsOf(metrics),
    traceClient: (client) => (tracing ? tracing.traceClient(client) : client),
    middlewares: [...(tracing ? [tracing.middleware] : []), injectLambdaContext(logger), publishMetrics(metrics), logInvocation(logger)],
  };
}

export function loggerPortOf(logger: PowertoolsLogger): Logger {
  return {
    info: (message, fields) => (fields ? logger.info(message, fields) : logger.info(message)),
    warn: (message, fields) => (fields ? logger.warn(message, fields) : logger.warn(message)),
    error: (message, fields) => (fields ? logger.error(message, fields) : logger.error(message)),
  };
}

export function scoringMetricsOf(metrics: Metrics): ScoringMetrics {
  return {
    outcomesCounted(scored, failed) {
      metrics.addMetric('RecordsScored', MetricUnit.Count, scored);
      metrics.addMetric('RecordsFailed', MetricUnit.Count, failed);
    },
    scoringLatency: (ms) => metrics.addMetric('ScoringLatency', MetricUnit.Milliseconds, ms),
    modelLoadTime: (ms) => metrics.addMetric('ModelLoadTime', MetricUnit.Milliseconds, ms),
  };
}

/**
 * Flushes what the invocation (and the init before it: the model load time) recorded. Powertools'
 * own logMetrics warns on every invocation that recorded none (warm-ups, duplicates, online scoring).
 */
function publishMetrics(metrics: Metrics): MiddlewareObj {
  const publish = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
}

/** One line per invocation saying what it did, so every request id has its keys and results in the logs. */
function logInvocation(logger: PowertoolsLogger): MiddlewareObj<unknown, InvocationResult> {
  return {
    after: async (request) => {
      const result = request.response;
      if (result && 'results' in result) logger.info('event handled', { objects: result.results });
      else if (result && 'batchItemFailures' in result) logger.info('queued batch handled', { failedMessages: result.batchItemFailures.length });
      else if (result && 'statusCode' in result) logger.info('online scoring request handled', { statusCode: result.statusCode });
    },
  };
}
