/** Buckets with the defaults a scoring service owes its users' data. */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface SecureBucketProps {
  readonly bucketName: string;
  readonly accessLogs: IBucket;
  readonly versioned: boolean;
}

export function createSecureBucket(scope: Construct, id: string, props: SecureBucketProps): Bucket {
  return new Bucket(scope, id, {
    bucketName: props.bucketName,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: props.versioned,
    serverAccessLogsBucket: props.accessLogs,
    serverAccessLogsPrefix: `${props.bucketName}/`,
    // Versioning keeps every overwritten record and outcome; old versions and abandoned uploads should not cost forever.
    lifecycleRules: [
      { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ...(props.versioned ? [{ id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(30) }] : []),
    ],
    // Records and outcomes are the users' data: deleting the stack keeps them.
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
