import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DropscoreStack } from '../../infra/lib/dropscore-stack.js';
import { readDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';
import { REPO_ROOT } from '../support/paths.js';

const template = Template.fromStack(new DropscoreStack(new App(), 'Test', { manifest: readDeploymentsManifest(`${REPO_ROOT}deployments.json`) }));

describe('DropscoreStack', () => {
  it('keys the deployments table by id, on demand, with point-in-time recovery, kept on delete', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('keys the ledger by deployment and input, expiring entries by TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'deployment_id', KeyType: 'HASH' },
        { AttributeName: 'input', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    });
  });

  it('keeps stable logical IDs for the stateful tables', () => {
    const ids = Object.keys(template.findResources('AWS::DynamoDB::Table'));
    expect(ids).toEqual([expect.stringMatching(/^TablesDeployments[0-9A-F]{8}$/), expect.stringMatching(/^TablesLedger[0-9A-F]{8}$/)]);
    template.hasOutput('ManifestDeployments', { Value: Match.stringLikeRegexp('mnist-onnx') });
  });
});
