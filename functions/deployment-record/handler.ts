/**
 * Custom resource handler (invoked by CloudFormation directly, no provider
 * framework): applies the request to the deployments table and answers on the
 * pre-signed response URL, as CloudFormation requires.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import { WARM_UP_EVENT } from '../scorer/domain/invocation.js';
import { createDynamoDbClient } from '../scorer/store/aws-clients.js';
import { createDynamoDbDeploymentStore } from '../scorer/store/dynamodb-deployment-store.js';
import { createDynamoDbUsageMeter } from '../scorer/store/dynamodb-usage-meter.js';
import { applyRecordRequest, type RecordRequest } from './record-lifecycle.js';

interface CloudFormationRequest extends RecordRequest {
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

const region = process.env['AWS_REGION'] ?? 'us-east-1';
const db = createDynamoDbClient({ region });
const table = process.env['DEPLOYMENTS_TABLE'] ?? '';
const deployments = createDynamoDbDeploymentStore(db, table);
const usage = createDynamoDbUsageMeter(db, table);
const lambda = new LambdaClient({ region });

export const handler = middy(async (request: CloudFormationRequest) => {
  const outcome = await applyRecordRequest(request, {
    deployments,
    usage,
    warmUp: async (functionName) => {
      await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: JSON.stringify(WARM_UP_EVENT) }));
    },
  });
  const body = JSON.stringify({
    Status: outcome.status,
    Reason: outcome.reason ?? 'ok',
    PhysicalResourceId: outcome.physicalResourceId,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
  });
  // CloudFormation's pre-signed URL wants no content type.
  await fetch(request.ResponseURL, { method: 'PUT', body, headers: { 'content-type': '' } });
  return outcome;
});
