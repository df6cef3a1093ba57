/**
 * One batch deployment in AWS: its buckets, the scorer function with its
 * model layer (for LocalStack, the model inside the function), the delivery
 * path from the source bucket to the scorer (direct S3 → Lambda, or queued
 * S3 → SQS → Lambda), a dead-letter queue so no event is lost, alarms,
 * least-privilege permissions, and its record in the deployments table.
 */
import { join } from 'node:path';
import { Annotations, ArnFormat, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnPermission, FunctionUrlAuthType, Tracing, type FunctionUrl, type IFunction, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket, BucketNotificationDestinationType, CfnBucket, EventType, type IBucket, type IBucketNotificationDestination, type NotificationKeyFilter } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, QueuePolicy, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { USAGE_ITEM_ID } from '../../../functions/scorer/store/dynamodb-usage-meter.js';
import { BULK_PARTS_DIR } from '../../../functions/scorer/bulk/bulk-keys.js';
import type { DeploymentSpec } from '../../manifest/deployments-manifest.js';
import { scorerPackageFor, TFJS_WASM_FILES } from '../scorer-package.js';
import { BulkFanOut } from './bulk-fan-out.js';
import { DeploymentAlarms } from './deployment-alarms.js';
import { copyCommands } from './local-asset.js';
import { ModelLayer, modelFiles, modelPathOf } from './model-layer.js';
import { NodeFunction } from './node-function.js';
import { runtimeFiles } from './runtime-layer.js';
import { createSecureBucket } from './secure-bucket.js';

export interface BatchDeploymentProps {
  readonly spec: DeploymentSpec;
  readonly framework: string;
  readonly projectRoot: string;
  readonly modelsRoot: string;
  /** The project's node_modules (onnxruntime-node, for the LocalStack package). */
  readonly nodeModules: string;
  /** onnxruntime-node for ONNX and Caffe scorers; none with `localstack`. */
  readonly runtimeLayer?: ILayerVersion;
  readonly deploymentsTable: ITable;
  readonly ledgerTable: ITable;
  readonly accessLogs: IBucket;
  /** Creates the deployment's record through the deployments-record custom resource. */
  readonly recordProvider: IFunction;
  /**
   * Built for LocalStack Community (README "LocalStack"), which mounts no
   * layers, runs no X-Ray and cannot run CDK's bucket-notification custom
   * resource: the scorer carries its model (and onnxruntime-node) in its own
   * code, traces nothing, and the notification configuration is written on
   * the bucket itself.
   */
  readonly localstack: boolean;
  readonly logRetention: RetentionDays;
  /** Where the deployment's alarms (and their OKs) are sent. */
  readonly alarmTopic: ITopic;
}

// Lambda's asynchronous invoke: retries, then the on-failure destination.
const ASYNC_RETRIES = 2;
const MAX_EVENT_AGE = Duration.hours(6);
const DLQ_RETENTION = Duration.days(14);
// Queued delivery: a message that failed this often goes to the dead-letter queue. AWS advises at
// least 5 for Lambda sources: throttled batches return to the queue and count as receives too.
export const MAX_RECEIVES = 5;
// Lambda's rule for SQS sources: at least six times the function timeout, so in-flight batches are not redelivered.
const VISIBILITY_TIMEOUT_FACTOR = 6;


export class BatchDeployment extends Construct {
  readonly spec: DeploymentSpec;
  readonly scorer: NodeFunction;
  readonly source: IBucket;
  readonly target: IBucket;
  readonly deadLetterQueue: Queue;
  readonly queue?: Queue;
  readonly scoringUrl: FunctionUrl;
  readonly alarms: DeploymentAlarms;
  readonly bulkFanOut: BulkFanOut;

