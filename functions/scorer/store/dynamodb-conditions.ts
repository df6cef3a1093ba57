/** DynamoDB conditional writes: a condition the adapters share, and recognising a refusal. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * A conditional write DynamoDB refused. Matched by name too: a client from
 * another copy of the SDK (a test's, the CLI's) throws its own class.
 */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException';
}

/** That a number attribute still holds `value` (an absent one counts as 0, as the stores read it). */
export function unchangedNumber(attribute: string, placeholder: string, value: number): string {
  return value === 0 ? `(attribute_not_exists(${attribute}) OR ${attribute} = ${placeholder})` : `${attribute} = ${placeholder}`;
}
