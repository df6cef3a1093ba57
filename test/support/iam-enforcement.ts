/**
 * AWS permissions enforced on SDK clients in tests. The identity policies of
 * a role are read from the synthesized CloudFormation template (intrinsics
 * resolved to the ARNs they would have), or given (a CLI caller's), and every
 * S3, DynamoDB and Lambda invoke call is evaluated by iam-simulate, an
 * implementation of IAM's policy evaluation, with the action, resource ARN
 * and condition keys AWS would use. A call IAM would deny fails as AWS fails
 * it (S3: 403 AccessDenied; DynamoDB and Lambda: AccessDeniedException),
 * before it reaches the local servers.
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { Template } from 'aws-cdk-lib/assertions';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
export interface PolicyDocument {
  readonly Version: string;
  readonly Statement: readonly Statement[];
}

interface Resources {
  readonly [logicalId: string]: { Type: string; Properties?: Record<string, unknown> };
}

/** The resolved identity policies attached to the role whose logical ID starts with `rolePrefix`. */
export function rolePoliciesFrom(template: Template, rolePrefix: string): PolicyDocument[] {
  const resources = template.toJSON().Resources as Resources;
  const policies = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Policy' && (r.Properties!['Roles'] as { Ref: string }[]).some((role) => role.Ref.startsWith(rolePrefix)));
  if (policies.length === 0) throw new Error(`no policy is attached to a role ${rolePrefix}*`);
  return policies.map(([, policy]) => resolve(policy.Properties!['PolicyDocument'], resources) as PolicyDocument);
}

/** Intrinsic functions, as CloudFormation would evaluate them in ACCOUNT/REGION for the template's named resources. */
function resolve(value: unknown, resources: Resources): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, resources));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return (resolve(parts, resources) as string[]).join(separator);
  }
  if ('Fn::Split' in object) {
    const [separator, source] = object['Fn::Split'] as [string, unknown];
    return (resolve(source, resources) as string).split(separator);
  }
  if ('Fn::Select' in object) {
    const [index, list] = object['Fn::Select'] as [number, unknown];
    return (resolve(list, resources) as unknown[])[index];
  }
  if ('Ref' in object) return refOf(object['Ref'] as string, resources);
  if ('Fn::GetAtt' in object) {
    const [id, attribute] = object['Fn::GetAtt'] as [string, string];
    if (attribute !== 'Arn') throw new Error(`cannot resolve Fn::GetAtt ${id}.${attribute}`);
    return arnOf(id, resources);
  }
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolve(v, resources)]));
}

function refOf(id: string, resources: Resources): string {
  if (id === 'AWS::Partition') return 'aws';
  if (id === 'AWS::Region') return REGION;
  if (id === 'AWS::AccountId') return ACCOUNT;
  const resource = resources[id];
  // A state machine's Ref is its ARN.
  if (resource?.Type === 'AWS::StepFunctions::StateMachine') return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${resource.Properties!['StateMachineName']}`;
  const name = resource?.Properties?.['TableName'] ?? resource?.Properties?.['BucketName'];
  if (typeof name !== 'string') throw new Error(`cannot resolve Ref ${id}`);
  return name;
}

function arnOf(id: string, resources: Resources): string {
  const resource = resources[id];
  switch (resource?.Type) {
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${refOf(id, resources)}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${refOf(id, resources)}`;
    default:
      return `arn:aws:cloudformation:${REGION}:${ACCOUNT}:unresolved/${id}`;
  }
}

/** What IAM evaluates for one SDK call. */
interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string | string[]>;
}

const S3_ACTIONS: Record<string, string> = {
  GetObjectCommand: 's3:GetObject',
  // HeadObject is authorized as GetObject.
  HeadObjectCommand: 's3:GetObject',
  PutObjectCommand: 's3:PutObject',
  DeleteObjectCommand: 's3:DeleteObject',
  CopyObjectCommand: 's3:PutObject',
  // A multipart upload is authorized as PutObject, except aborting it.
  CreateMultipartUploadCommand: 's3:PutObject',
  UploadPartCommand: 's3:PutObject',
  CompleteMultipartUploadCommand: 's3:PutObject',
  AbortMultipartUploadCommand: 's3:AbortMultipartUpload',
};

