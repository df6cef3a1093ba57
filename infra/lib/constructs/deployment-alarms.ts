/**
 * A deployment's alarms, each sent to the stack's alarm topic (and its OK
 * back): scorer errors and throttles, async events Lambda dropped, dead
 * letters waiting (how many, how old) and, for queued delivery, a queue the
 * scorers do not keep up with.
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeploymentAlarmsProps {
  readonly deploymentName: string;
  readonly scorer: IFunction;
  readonly deadLetterQueue: IQueue;
  /** Queued delivery's queue; absent for direct delivery (S3 invokes the scorer asynchronously). */
  readonly deliveryQueue?: IQueue;
  readonly topic: ITopic;
}

const PERIOD = Duration.minutes(5);
// Dead letters are kept 14 days: half of that leaves a week to replay them before they expire.
export const DEAD_LETTER_AGE_ALARM = Duration.days(7);
// A queued object waiting this long means the scorers (capped by their concurrency) fall behind.
export const QUEUE_AGE_ALARM = Duration.minutes(15);

export class DeploymentAlarms extends Construct {
  readonly alarms: Alarm[] = [];
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: DeploymentAlarmsProps) {
    super(scope, id);
    this.action = new SnsAction(props.topic);
    const { scorer, deadLetterQueue, deliveryQueue, deploymentName } = props;
    const about = (what: string) => `dropscore deployment ${deploymentName}: ${what}`;
    this.add('ScorerErrors', scorer.metricErrors({ period: PERIOD }), 1, about('the scorer failed invocations (they are retried, then dead-lettered)'));
    this.add('ScorerThrottles', scorer.metricThrottles({ period: PERIOD }), 1, about('invocations were throttled at the reserved concurrency (events wait or are retried)'));
    if (!deliveryQueue) {
      const dropped = new Metric({ namespace: 'AWS/Lambda', metricName: 'AsyncEventsDropped', dimensionsMap: { FunctionName: scorer.functionName }, statistic: 'Sum', period: PERIOD });
      this.add('AsyncEventsDropped', dropped, 1, about('Lambda dropped S3 events without delivering them to the dead-letter queue'));
    }
    this.add('DeadLetters', deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }), 1, about('events in the dead-letter queue need attention (replay or inspect them)'));
    this.add(
      'DeadLettersAge',
      deadLetterQueue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum' }),
      DEAD_LETTER_AGE_ALARM.toSeconds(),
      about(`a dead letter is over ${DEAD_LETTER_AGE_ALARM.toDays()} days old: replay it before it expires (14 days)`),
    );
    if (deliveryQueue) {
      this.add(
        'QueueAge',
        deliveryQueue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum' }),
        QUEUE_AGE_ALARM.toSeconds(),
        about(`a queued object waited over ${QUEUE_AGE_ALARM.toMinutes()} minutes: the scorers do not keep up`),
      );
    }
  }

  private add(id: string, metric: IMetric, threshold: number, description: string): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
  }
}