  constructor(scope: Construct, id: string, props: BatchDeploymentProps) {
    super(scope, id);
    const { spec } = props;
    this.spec = spec;
    this.source = spec.cloud.existingSource
      ? Bucket.fromBucketName(this, 'Source', spec.source.bucket)
      : createSecureBucket(this, 'Source', { bucketName: spec.source.bucket, accessLogs: props.accessLogs, versioned: true });
    this.target = spec.cloud.existingTarget
      ? Bucket.fromBucketName(this, 'Target', spec.target.bucket)
      : spec.target.bucket === spec.source.bucket
        ? this.source
        : createSecureBucket(this, 'Target', { bucketName: spec.target.bucket, accessLogs: props.accessLogs, versioned: true });

    // Named, so the scorer can start it by ARN while the machine invokes the scorer (no reference cycle).
    const fanOutName = `${Stack.of(this).stackName}-${spec.name}-bulk`;
    const fanOutArn = Stack.of(this).formatArn({ service: 'states', resource: 'stateMachine', resourceName: fanOutName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const pkg = scorerPackageFor(props.framework, join(props.modelsRoot, spec.model), { traceAwsCalls: spec.cloud.traceAwsCalls && !props.localstack });
    if (pkg.withoutRewrite) {
      Annotations.of(this).addWarningV2('dropscore:no-graph-rewrite', `model ${spec.model} has no current graph rewrite (${pkg.withoutRewrite}/): deployment ${spec.name}'s scorer builds the model at every cold start (BENCHMARKS.md, "Cold start"). \`npx tsx tools/graph-rewrite.ts layers/models/${spec.model}\` makes it, or says why it cannot.`);
    }
    const model = props.localstack ? undefined : new ModelLayer(this, 'Model', { modelsRoot: props.modelsRoot, modelName: spec.model });
    // What the LocalStack scorer carries beside its bundle: its model, and onnxruntime in node_modules where Node looks first.
    const carried = props.localstack ? [...modelFiles(props.modelsRoot, spec.model), ...(pkg.onnxRuntime ? runtimeFiles(props.nodeModules, 'node_modules') : [])] : [];
    this.scorer = new NodeFunction(this, 'Scorer', {
      projectRoot: props.projectRoot,
      entry: pkg.entry,
      architecture: pkg.architecture,
      description: `dropscore scorer for deployment ${spec.name} (model ${spec.model})`,
      memoryMb: spec.cloud.memoryMb,
      timeout: Duration.seconds(spec.cloud.timeoutSeconds),
      layers: model && (pkg.onnxRuntime ? [runtimeLayerOf(props), model.layer] : [model.layer]),
      aliases: Object.fromEntries(Object.entries(pkg.aliases).map(([from, to]) => [from, `${props.projectRoot}/${to}`])),
      externalModules: [...pkg.externalModules],
      // TensorFlow.js's wasm backend loads its .wasm files from beside the bundle.
      afterBundling: (inputDir, outputDir) => [
        ...(pkg.tfjsWasm ? TFJS_WASM_FILES.map((file) => `cp ${inputDir}/node_modules/@tensorflow/tfjs-backend-wasm/dist/${file} ${outputDir}/`) : []),
        ...copyCommands(carried, outputDir),
      ],
      logRetention: props.logRetention,
      reservedConcurrency: spec.cloud.reservedConcurrency,
      // X-Ray is not in LocalStack Community: no tracing there, nor traced AWS calls.
      tracing: props.localstack ? undefined : Tracing.ACTIVE,
      environment: {
        ...(spec.cloud.traceAwsCalls && !props.localstack ? { TRACE_AWS_CALLS: 'true' } : {}),
        DEPLOYMENT_ID: spec.id,
        DEPLOYMENT_NAME: spec.name,
        MODEL_NAME: spec.model,
        // Absolute in the layer; relative to the function's code (LAMBDA_TASK_ROOT) when it carries the model.
        MODEL_DIR: model?.modelDir ?? modelPathOf(spec.model),
        SOURCE_BUCKET: spec.source.bucket,
        SOURCE_PREFIX: spec.source.prefix,
        SOURCE_SUFFIX: spec.source.suffix ?? '',
        TARGET_BUCKET: spec.target.bucket,
        TARGET_PREFIX: spec.target.prefix,
        DEPLOYMENTS_TABLE: props.deploymentsTable.tableName,
        LEDGER_TABLE: props.ledgerTable.tableName,
        BULK_STATE_MACHINE_ARN: fanOutArn,
        BULK_FAN_OUT_BYTES: String(spec.cloud.bulk.fanOutBytes),
        BULK_PART_BYTES: String(spec.cloud.bulk.partBytes),
      },
    });
    this.grantLeastPrivilege(props);
    this.bulkFanOut = new BulkFanOut(this, 'BulkFanOut', {
      deploymentName: spec.name,
      stateMachineName: fanOutName,
      scorer: this.scorer.fn,
      planBucket: spec.target.bucket,
      planPrefix: `${spec.target.prefix}${BULK_PARTS_DIR}`,
      partition: Stack.of(this).partition,
      maxConcurrency: spec.cloud.bulk.maxConcurrency,
      partsPerInvocation: spec.cloud.bulk.partsPerInvocation,
      logRetention: props.logRetention,
      alarmTopic: props.alarmTopic,
      tracing: !props.localstack,
    });
    // The scorer starts this deployment's fan-out and no other (an execution per bulk file version).
    this.scorer.role.addToPolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [fanOutArn] }));

    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
    });
    if (spec.cloud.delivery === 'queued') this.queue = this.deliverQueued(props);
    else this.deliverDirect(props);
    this.alarms = new DeploymentAlarms(this, 'Alarms', {
      deploymentName: spec.name,
      scorer: this.scorer.fn,
      deadLetterQueue: this.deadLetterQueue,
      deliveryQueue: this.queue,
      topic: props.alarmTopic,
    });

    // Online scoring (`dropscore score` on AWS): HTTPS with SigV4, callers need lambda:InvokeFunctionUrl.
    this.scoringUrl = this.scorer.fn.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });

    const record = new CustomResource(this, 'Record', {
      serviceToken: props.recordProvider.functionArn,
      resourceType: 'Custom::DropscoreDeployment',
      properties: {
        Deployment: JSON.stringify({ id: spec.id, name: spec.name, description: spec.description, model: spec.model, framework: props.framework, source: spec.source, target: spec.target }),
        ScorerFunctionName: this.scorer.fn.functionName,
        ScoringUrl: this.scoringUrl.url,
        // Where `dropscore backfill` and `redrive` find the queues.
        DeadLetterQueueUrl: this.deadLetterQueue.queueUrl,
        DeadLetterQueueArn: this.deadLetterQueue.queueArn,
        ...(this.queue ? { DeliveryQueueArn: this.queue.queueArn } : {}),
      },
    });
    // The warm-up sent on create needs the function's code and permissions in place.
    record.node.addDependency(this.scorer);
  }

  /** The scorer reads only its source prefix, writes only its target prefix, and touches only its own table items. */
  private grantLeastPrivilege(props: BatchDeploymentProps): void {
    const { spec } = props;
    const role = this.scorer.role;
    const sourceArn = `arn:${Stack.of(this).partition}:s3:::${spec.source.bucket}`;
    const targetArn = `arn:${Stack.of(this).partition}:s3:::${spec.target.bucket}`;
    role.addToPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [`${sourceArn}/${spec.source.prefix}*`] }));
    // Without ListBucket, S3 answers 403 instead of 404 for a key deleted before its event was handled.
    role.addToPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [sourceArn], conditions: { StringLike: { 's3:prefix': [`${spec.source.prefix}*`] } } }));
    // GetObject too: a redelivered event's outcome is checked (HeadObject) to be its input's.
    role.addToPolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [`${targetArn}/${spec.target.prefix}*`] }));
    // Bulk files: an outcome too large for one PUT is a multipart upload (aborted on failure), and the
    // part objects it is assembled from are deleted once it is written; nothing else is ever deleted.
    role.addToPolicy(new PolicyStatement({ actions: ['s3:AbortMultipartUpload'], resources: [`${targetArn}/${spec.target.prefix}*`] }));
    role.addToPolicy(new PolicyStatement({ actions: ['s3:DeleteObject'], resources: [`${targetArn}/${spec.target.prefix}${BULK_PARTS_DIR}*`] }));
    // Its own record, plus the instance's usage item (the prediction limit is shared).
    const ownRecord = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [spec.id, USAGE_ITEM_ID] } };
    role.addToPolicy(new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.deploymentsTable.tableArn], conditions: ownRecord }));
    // Ledger partitions are `<deployment id>#...` (functions/scorer/domain/ledger-scope.ts).
    const ownInputs = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${spec.id}#*`] } };
    // GetItem: a claim refused as already made reads where that input stands.
    role.addToPolicy(new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.ledgerTable.tableArn], conditions: ownInputs }));
    // SSE-KMS buckets: S3 decrypts what the scorer reads and encrypts what it writes with the bucket's key, on the scorer's behalf only.
    const viaS3 = { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } };
    if (spec.cloud.sourceKmsKeyArn) {
      role.addToPolicy(new PolicyStatement({ actions: ['kms:Decrypt'], resources: [spec.cloud.sourceKmsKeyArn], conditions: viaS3 }));
    }
    if (spec.cloud.targetKmsKeyArn) {
      role.addToPolicy(new PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [spec.cloud.targetKmsKeyArn], conditions: viaS3 }));
    }
  }

  private deliverDirect(props: BatchDeploymentProps): void {
    const fn = this.scorer.fn;
    fn.configureAsyncInvoke({ retryAttempts: ASYNC_RETRIES, maxEventAge: MAX_EVENT_AGE, onFailure: new SqsDestination(this.deadLetterQueue) });
    if (props.localstack) {
      const permission = new CfnPermission(this, 'S3Invoke', {
        action: 'lambda:InvokeFunction',
        functionName: fn.functionArn,
        principal: 's3.amazonaws.com',
        sourceArn: `arn:${Stack.of(this).partition}:s3:::${props.spec.source.bucket}`,
        sourceAccount: Stack.of(this).account,
      });
      const bucket = this.ownedSource(props);
      bucket.notificationConfiguration = { lambdaConfigurations: [{ event: 's3:ObjectCreated:*', function: fn.functionArn, filter: cfnFilterOf(props.spec) }] };
      bucket.node.addDependency(permission);
    } else {
      this.source.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(fn), ...keyFiltersOf(props.spec));
    }
  }

  private deliverQueued(props: BatchDeploymentProps): Queue {
    const queue = new Queue(this, 'Deliveries', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.spec.cloud.timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVES },
    });
    this.scorer.fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: props.spec.cloud.batchSize,
        maxBatchingWindow: Duration.seconds(props.spec.cloud.batchWindowSeconds),
        reportBatchItemFailures: true,
        // Scorers the queue may run at once: a large drop waits in the queue instead of taking the account's concurrency.
        maxConcurrency: props.spec.cloud.maxConcurrency,
      }),
    );
    if (props.localstack) {
      const policy = new QueuePolicy(this, 'S3SendsToQueue', { queues: [queue] });
      policy.document.addStatements(s3SendsTo(queue, props.spec.source.bucket));
      const bucket = this.ownedSource(props);
      bucket.notificationConfiguration = { queueConfigurations: [{ event: 's3:ObjectCreated:*', queue: queue.queueArn, filter: cfnFilterOf(props.spec) }] };
      bucket.node.addDependency(policy);
    } else {
      this.source.addEventNotification(EventType.OBJECT_CREATED, new QueueDestination(queue, props.spec.source.bucket), ...keyFiltersOf(props.spec));
    }
    return queue;
  }

  private ownedSource(props: BatchDeploymentProps): CfnBucket {
    if (props.spec.cloud.existingSource) {
      throw new Error(`deployment "${props.spec.name}": an existing source bucket needs CDK's notification custom resource, which the LocalStack path does not use; let the stack create the bucket`);
    }
    return (this.source as Bucket).node.defaultChild as CfnBucket;
  }
}

