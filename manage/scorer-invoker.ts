/**
 * Runs a deployment's scorer on an event and says how each object ended:
 * what `dropscore backfill` and `redrive` hand their events to. On AWS, a
 * synchronous invoke of the scorer function (its answer is the handler's
 * EventReport, an error thrown there is the invocation's function error); on
 * a local stack, the same handler in this process, on the stack's tables and
 * buckets (as a second Lambda container would: the ledger keeps them apart).
 */
import { join } from 'node:path';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ConfigError } from '../functions/scorer/domain/errors.js';
import type { DeploymentRecord } from '../functions/scorer/domain/ports.js';
import type { EventReport } from '../functions/scorer/domain/scorer.js';
import { createHandler } from '../functions/scorer/event-handler.js';
import { createStoredScorer, type StoreWiring } from '../functions/scorer/wiring.js';

/** Resolves with the scorer's report, or rejects with why the invocation failed (nothing was finished then for sure). */
export type ScorerInvoker = (event: unknown) => Promise<EventReport>;

/** Thrown when the scorer itself failed the invocation (a store failed: the event is to be retried). */
export class InvocationFailed extends Error {}

export function lambdaInvoker(lambda: LambdaClient, record: DeploymentRecord): ScorerInvoker {
  const functionName = record.awsResources?.scorerFunction;
  if (!functionName) throw new ConfigError(`deployment "${record.name}" has no scorer function in its record: deploy it with this version's CDK app (npx cdk deploy)`);
  return async (event) => {
    const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: JSON.stringify(event) }));
    const text = new TextDecoder().decode(response.Payload ?? new Uint8Array());
    if (response.FunctionError) {
      const failure = safeJson(text) as { errorMessage?: string; errorType?: string } | undefined;
      throw new InvocationFailed(`${failure?.errorType ?? response.FunctionError}: ${failure?.errorMessage ?? text}`);
    }
    const report = safeJson(text) as EventReport | undefined;
    if (!Array.isArray(report?.results)) throw new InvocationFailed(`the scorer answered ${text.slice(0, 200)}, not a report of its objects`);
    return report;
  };
}

export function inProcessInvoker(wiring: StoreWiring, record: DeploymentRecord, modelsRoot: string): ScorerInvoker {
  const scorer = createStoredScorer(wiring, record, join(modelsRoot, record.model));
  const handler = createHandler(() => scorer);
  return async (event) => {
    try {
      return (await handler(event, {} as never)) as EventReport;
    } catch (error) {
      throw new InvocationFailed((error as Error).message, { cause: error });
    }
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
