/**
 * The reason an infrastructure release's notification gives when a step failed (a Catch put the error
 * into $.error): what is known of the stack, so a failed step is never read as "nothing happened" nor
 * a stack that may be updated as untouched.
 */
import {
  composeInfrastructureMessage,
  infrastructureReasons,
} from '../../../lambdas/domain/infrastructure-notification';

const request = {
  kind: 'infrastructure',
  environment: 'staging',
  clusterName: 'afu9-cluster',
  serviceName: 'afu9-control-center-staging',
  requestedBy: 'jane.doe',
  trigger: 'manual',
  stacks: ['Afu9NetworkStack', 'Afu9DatabaseStack', 'Afu9EcsStack'],
};

/** A Lambda crash as a Catch records it once the retries are spent. */
const crash = {
  Error: 'Lambda.ServiceException',
  Cause: 'Lambda.ServiceException: Rate Exceeded. (Service: Lambda, Status Code: 500)',
};

function reasonLine(state: unknown): string {
  const message = composeInfrastructureMessage('stack-failed', state);
  const line = message?.lines.find((text) => text.startsWith('Reason:'));
  if (!line) throw new Error('The message has no Reason line.');
  return line;
}

describe('the reason an infrastructure release stopped at a failed step', () => {
  it('before the deploy build: the stack was not deployed', () => {
    // Act
    const reason = reasonLine({
      request,
      release: { index: 0, count: 3 },
      stack: { name: 'Afu9NetworkStack' },
      stackGate: { verdict: 'PASS', proceed: true, message: 'No risky change.', blocking: [], warnings: [] },
      error: crash,
    });

    // Assess
    expect(reason).toContain('Lambda.ServiceException: Rate Exceeded. (Service: Lambda, Status Code: 500).');
    expect(reason).toContain(
      'Afu9NetworkStack was not deployed: the release stopped before its deploy build.',
    );
  });

  it('after the deploy build, unwatched: the stack may have been updated, and how to look', () => {
    // Act
    const reason = reasonLine({
      request,
      release: { index: 0, count: 3 },
      stack: { name: 'Afu9NetworkStack' },
      stackDeploy: {
        buildId: 'afu9-infra-deploy:4b1f0d5e-8a0c-4d9e-b2f7-1c3a5e7d9f11',
        buildStatus: 'SUCCEEDED',
      },
      stackWatch: {
        status: 'IN_PROGRESS',
        stackStatus: 'UPDATE_IN_PROGRESS',
        reason: 'CloudFormation is updating Afu9NetworkStack.',
      },
      error: crash,
    });

    // Assess
    expect(reason).toContain('The deploy build of Afu9NetworkStack ended SUCCEEDED');
    expect(reason).toContain('could not be read to its end (Lambda.ServiceException: Rate Exceeded.');
    expect(reason).toContain('The stack may have been updated');
    expect(reason).toContain('aws cloudformation describe-stacks --stack-name Afu9NetworkStack');
  });

  it('after CloudFormation completed the update: the ECS deployment it started is named as not verified, and not live', () => {
    // Prepare
    const state = {
      request,
      release: { index: 2, count: 3 },
      stack: { name: 'Afu9EcsStack' },
      stackDeploy: {
        buildId: 'afu9-infra-deploy:9d2c7e41-0b6a-4f3e-8c15-7a2e4b6d8f90',
        buildStatus: 'SUCCEEDED',
      },
      stackWatch: {
        status: 'DEPLOYED',
        stackStatus: 'UPDATE_COMPLETE',
        reason: 'Afu9EcsStack is UPDATE_COMPLETE.',
        ecsDeployment: { deploymentId: 'ecs-svc/7615527299801093780' },
      },
      error: {
        Error: 'Sandbox.Timedout',
        Cause: JSON.stringify({
          errorType: 'Sandbox.Timedout',
          errorMessage: 'RequestId: 0f4c2a9e Error: Task timed out after 180.00 seconds',
        }),
      },
    };

    // Act
    const reason = reasonLine(state);
    const message = composeInfrastructureMessage('stack-failed', state)!;

    // Assess
    expect(reason).toContain('CloudFormation reports Afu9EcsStack UPDATE_COMPLETE');
    expect(reason).toContain(
      'the ECS deployment ecs-svc/7615527299801093780 its update started was not verified',
    );
    expect(reason).toContain('Task timed out after 180.00 seconds');
    expect(reason).toContain('the ledger did not make it live');
    // It is not reported deployed.
    expect(message.lines).toContain('  Afu9EcsStack: FAILED');
    expect(infrastructureReasons('stack-failed', state)[0]).toMatch(/^CloudFormation reports Afu9EcsStack/);
  });
});
