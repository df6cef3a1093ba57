/**
 * cdk-nag (AwsSolutions) findings we accept, each scoped to the construct it
 * concerns and each with its reason. Anything else fails `cdk synth`.
 */
import { Validations } from 'aws-cdk-lib';
import { BULK_PARTS_DIR } from '../../functions/scorer/bulk/bulk-keys.js';
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
