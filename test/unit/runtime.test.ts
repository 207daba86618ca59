/**
 * The Lambda entry every handler exports (lambdas/handlers/runtime.ts): dependencies built once per
 * execution environment, and every log line tied to its Lambda request and cold start.
 */
import { readFileSync } from 'node:fs';
import { repositoryConfigPath } from '../../infra/deploy-config-file';
import { lambdaEntry, type HandlerDeps, type LambdaContext } from '../../lambdas/handlers/runtime';

/** What esbuild's `define` makes of `__DEPLOY_CONFIG__` in a bundle: the configuration's text. */
const bundled = globalThis as { __DEPLOY_CONFIG__?: string };

/** A Lambda context as the Node.js runtime passes it (the fields the logger reads). */
function lambdaContext(awsRequestId: string): LambdaContext {
  return {
    functionName: 'Afu9DeployOrchestrator-UpdateService',
    functionVersion: '$LATEST',
    invokedFunctionArn:
      'arn:aws:lambda:eu-central-1:111122223333:function:Afu9DeployOrchestrator-UpdateService',
    memoryLimitInMB: '512',
    awsRequestId,
  } as LambdaContext;
}

describe('lambdaEntry', () => {
  const environment = { ...process.env };

  beforeEach(() => {
    process.env.TOPIC_ARN = 'arn:aws:sns:eu-central-1:111122223333:afu9-deployments';
    process.env.DEPLOYMENT_TABLE = 'afu9-deployments';
    // What the Lambda runtime sets for an on-demand execution environment (Powertools reads it).
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    bundled.__DEPLOY_CONFIG__ = readFileSync(repositoryConfigPath, 'utf8');
  });

  afterEach(() => {
    process.env = { ...environment };
    delete bundled.__DEPLOY_CONFIG__;
  });

  it('gives the handler the environments of the configuration bundled into the function', async () => {
    // Prepare
    let names: string[] = [];
    const handler = lambdaEntry('resolve-request', (deps: HandlerDeps) => {
      names = Object.keys(deps.environments);
      return async () => 'done';
    });

    // Act
    await handler({}, lambdaContext('c0ffee00-0000-4000-8000-00000000000a'));

    // Assess
    expect(names).toEqual(['staging', 'production']);
  });

  it('GIVEN a function bundled without a configuration WHEN invoked THEN it fails saying how to deploy it', () => {
    // Prepare
    delete bundled.__DEPLOY_CONFIG__;
    const handler = lambdaEntry('resolve-request', () => async () => 'done');

    // Act
    const invoke = () => handler({}, lambdaContext('c0ffee00-0000-4000-8000-00000000000b'));

    // Assess
    expect(invoke).toThrow(/not bundled with a deployment configuration.*npx cdk deploy -c config=<path>/);
  });

  it('logs every line with the Lambda request id and the cold-start flag, even after the handler resets its keys', async () => {
    // Prepare
    const lines: Record<string, unknown>[] = [];
    let builds = 0;
    const handler = lambdaEntry('update-service', (deps: HandlerDeps) => {
      builds += 1;
      const capture = (line: unknown) => lines.push(JSON.parse(String(line)) as Record<string, unknown>);
      (deps.logger as unknown as { console: Record<string, (line: unknown) => void> }).console = {
        info: capture,
        warn: capture,
        error: capture,
        debug: capture,
        log: capture,
        trace: capture,
      };
      return async (event: { executionId: string }) => {
        deps.logger.resetKeys();
        deps.logger.appendKeys({ executionId: event.executionId });
        deps.logger.info('handled');
        return event.executionId;
      };
    });

    // Act
    await handler({ executionId: 'first' }, lambdaContext('c0ffee00-0000-4000-8000-000000000001'));
    await handler({ executionId: 'second' }, lambdaContext('c0ffee00-0000-4000-8000-000000000002'));

    // Assess
    expect(builds).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({
        message: 'handled',
        executionId: 'first',
        function_request_id: 'c0ffee00-0000-4000-8000-000000000001',
        cold_start: true,
        function_name: 'Afu9DeployOrchestrator-UpdateService',
      }),
      expect.objectContaining({
        message: 'handled',
        executionId: 'second',
        function_request_id: 'c0ffee00-0000-4000-8000-000000000002',
        cold_start: false,
      }),
    ]);
  });
});
