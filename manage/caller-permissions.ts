/**
 * What an identity running the `dropscore` CLI against AWS must be allowed,
 * per command: the IAM statements for one deployment, in the shape of an
 * identity policy. README ("Deploy to AWS", "What a CLI caller needs") lists
 * the same; test/integration/iam-enforced-cli.test.ts runs `backfill`,
 * `recount` and `batch` with exactly their statements, evaluated as IAM does.
 */
import type { DeploymentRecord } from '../functions/scorer/domain/ports.js';
import type { TableNames } from '../infra/local/provision.js';

export type CallerCommand =
  | 'deployments list' | 'deployments show' | 'deploy' | 'deployments delete' | 'usage'
  | 'batch' | 'outcomes list' | 'outcomes get' | 'score' | 'backfill' | 'redrive' | 'recount';

export interface CallerStatement {
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface CallerScope {
  readonly account: string;
  readonly region: string;
  readonly tables: TableNames;
  readonly deployment: Pick<DeploymentRecord, 'source' | 'target' | 'awsResources'>;
}

/** The statements `command` needs on one deployment (a queued deployment's `redrive` differs from a direct one's). */
export function callerStatements(command: CallerCommand, scope: CallerScope): CallerStatement[] {
  const { source, target, awsResources } = scope.deployment;
  const table = `arn:aws:dynamodb:${scope.region}:${scope.account}:table/${scope.tables.deploymentsTable}`;
  // Every command but `models` and `predict` finds deployments by scanning the table.
  const records: CallerStatement = { Effect: 'Allow', Action: ['dynamodb:Scan'], Resource: table };
  const fn = `arn:aws:lambda:${scope.region}:${scope.account}:function:${awsResources?.scorerFunction ?? '<scorer function>'}`;
  const listPrefix = (bucket: string, prefix: string): CallerStatement => ({ Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { 's3:prefix': `${prefix}*` } } });
  const readOutcomes: CallerStatement = { Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${target.bucket}/${target.prefix}*` };
  const deadLetters = awsResources?.deadLetterQueueArn ?? `arn:aws:sqs:${scope.region}:${scope.account}:<dead-letter queue>`;
  switch (command) {
    case 'deployments list':
    case 'deployments show':
    case 'deploy':
    case 'deployments delete':
      return [records];
    case 'usage':
      // The `__usage__` item holds the prediction count and limits.
      return [records, { Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: table }];
    case 'batch':
      // A file of 8 MiB or more goes up as a multipart upload (s3:PutObject covers its parts), aborted if it fails.
      return [records, { Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: `arn:aws:s3:::${source.bucket}/${source.prefix}*` }, readOutcomes];
    case 'outcomes list':
    case 'outcomes get':
      return [records, listPrefix(target.bucket, target.prefix), readOutcomes];
    case 'score':
      return [records, { Effect: 'Allow', Action: ['lambda:InvokeFunctionUrl', 'lambda:InvokeFunction'], Resource: fn }];
    case 'backfill':
      return [records, listPrefix(source.bucket, source.prefix), readOutcomes, { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: fn }];
    case 'recount':
      // Instance-wide: every deployment's counters and the `__usage__` item, against the whole ledger (UpdateItem: not with --dry-run).
      return [
        records,
        { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: table },
        { Effect: 'Allow', Action: ['dynamodb:Scan'], Resource: `arn:aws:dynamodb:${scope.region}:${scope.account}:table/${scope.tables.ledgerTable}` },
      ];
    case 'redrive':
      if (awsResources?.deliveryQueueArn) {
        // SQS moves the messages with the caller's permissions: it receives and deletes them here, and sends them there.
        return [
          records,
          { Effect: 'Allow', Action: ['sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], Resource: deadLetters },
          { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: awsResources.deliveryQueueArn },
        ];
      }
      return [records, { Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], Resource: deadLetters }, { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: fn }];
  }
}
