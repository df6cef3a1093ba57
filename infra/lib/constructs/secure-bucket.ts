/** Buckets with the defaults a scoring service owes its users' data. */
import { RemovalPolicy } from 'aws-cdk-lib';
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
    // Records and outcomes are the users' data: deleting the stack keeps them.
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
