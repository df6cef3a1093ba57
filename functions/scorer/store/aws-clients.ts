/**
 * AWS SDK clients configured for real AWS or any S3/DynamoDB-compatible
 * endpoint (the embedded local stack, LocalStack). Created once per process.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';

export interface AwsConnection {
  readonly region: string;
  /** Unset for real AWS; e.g. http://127.0.0.1:4566 for a local stack. */
  readonly endpoint?: string;
  /** Static credentials for local endpoints; real AWS uses the default chain. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function createS3Client(connection: AwsConnection): S3Client {
  return new S3Client({
    region: connection.region,
    endpoint: connection.endpoint,
    credentials: copyOf(connection.credentials),
    forcePathStyle: connection.endpoint !== undefined,
    cacheMiddleware: true,
    // Checksums only where S3 requires them: otherwise the SDK sends stream bodies
    // aws-chunked, which the embedded S3 refuses, and real S3 does not need them for our puts.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createDynamoDbClient(connection: AwsConnection): DynamoDBClient {
  return new DynamoDBClient({ cacheMiddleware: true, region: connection.region, endpoint: connection.endpoint, credentials: copyOf(connection.credentials) });
}

/** The bulk fan-out's starter (AWS only: the local stack runs parts in a worker pool); imported when first needed. */
export async function createStepFunctionsClient(connection: AwsConnection): Promise<SFNClient> {
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  return new SFNClient({ region: connection.region, endpoint: connection.endpoint, credentials: copyOf(connection.credentials) });
}

// The SDK annotates the credentials object it is given, so it must not be a shared frozen one.
function copyOf(credentials: AwsConnection['credentials']): AwsConnection['credentials'] {
  return credentials && { ...credentials };
}
