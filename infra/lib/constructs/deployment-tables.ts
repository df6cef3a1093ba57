/**
 * The deployments table (one item per deployment: status, bindings, counters)
 * and the input ledger (which input versions have an outcome). Key names are
 * the ones the scorer's DynamoDB adapters use.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { DEFAULT_TABLES } from '../../local/provision.js';

export interface DeploymentTablesProps {
  /** Keep data when the stack is deleted (default): deployments and ledger are the service's memory. */
  readonly removalPolicy?: RemovalPolicy;
}

export class DeploymentTables extends Construct {
  readonly deployments: Table;
  readonly ledger: Table;

  constructor(scope: Construct, id: string, props: DeploymentTablesProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    // Fixed names, the same as on the local stack, so the CLI finds them in any account.
    this.deployments = new Table(this, 'Deployments', {
      tableName: DEFAULT_TABLES.deploymentsTable,
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
    this.ledger = new Table(this, 'Ledger', {
      tableName: DEFAULT_TABLES.ledgerTable,
      partitionKey: { name: 'deployment_id', type: AttributeType.STRING },
      sortKey: { name: 'input', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expires_at',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
  }
}
