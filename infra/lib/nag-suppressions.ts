/**
 * cdk-nag (AwsSolutions) findings we accept, each scoped to the construct it
 * concerns and each with its reason. Anything else fails `cdk synth`.
 */
import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { BULK_PARTS_DIR } from '../../functions/scorer/bulk/bulk-keys.js';
import type { BatchDeployment } from './constructs/batch-deployment.js';
import type { DropscoreStack } from './dropscore-stack.js';

export function applyNagSuppressions(stack: DropscoreStack): void {
  const lambdaRuntime = {
    id: 'AwsSolutions::AwsSolutions-L1',
    reason: 'Pinned to nodejs22.x: onnxruntime-node and the tfjs wasm backend are measured on it; moving runtime is a tested change, not a default.',
  };
  Validations.of(stack.node.findChild('Records')).acknowledge(lambdaRuntime);
  // cdk-nag recognises a log bucket by the buckets logging to it: with only `existing` buckets, none does.
  Validations.of(stack.node.findChild('AccessLogs')).acknowledge({
    id: 'AwsSolutions::AwsSolutions-S1',
    reason: 'This is the access-log bucket the stack\'s buckets log to; logging it to itself would log its own log deliveries.',
  });

  for (const deployment of stack.deployments) {
    const { spec } = deployment;
    Validations.of(deployment.scorer).acknowledge(lambdaRuntime);
    for (const [bucket, prefix] of [[spec.source.bucket, spec.source.prefix], [spec.target.bucket, spec.target.prefix]] as const) {
      Validations.of(deployment.scorer).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucket}/${prefix}*]`,
        reason: 'Object keys are whatever users drop: the scorer may read any key under its source prefix and write any key under its target prefix, and nothing else.',
      });
    }
    Validations.of(deployment.scorer).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${spec.target.bucket}/${spec.target.prefix}${BULK_PARTS_DIR}*]`,
      reason: 'A bulk file\'s part objects are named by its key and eTag: the scorer may delete keys in its target\'s reserved parts folder only.',
    });
    Validations.of(deployment.scorer).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; CDK adds exactly these two on "*".',
    });
    acknowledgeFanOut(deployment);
    Validations.of(deployment.deadLetterQueue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue (of the async invoke or of the delivery queue).',
    });
  }

  // CDK's own bucket-notifications function (one per stack), used on the AWS path only.
  const notifications = stack.node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
  if (notifications) {
    Validations.of(notifications).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's BucketNotificationsHandler is created by aws-cdk-lib with this managed policy; it only writes its own logs.",
    });
    Validations.of(notifications).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: "CDK's BucketNotificationsHandler needs s3:PutBucketNotification on buckets it cannot name in advance (aws-cdk-lib's design).",
    });
  }
}

/** The bulk fan-out's state machine: the wildcards it needs, each the narrowest Step Functions allows. */
function acknowledgeFanOut(deployment: BatchDeployment): void {
  const stack = Stack.of(deployment);
  const machine = deployment.bulkFanOut.stateMachine;
  const scorerId = stack.getLogicalId(deployment.scorer.fn.node.defaultChild as CfnFunction);
  const machineId = stack.getLogicalId(machine.node.defaultChild as CfnStateMachine);
  // cdk-nag writes an unresolved pseudo parameter as <AWS::Name>.
  const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  const executions = `arn:<AWS::Partition>:states:${shown(stack.region, 'Region')}:${shown(stack.account, 'AccountId')}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machineId}"}]}]}`;
  const reasons: Record<string, string> = {
    '*': 'Step Functions X-Ray tracing and log delivery (xray:PutTraceSegments, logs:CreateLogDelivery and their kind) support no resource-level permissions; CDK adds exactly these on "*".',
    [`<${scorerId}.Arn>:*`]: "CDK's LambdaInvoke grants the scorer's versions and aliases too (function ARN with a `:*` qualifier); it is this deployment's scorer only.",
    [`arn:<AWS::Partition>:s3:::${deployment.spec.target.bucket}/${deployment.spec.target.prefix}${BULK_PARTS_DIR}*`]:
      "The Distributed Map's ItemReader reads the plans the scorer writes, one object per bulk file version, under this deployment's bulk work folder only.",
    [`${executions}:*`]: "A Distributed Map runs its child workflows as executions of its own state machine (CDK's DistributedMapPolicy): this machine's executions only.",
    [`${executions}/*:*`]: "A Distributed Map's Map Runs and their child executions are named by Step Functions (CDK's DistributedMapPolicy): this machine's only.",
  };
  for (const [resource, reason] of Object.entries(reasons)) {
    Validations.of(machine).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`, reason });
  }
  if (!deployment.bulkFanOut.traced) {
    Validations.of(machine).acknowledge({ id: 'AwsSolutions::AwsSolutions-SF2', reason: 'LocalStack Community (-c localstack=true) has no X-Ray: tracing is on for AWS.' });
  }
}
