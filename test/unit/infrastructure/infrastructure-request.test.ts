/**
 * An infrastructure release's start input becomes a request in dependency order, or is refused with
 * what to send instead (lambdas/domain/infrastructure-request.ts through resolveTrigger).
 */
import { parseTriggerInput } from '../../../lambdas/domain/trigger-events';
import { resolveTrigger } from '../../../lambdas/domain/request-validation';
import { environments } from '../../support/afu9-config';

function resolve(input: Record<string, unknown>) {
  return resolveTrigger(parseTriggerInput(input), {
    environments,
    executionName: 'staging-infrastructure-1',
  });
}

describe('infrastructure release request', () => {
  it('GIVEN stacks named out of order THEN the request holds them in dependency order', () => {
    // Act
    const result = resolve({
      environment: 'staging',
      action: 'infrastructure',
      stacks: ['Afu9EcsStack', 'Afu9NetworkStack'],
      requestedBy: 'jane.doe',
    });

    // Assess
    expect(result).toMatchObject({
      status: 'accepted',
      request: {
        kind: 'infrastructure',
        environment: 'staging',
        stacks: ['Afu9NetworkStack', 'Afu9EcsStack'],
        images: [],
        requestedBy: 'jane.doe',
        deploymentKey: 'staging#infrastructure#staging-infrastructure-1',
      },
    });
  });

  it('GIVEN "all" THEN every stack but the optional DNS stack, in the runbook order', () => {
    // Act
    const result = resolve({ environment: 'staging', action: 'infrastructure', stacks: 'all' });

    // Assess
    expect(result.status === 'accepted' && result.request.stacks).toEqual([
      'Afu9NetworkStack',
      'Afu9DatabaseStack',
      'Afu9EcsStack',
      'Afu9AlarmsStack',
      'Afu9IamStack',
    ]);
  });

  it.each([
    [
      { stacks: ['Afu9NopeStack'] },
      /configures no stack "Afu9NopeStack"\. Its stacks: Afu9DnsStack, Afu9NetworkStack/,
    ],
    [{}, /needs "stacks": the stacks to deploy/],
    [{ stacks: [] }, /"stacks" is empty/],
    [{ stacks: ['Afu9EcsStack', 'Afu9EcsStack'] }, /names Afu9EcsStack more than once/],
    [{ stacks: 'all', imageTag: 'stage-1' }, /deploys stacks, not images: remove imageTag/],
    [{ stacks: 'all', skipDiffGate: true, reason: 'x' }, /gates every stack and skips none/],
  ])('GIVEN %j THEN it is refused with what to send', (fields, message) => {
    expect(() => resolve({ environment: 'staging', action: 'infrastructure', ...fields })).toThrow(message);
  });

  it('GIVEN production without the allow flag THEN it is refused like an image release', () => {
    expect(() => resolve({ environment: 'production', action: 'infrastructure', stacks: 'all' })).toThrow(
      /allowProduction/,
    );
  });

  it('GIVEN stacks on an image deployment THEN it says they belong to an infrastructure release', () => {
    expect(() =>
      resolve({ environment: 'staging', imageTag: 'stage-3f9c2ab', stacks: ['Afu9EcsStack'] }),
    ).toThrow(/send it with "action": "infrastructure"/);
  });
});
