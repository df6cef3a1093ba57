/**
 * The deployments table (one item per deployment: status, bindings, counters)
 * and the input ledger (which input versions have an outcome). Key names are
 * the ones the scorer's DynamoDB adapters use.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { TableNames } from '../../local/provision.js';

export interface DeploymentTablesProps {
  /** The stage's table names (see stage.ts): one stage's tables never clash with another's. */
  readonly names: TableNames;
  /** Keep data when the stack is deleted (default): deployments and ledger are the service's memory. */
  readonly removalPolicy?: RemovalPolicy;
}

export class DeploymentTables extends Construct {
  readonly deployments: Table;
  readonly ledger: Table;

  constructor(scope: Construct, id: string, props: DeploymentTablesProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    // Known names (the default stage's are the local stack's), so the CLI finds them in any account.
    this.deployments = new Table(this, 'Deployments', {
      tableName: props.names.deploymentsTable,
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
    this.ledger = new Table(this, 'Ledger', {
      tableName: props.names.ledgerTable,
      partitionKey: { name: 'deployment_id', type: AttributeType.STRING },
      sortKey: { name: 'input', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      // No TTL: an item that expired would take its totals with it, and a recount would then lower counters.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
  }
}