function s3Request(command: string, input: Record<string, unknown>): IamRequest {
  const bucket = String(input['Bucket']);
  if (command === 'ListObjectsV2Command' || command === 'ListObjectsCommand') {
    return { action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}`, context: { 's3:prefix': String(input['Prefix'] ?? '') } };
  }
  if (command === 'CreateBucketCommand') return { action: 's3:CreateBucket', resource: `arn:aws:s3:::${bucket}`, context: {} };
  const action = S3_ACTIONS[command];
  if (!action) throw new Error(`iam-enforcement: no IAM mapping for S3 ${command}`);
  return { action, resource: `arn:aws:s3:::${bucket}/${String(input['Key'])}`, context: {} };
}

function dynamoDbRequest(command: string, input: Record<string, unknown>, hashKeys: Readonly<Record<string, string>>): IamRequest {
  const table = String(input['TableName']);
  const resource = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`;
  const action = `dynamodb:${command.replace(/Command$/, '')}`;
  const key = (input['Key'] ?? input['Item']) as Record<string, { S?: string }> | undefined;
  const hashKey = hashKeys[table];
  // Item-level calls carry the partition key IAM's dynamodb:LeadingKeys condition looks at.
  const context: Record<string, string[]> = key && hashKey ? { 'dynamodb:LeadingKeys': [String(key[hashKey]?.S)] } : {};
  return { action, resource, context };
}

/** Lambda's invoke is authorized on the function's ARN (the SDK takes a name or an ARN). */
function lambdaRequest(command: string, input: Record<string, unknown>): IamRequest {
  if (command !== 'InvokeCommand') throw new Error(`iam-enforcement: no IAM mapping for Lambda ${command}`);
  const name = String(input['FunctionName']);
  return { action: 'lambda:InvokeFunction', resource: name.startsWith('arn:') ? name : `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`, context: {} };
}

export interface Enforcement {
  readonly policies: readonly PolicyDocument[];
  readonly principal: string;
  /** Table name → its partition key attribute. */
  readonly hashKeys: Readonly<Record<string, string>>;
  /** Every decision taken, for tests to inspect. */
  readonly decisions: { action: string; resource: string; allowed: boolean }[];
}

interface MiddlewareClient {
  middlewareStack: { add(middleware: unknown, options: { step: 'initialize'; name: string }): void };
}

/** Makes `client` refuse, as AWS would, every call the policies do not allow. */
export function enforceIam<C extends MiddlewareClient>(client: C, service: 's3' | 'dynamodb' | 'lambda', enforcement: Enforcement): C {
  client.middlewareStack.add(
    (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName: string }) => async (args: { input: Record<string, unknown> }) => {
      const request = service === 's3' ? s3Request(context.commandName, args.input) : service === 'lambda' ? lambdaRequest(context.commandName, args.input) : dynamoDbRequest(context.commandName, args.input, enforcement.hashKeys);
      const allowed = await isAllowed(request, enforcement);
      enforcement.decisions.push({ action: request.action, resource: request.resource, allowed });
      if (!allowed) throw accessDenied(service, request, enforcement.principal);
      return next(args);
    },
    { step: 'initialize', name: 'iamEnforcement' },
  );
  return client;
}

async function isAllowed(request: IamRequest, enforcement: Enforcement): Promise<boolean> {
  const simulation: Simulation = {
    request: { principal: enforcement.principal, action: request.action, resource: { resource: request.resource, accountId: ACCOUNT }, contextVariables: request.context },
    identityPolicies: enforcement.policies.map((policy, i) => ({ name: `policy${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`iam-enforcement: ${result.errors.message}: ${JSON.stringify(result.errors)}`);
  return result.overallResult === 'Allowed';
}

function accessDenied(service: 's3' | 'dynamodb' | 'lambda', request: IamRequest, principal: string): Error {
  const message = `User: ${principal} is not authorized to perform: ${request.action} on resource: ${request.resource} because no identity-based policy allows the ${request.action} action`;
  return service === 's3'
    ? Object.assign(new Error(message), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } })
    : Object.assign(new Error(message), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: service === 'lambda' ? 403 : 400 } });
}
