import { DeploymentRejected } from '../../../lambdas/domain/errors';
import { parseTriggerInput } from '../../../lambdas/domain/trigger-events';
import { loadSampleEvent, withDetail } from './sample-events';

function rejectionMessage(input: unknown): string {
  try {
    parseTriggerInput(input);
  } catch (error) {
    if (error instanceof DeploymentRejected) return error.message;
    throw error;
  }
  throw new Error('expected a DeploymentRejected');
}

describe('parseTriggerInput', () => {
  it('recognises a start input', () => {
    // Act
    const trigger = parseTriggerInput(loadSampleEvent('start-staging.json'));

    // Assess
    expect(trigger).toEqual({
      kind: 'start',
      input: { environment: 'staging', imageTag: 'stage-3f9c2ab', requestedBy: 'jane.doe' },
    });
  });

  it('recognises the documented ECR Image Action event', () => {
    // Act
    const trigger = parseTriggerInput(loadSampleEvent('ecr-push.json'));

    // Assess
    expect(trigger).toMatchObject({
      kind: 'ecr-image-action',
      event: { source: 'aws.ecr', detail: { 'repository-name': 'afu9/control-center' } },
    });
  });

  it('recognises the documented ECS Deployment State Change event', () => {
    // Act
    const trigger = parseTriggerInput(loadSampleEvent('ecs-deployment-failed.json'));

    // Assess
    expect(trigger).toMatchObject({
      kind: 'ecs-deployment-state-change',
      event: {
        detail: { eventName: 'SERVICE_DEPLOYMENT_FAILED', deploymentId: 'ecs-svc/1338873912811884835' },
      },
    });
  });

  it('answers other EventBridge events as other-event', () => {
    // Act
    const trigger = parseTriggerInput({
      ...loadSampleEvent('ecs-deployment-failed.json'),
      'detail-type': 'ECS Task State Change',
    });

    // Assess
    expect(trigger).toEqual({ kind: 'other-event', source: 'aws.ecs', detailType: 'ECS Task State Change' });
  });

  it.each([
    ['null', null, /must be a JSON object, received null/],
    ['an array', [{ environment: 'staging' }], /received an array/],
    ['a string', 'staging', /received string/],
    ['a missing environment', { imageTag: 'stage-1' }, /environment: Invalid input: expected string/],
    [
      'a wrongly typed flag',
      { environment: 'production', imageTag: 'prod-1', allowProduction: 'yes' },
      /allowProduction: Invalid input: expected boolean/,
    ],
    ['an unknown action', { environment: 'staging', action: 'redeploy' }, /action: Invalid option/],
    [
      'a misspelt field',
      { environment: 'staging', imageTag: 'stage-1', allowProd: true },
      /unknown field\(s\) "allowProd" \(known fields: environment, action, imageTag/,
    ],
    [
      'a non-string per-container image',
      { environment: 'staging', images: { 'mcp-github': 3 } },
      /images\.mcp-github: Invalid input: expected string/,
    ],
  ])('rejects %s as a start input', (_name, input, message) => {
    expect(rejectionMessage(input)).toMatch(message);
  });

  it('rejects an ECR event that does not have the documented shape', () => {
    // Act
    const message = rejectionMessage(withDetail(loadSampleEvent('ecr-push.json'), { 'repository-name': 42 }));

    // Assess
    expect(message).toMatch(
      /The ECR Image Action event does not have the shape AWS documents \(detail\.repository-name: /,
    );
  });

  it('rejects an ECS event without the service ARN', () => {
    // Act
    const message = rejectionMessage({ ...loadSampleEvent('ecs-deployment-failed.json'), resources: [] });

    // Assess
    expect(message).toMatch(
      /ECS Deployment State Change event does not have the shape AWS documents \(resources: /,
    );
  });

  it('rejects an event whose time is not an ISO date (the Powertools envelope)', () => {
    // Act
    const message = rejectionMessage({ ...loadSampleEvent('ecr-push.json'), time: 'yesterday' });

    // Assess
    expect(message).toMatch(/\(time: /);
  });
});
