/**
 * `--stage <name>` points the CLI's AWS commands at the tables of the stage
 * `cdk deploy -c stage=<name>` made (infra/lib/stage.ts); without it, the
 * default stage's. (AWS calls are mocked: aws-sdk-client-mock.)
 */
import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-run.js';

const dbMock = mockClient(DynamoDBClient);

function run(...argv: string[]) {
  return runCli(argv);
}

beforeEach(() => {
  dbMock.reset();
  dbMock.on(ScanCommand).resolves({ Items: [] });
  dbMock.on(GetItemCommand).resolves({});
});

describe('dropscore --stage', () => {
  it('reads the stage\'s tables on AWS', async () => {
    expect(await run('deployments', 'list', '--aws', '--region', 'eu-west-1', '--stage', 'dev', '--json')).toMatchObject({ code: 0, out: '[]\n' });
    expect(dbMock.commandCalls(ScanCommand).map((c) => c.args[0].input.TableName)).toEqual(['dropscore-dev-deployments']);
    await run('usage', '--aws', '--region', 'eu-west-1', '--stage', 'dev', '--json');
    expect(dbMock.commandCalls(GetItemCommand).map((c) => c.args[0].input.TableName)).toEqual(['dropscore-dev-deployments']);
  });

  it('reads the default stage\'s tables without it', async () => {
    await run('deployments', 'list', '--aws', '--region', 'eu-west-1', '--json');
    expect(dbMock.commandCalls(ScanCommand).map((c) => c.args[0].input.TableName)).toEqual(['dropscore-deployments']);
  });

  it('refuses an invalid stage name, and a stage without --aws, in one line', async () => {
    const invalid = await run('deployments', 'list', '--aws', '--stage', 'Dev_1');
    expect([invalid.code, invalid.err.trim()]).toEqual([1, 'dropscore deployments list: stage must be 1-20 lowercase letters, digits and hyphens, starting with a letter, got "Dev_1"']);
    const local = await run('deployments', 'list', '--stage', 'dev', '--endpoint', 'http://127.0.0.1:9');
    expect([local.code, local.err]).toEqual([1, expect.stringContaining('--stage names the tables of a stage on AWS')]);
    expect(dbMock.commandCalls(ScanCommand)).toEqual([]);
  });
});
