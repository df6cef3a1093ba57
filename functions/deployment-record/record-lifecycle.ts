/**
 * What `cdk deploy` does to a deployment's record, as a CloudFormation custom
 * resource: on create/update the record is (re)written as INITIALIZING and the
 * scorer is asked to warm up (it sets DEPLOY_SUCCESS or FAILED once its model
 * has loaded); on delete the record is kept, marked DELETED, with its counters.
 */
import { describeError } from '../scorer/domain/errors.js';
import type { DeploymentStore, NewDeployment, UsageLimits, UsageMeter } from '../scorer/domain/ports.js';

/** A deployment's record, or (with `Limits`) the instance's usage limits. */
export interface RecordRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties:
    | {
        readonly Deployment: string;
        readonly ScorerFunctionName: string;
        readonly ScoringUrl?: string;
        readonly DeadLetterQueueUrl?: string;
        readonly DeadLetterQueueArn?: string;
        readonly DeliveryQueueArn?: string;
      }
    | { readonly Limits: string };
}

export interface RecordPorts {
  readonly deployments: DeploymentStore;
  readonly usage: UsageMeter;
  /** Asynchronous: the custom resource does not wait for the model to load. */
  readonly warmUp: (functionName: string) => Promise<void>;
}

export interface RecordOutcome {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly physicalResourceId: string;
  readonly reason?: string;
}

export async function applyRecordRequest(request: RecordRequest, ports: RecordPorts): Promise<RecordOutcome> {
  const properties = request.ResourceProperties;
  if ('Limits' in properties) return applyLimits(request.RequestType, properties.Limits, ports.usage);
  let deployment: NewDeployment;
  try {
    deployment = JSON.parse(properties.Deployment) as NewDeployment;
  } catch (error) {
    return { status: 'FAILED', physicalResourceId: 'invalid', reason: `Deployment property is not JSON: ${describeError(error)}` };
  }
  try {
    if (request.RequestType === 'Delete') {
      if (await ports.deployments.get(deployment.id)) await ports.deployments.setStatus(deployment.id, 'DELETED');
    } else {
      await ports.deployments.upsert({ ...deployment, ...(properties.ScoringUrl ? { scoringUrl: properties.ScoringUrl } : {}), ...awsResourcesOf(properties) });
      await ports.warmUp(properties.ScorerFunctionName);
    }
    return { status: 'SUCCESS', physicalResourceId: deployment.id };
  } catch (error) {
    return { status: 'FAILED', physicalResourceId: deployment.id, reason: describeError(error) };
  }
}

/** Where `dropscore backfill` and `redrive` find the scorer and its queues. */
function awsResourcesOf(properties: { ScorerFunctionName: string; DeadLetterQueueUrl?: string; DeadLetterQueueArn?: string; DeliveryQueueArn?: string }) {
  if (!properties.DeadLetterQueueUrl || !properties.DeadLetterQueueArn) return {};
  return {
    awsResources: {
      scorerFunction: properties.ScorerFunctionName,
      deadLetterQueueUrl: properties.DeadLetterQueueUrl,
      deadLetterQueueArn: properties.DeadLetterQueueArn,
      ...(properties.DeliveryQueueArn ? { deliveryQueueArn: properties.DeliveryQueueArn } : {}),
    },
  };
}

async function applyLimits(requestType: RecordRequest['RequestType'], json: string, usage: UsageMeter): Promise<RecordOutcome> {
  try {
    // Deleting the stack lifts the limits; the prediction count stays for the record.
    await usage.setLimits(requestType === 'Delete' ? {} : (JSON.parse(json) as UsageLimits));
    return { status: 'SUCCESS', physicalResourceId: 'usage-limits' };
  } catch (error) {
    return { status: 'FAILED', physicalResourceId: 'usage-limits', reason: describeError(error) };
  }
}
