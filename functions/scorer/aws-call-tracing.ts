/**
 * X-Ray subsegments for the scorer's AWS calls and a segment per invocation,
 * with Powertools' tracer. Imported by observability.ts only for deployments
 * that trace AWS calls: loading it loads the X-Ray SDK, whose context tracking
 * (cls-hooked) hooks every promise of the process.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { MiddlewareObj } from '@middy/core';

export interface AwsCallTracing {
  traceClient<Client>(client: Client): Client;
  readonly middleware: MiddlewareObj;
}

export function createAwsCallTracing(serviceName: string): AwsCallTracing {
  const tracer = new Tracer({ serviceName });
  return {
    traceClient: (client) => tracer.captureAWSv3Client(client),
    middleware: captureLambdaHandler(tracer, { captureResponse: false }),
  };
}
