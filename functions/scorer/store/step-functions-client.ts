/**
 * The bulk fan-out's Step Functions client (AWS only: the local stack runs
 * parts in a worker pool). Imported by the scorer when a file first fans out,
 * so a cold start does not evaluate this SDK; named imports, so a bundle
 * keeps only the command used.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { clientCredentials, type AwsConnection } from './aws-connection.js';

export { StartExecutionCommand };

export function createStepFunctionsClient(connection: AwsConnection): SFNClient {
  return new SFNClient({ region: connection.region, endpoint: connection.endpoint, credentials: clientCredentials(connection) });
}