function runtimeLayerOf(props: BatchDeploymentProps): ILayerVersion {
  if (!props.runtimeLayer) throw new Error(`deployment "${props.spec.name}": a ${props.framework} scorer needs the onnxruntime layer`);
  return props.runtimeLayer;
}

/**
 * S3 may send to the queue only for the source bucket, and only from this account: a bucket name
 * can be deleted and taken by another account, which `aws:SourceArn` alone would still let in.
 */
function s3SendsTo(queue: IQueue, sourceBucket: string): PolicyStatement {
  const stack = Stack.of(queue);
  return new PolicyStatement({
    effect: Effect.ALLOW,
    principals: [new ServicePrincipal('s3.amazonaws.com')],
    actions: ['sqs:SendMessage'],
    resources: [queue.queueArn],
    conditions: { ArnEquals: { 'aws:SourceArn': `arn:${stack.partition}:s3:::${sourceBucket}` }, StringEquals: { 'aws:SourceAccount': stack.account } },
  });
}

/** aws-s3-notifications' SqsDestination, with the account condition its queue policy lacks. */
class QueueDestination implements IBucketNotificationDestination {
  constructor(
    private readonly queue: IQueue,
    private readonly sourceBucket: string,
  ) {}

  bind() {
    this.queue.addToResourcePolicy(s3SendsTo(this.queue, this.sourceBucket));
    return { arn: this.queue.queueArn, type: BucketNotificationDestinationType.QUEUE, dependencies: [this.queue] };
  }
}

/** No filter at all (not an empty one, which S3 rejects) when the deployment watches the whole bucket. */
function keyFiltersOf(spec: DeploymentSpec): NotificationKeyFilter[] {
  const filter = { ...(spec.source.prefix ? { prefix: spec.source.prefix } : {}), ...(spec.source.suffix ? { suffix: spec.source.suffix } : {}) };
  return Object.keys(filter).length > 0 ? [filter] : [];
}

function cfnFilterOf(spec: DeploymentSpec): CfnBucket.NotificationFilterProperty | undefined {
  const rules = keyFiltersOf(spec).flatMap((filter) => Object.entries(filter).map(([name, value]) => ({ name, value: String(value) })));
  return rules.length > 0 ? { s3Key: { rules } } : undefined;
}
