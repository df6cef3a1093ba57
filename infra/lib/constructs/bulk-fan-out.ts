/**
 * A deployment's fan-out for bulk files too large for one scorer invocation:
 * an AWS Step Functions state machine with a Distributed Map. The scorer
 * plans the file's line-aligned parts and writes them to S3 as a JSON array;
 * the Map's ItemReader reads that array and its ItemBatcher hands batches of
 * parts to child workflows, each invoking the scorer on them; a last step
 * assembles the ordered outcome. A step that fails for good gives the file an
 * error outcome instead, so every input still ends in exactly one outcome.
 *
 * Why the ItemReader reads a plan and not the JSONL/CSV object itself: its
 * items are lines Step Functions has already parsed, so a malformed line could
 * not become that line's error record, items carry no line numbers, blank
 * lines are not counted, and each item is capped at 256 KiB.
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import {
  DefinitionBody,
  DistributedMap,
  Errors,
  Fail,
  ItemBatcher,
  JitterType,
  JsonPath,
  LogLevel,
  S3JsonItemReader,
  StateMachine,
  StateMachineType,
  TaskInput,
  type IChainable,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { BULK_STEP, type BulkStep } from '../../../functions/scorer/bulk/fan-out-events.js';

export interface BulkFanOutProps {
  readonly deploymentName: string;
  /** Known before the machine exists: the scorer starts it by ARN, and the machine invokes the scorer. */
  readonly stateMachineName: string;
  readonly scorer: IFunction;
  /** The bucket and key prefix the scorer writes plans under (the Map may read only there). */
  readonly planBucket: string;
  readonly planPrefix: string;
  readonly partition: string;
  /** Child workflows (scorer invocations) at once; at most the scorer's reserved concurrency. */
  readonly maxConcurrency: number;
  /** Parts per scorer invocation. */
  readonly partsPerInvocation: number;
  readonly logRetention: RetentionDays;
  readonly alarmTopic: ITopic;
  /** X-Ray (not in LocalStack Community). */
  readonly tracing: boolean;
}

// A scorer invocation that failed (its store was down, it was throttled) is tried again, with
// jittered backoff, before the file is given up; the scorer's steps are idempotent.
const STEP_RETRIES = { maxAttempts: 4, interval: Duration.seconds(2), backoffRate: 2, jitterStrategy: JitterType.FULL };
const THROTTLED = ['Lambda.TooManyRequestsException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'];
// Well past the largest file's work at the default part size. A timed-out execution leaves its file without an
// outcome (an alarm fires; `dropscore backfill` scores it again), as a Catch cannot see the machine's own timeout.
const EXECUTION_TIMEOUT = Duration.hours(24);

export class BulkFanOut extends Construct {
  readonly stateMachine: StateMachine;
  readonly traced: boolean;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: BulkFanOutProps) {
    super(scope, id);
    this.traced = props.tracing;
    const invoke = (name: string, step: BulkStep, fields: Record<string, unknown>, resultPath: string) => {
      const task = new LambdaInvoke(this, name, {
        lambdaFunction: props.scorer,
        payload: TaskInput.fromObject({ dropscore: step, ...fields }),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        resultPath,
      });
      task.addRetry({ errors: THROTTLED, ...STEP_RETRIES, maxAttempts: 8 });
      task.addRetry({ errors: [Errors.TASKS_FAILED], ...STEP_RETRIES });
      return task;
    };

    // Still a failed execution (and an alarm), but one whose file has its outcome: the error record says why.
    const abandon = invoke('GiveFileErrorOutcome', BULK_STEP.abandon, { 'input.$': '$.input', 'failure.$': '$.failure' }, JsonPath.DISCARD)
      .next(new Fail(this, 'FileFailed', { error: 'BulkFileFailed', causePath: JsonPath.stringAt('$.failure.Cause') }));
    const giveUp = (state: LambdaInvoke | DistributedMap) => state.addCatch(abandon, { errors: [Errors.ALL], resultPath: '$.failure' });

    const plan = invoke('PlanParts', BULK_STEP.plan, { 'input.$': '$.input' }, '$.plan');
    const scoreParts = new DistributedMap(this, 'ScoreParts', {
      itemReader: new S3JsonItemReader({ bucketNamePath: JsonPath.stringAt('$.plan.planBucket'), key: JsonPath.stringAt('$.plan.planKey') }),
      itemBatcher: new ItemBatcher({ maxItemsPerBatch: props.partsPerInvocation }),
      maxConcurrency: props.maxConcurrency,
      // Every part must score: the outcome is the whole file, in order.
      toleratedFailurePercentage: 0,
      // Parts report to the assemble step through their part objects, not through the execution's state.
      resultPath: JsonPath.DISCARD,
    });
    scoreParts.itemProcessor(invoke('ScorePartBatch', BULK_STEP.parts, { 'items.$': '$.Items' }, JsonPath.DISCARD));
    const assemble = invoke('AssembleOutcome', BULK_STEP.assemble, { 'input.$': '$.input', 'plan.$': '$.plan' }, JsonPath.DISCARD);
    const definition: IChainable = giveUp(plan).next(giveUp(scoreParts)).next(giveUp(assemble));

    const logs = new LogGroup(this, 'Logs', { retention: props.logRetention });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      timeout: EXECUTION_TIMEOUT,
      tracingEnabled: props.tracing,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    });
    // The ItemReader reads plans only, with the state machine's role.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [`arn:${props.partition}:s3:::${props.planBucket}/${props.planPrefix}*`] }),
    );
    this.alarm('FanOutFailed', this.stateMachine.metricFailed({ period: Duration.minutes(5) }), props, 'a bulk file fan-out failed: the file has an error outcome saying why (see the execution)');
    this.alarm('FanOutTimedOut', this.stateMachine.metricTimedOut({ period: Duration.minutes(5) }), props, `a bulk file fan-out ran over ${EXECUTION_TIMEOUT.toHours()} hours and was stopped: its file has no outcome (run dropscore backfill)`);
  }

  private alarm(id: string, metric: ReturnType<StateMachine['metricFailed']>, props: BulkFanOutProps, what: string): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: `dropscore deployment ${props.deploymentName}: ${what}`,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const action = new SnsAction(props.alarmTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
  }
}
