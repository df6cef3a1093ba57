/**
 * A conditional write DynamoDB refused. Matched by name too: a client from
 * another copy of the SDK (a test's, the CLI's) throws its own class.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException';
}
