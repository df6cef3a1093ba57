/** Buckets with the defaults a scoring service owes its users' data. */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type IBucket, type LifecycleRule } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface SecureBucketProps {
  readonly bucketName: string;
  readonly accessLogs: IBucket;
  readonly versioned: boolean;
}

// Overwritten records and outcomes stay recoverable this long, then stop costing storage.
export const NONCURRENT_VERSION_EXPIRATION = Duration.days(30);
// Uploads abandoned half-way are invisible but billed: S3 drops their parts after this.
export const INCOMPLETE_UPLOAD_EXPIRATION = Duration.days(7);

/** What every bucket the stack creates gets: abandoned multipart uploads aborted, and old versions expired where it keeps versions. */
export function lifecycleRulesFor(versioned: boolean): LifecycleRule[] {
  return [
    { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: INCOMPLETE_UPLOAD_EXPIRATION },
    ...(versioned ? [{ id: 'expire-noncurrent-versions', noncurrentVersionExpiration: NONCURRENT_VERSION_EXPIRATION }] : []),
  ];
}

export function createSecureBucket(scope: Construct, id: string, props: SecureBucketProps): Bucket {
  return new Bucket(scope, id, {
    bucketName: props.bucketName,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: props.versioned,
    lifecycleRules: lifecycleRulesFor(props.versioned),
    serverAccessLogsBucket: props.accessLogs,
    serverAccessLogsPrefix: `${props.bucketName}/`,
    // Records and outcomes are the users' data: deleting the stack keeps them.
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
