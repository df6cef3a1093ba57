/**
 * AWS SDK clients configured for real AWS or any S3/DynamoDB-compatible
 * endpoint (the embedded local stack, LocalStack). Created once per process.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { clientCredentials, type AwsConnection } from './aws-connection.js';

export type { AwsConnection };

export function createS3Client(connection: AwsConnection): S3Client {
  return new S3Client({
    region: connection.region,
    endpoint: connection.endpoint,
    credentials: clientCredentials(connection),
    forcePathStyle: connection.endpoint !== undefined,
    cacheMiddleware: true,
    // Checksums only where S3 requires them: otherwise the SDK sends stream bodies
    // aws-chunked, which the embedded S3 refuses, and real S3 does not need them for our puts.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createDynamoDbClient(connection: AwsConnection): DynamoDBClient {
  return new DynamoDBClient({ cacheMiddleware: true, region: connection.region, endpoint: connection.endpoint, credentials: clientCredentials(connection) });
}
