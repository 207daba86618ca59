import { environments } from '../../support/afu9-config';
import { DeploymentRejected } from '../../../lambdas/domain/errors';
import {
  ROLLBACK_VERSION,
  requestFromStartInput,
  resolveEcrImageAction,
  resolveEcsDeploymentEvent,
  resolveTrigger,
  type ResolveContext,
} from '../../../lambdas/domain/request-validation';
import {
  parseTriggerInput,
  type EcrImageActionEvent,
  type EcsDeploymentStateChangeEvent,
} from '../../../lambdas/domain/trigger-events';
import type { DeploymentRequest, StartDeploymentInput } from '../../../lambdas/domain/workflow-state';
import { loadSampleEvent, withDetail } from './sample-events';

const context: ResolveContext = { environments, executionName: 'run-0001' };
const digest = 'sha256:f17abd9a871ef6ec25b19d8b6cc997a3221ae2cee6aa9d128ff56dc48d98d521';
const otherDigest = `sha256:${'ab'.repeat(32)}`;

function deploy(input: Partial<StartDeploymentInput>): DeploymentRequest {
  return requestFromStartInput({ environment: 'staging', ...input }, context);
}

function rejection(act: () => unknown): DeploymentRejected {
  try {
    act();
  } catch (error) {
    if (error instanceof DeploymentRejected) return error;
    throw error;
  }
  throw new Error('expected a DeploymentRejected, but the request was accepted');
}

function ecrEvent(detail: Record<string, unknown> = {}): EcrImageActionEvent {
  const parsed = parseTriggerInput(withDetail(loadSampleEvent('ecr-push.json'), detail));
  if (parsed.kind !== 'ecr-image-action') throw new Error(`parsed as ${parsed.kind}`);
  return parsed.event;
}

function ecsEvent(detail: Record<string, unknown> = {}, resources?: string[]): EcsDeploymentStateChangeEvent {
  const sample = withDetail(loadSampleEvent('ecs-deployment-failed.json'), detail);
  const parsed = parseTriggerInput(resources ? { ...sample, resources } : sample);
  if (parsed.kind !== 'ecs-deployment-state-change') throw new Error(`parsed as ${parsed.kind}`);
  return parsed.event;
}

describe('requestFromStartInput', () => {
  it('builds a staging request from the environment config with the tag as version', () => {
    // Act
    const request = deploy({ imageTag: 'stage-3f9c2ab', requestedBy: 'jane.doe' });

    // Assess
    expect(request).toEqual({
      kind: 'deploy',
      environment: 'staging',
      clusterName: 'afu9-cluster',
      serviceName: 'afu9-control-center-staging',
      taskFamily: 'afu9-control-center-staging',
      stackName: 'Afu9EcsStack',
      images: [{ container: 'control-center', repository: 'afu9/control-center', tag: 'stage-3f9c2ab' }],
      version: 'stage-3f9c2ab',
      skipDiffGate: false,
      requestedBy: 'jane.doe',
      trigger: 'manual',
      deploymentKey: 'staging#stage-3f9c2ab',
      redeploy: false,
      safetyNetPollSeconds: environments.staging.rollout.safetyNetPollSeconds,
    });
  });

  it('defaults requestedBy to the trigger', () => {
    expect(deploy({ imageTag: 'stage-3f9c2ab' }).requestedBy).toBe('manual');
    expect(deploy({ imageTag: 'stage-3f9c2ab', requestedBy: '  ' }).requestedBy).toBe('manual');
  });

  it('uses the digest as version and key when only a digest is given', () => {
    // Act
    const request = deploy({ imageDigest: digest });

    // Assess
    expect(request.version).toBe(digest);
    expect(request.deploymentKey).toBe(`staging#${digest}`);
    expect(request.images).toEqual([
      { container: 'control-center', repository: 'afu9/control-center', digest },
    ]);
  });

  it('pins a tag to a digest when both are given, keying on the digest', () => {
    // Act
    const request = deploy({ imageTag: 'stage-3f9c2ab', imageDigest: digest });

    // Assess
    expect(request.version).toBe('stage-3f9c2ab');
    expect(request.deploymentKey).toBe(`staging#${digest}`);
    expect(request.images[0]).toMatchObject({ tag: 'stage-3f9c2ab', digest });
  });

  it('accepts per-container images as tag, digest or tag@digest, primary first', () => {
    // Act
    const request = deploy({
      images: {
        'mcp-github': 'stage-77aa001',
        'mcp-deploy': `stage-77aa001@${otherDigest}`,
        'control-center': digest,
      },
    });

    // Assess
    expect(request.images).toEqual([
      { container: 'control-center', repository: 'afu9/control-center', digest },
      { container: 'mcp-github', repository: 'afu9/mcp-github', tag: 'stage-77aa001' },
      { container: 'mcp-deploy', repository: 'afu9/mcp-deploy', tag: 'stage-77aa001', digest: otherDigest },
    ]);
    expect(request.version).toBe(digest);
    expect(request.deploymentKey).toBe(
      `staging#${digest}+mcp-github=stage-77aa001+mcp-deploy=${otherDigest}`,
    );
  });

  it('carries redeploy, and never a skip of the diff gate (a held diff waits for a recorded approval)', () => {
    // Act
    const request = deploy({ imageTag: 'stage-3f9c2ab', skipDiffGate: false, redeploy: true });

    // Assess
    expect(request).toMatchObject({ skipDiffGate: false, redeploy: true });
    expect(request).not.toHaveProperty('skipReason');
  });

  it('deploys production only with allowProduction', () => {
    // Act
    const request = requestFromStartInput(
      { environment: 'production', imageTag: 'prod-3f9c2ab', allowProduction: true },
      context,
    );

    // Assess
    expect(request).toMatchObject({ environment: 'production', serviceName: 'afu9-control-center' });
  });

  describe('rejects', () => {
    it.each([
      [
        'an unknown environment, listing the known ones',
        { environment: 'prod', imageTag: 'prod-1' },
        /Unknown environment "prod"\. Known environments: staging, production/,
      ],
      ['a request without any image', { environment: 'staging' }, /No image to deploy/],
      [
        'a malformed tag',
        { environment: 'staging', imageTag: 'stage-3f9c2ab:latest' },
        /Image tag "stage-3f9c2ab:latest" for container control-center is malformed/,
      ],
      ['a tag starting with a dash', { environment: 'staging', imageTag: '-stage' }, /is malformed/],
      [
        'a malformed digest',
        { environment: 'staging', imageDigest: 'sha256:1234' },
        /Image digest "sha256:1234" .* is malformed/,
      ],
      ['an uppercase digest', { environment: 'staging', imageDigest: digest.toUpperCase() }, /is malformed/],
      [
        'a malformed tag@digest',
        { environment: 'staging', images: { 'mcp-github': 'stage-1@sha256:zz' } },
        /Image digest "sha256:zz" for container mcp-github/,
      ],
      [
        'an image for a container the environment does not run',
        { environment: 'staging', images: { 'mcp-slack': 'stage-1' } },
        /container "mcp-slack", which staging does not run\. Containers: control-center, mcp-github/,
      ],
      [
        'the primary image given twice',
        { environment: 'staging', imageTag: 'stage-1', images: { 'control-center': 'stage-2' } },
        /control-center is given twice/,
      ],
      [
        'production without allowProduction',
        { environment: 'production', imageTag: 'prod-3f9c2ab' },
        /production changes only with an explicit "allowProduction": true/,
      ],
      [
        'production with allowProduction false',
        { environment: 'production', imageTag: 'prod-3f9c2ab', allowProduction: false },
        /allowProduction/,
      ],
      [
        'a prod- image to staging',
        { environment: 'staging', imageTag: 'prod-3f9c2ab' },
        /prefix "prod-", which is never deployed to staging/,
      ],
      [
        'a stage- image to production',
        { environment: 'production', imageTag: 'stage-3f9c2ab', allowProduction: true },
        /prefix "stage-", which is never deployed to production/,
      ],
      [
        'a stage- sidecar image to production',
        {
          environment: 'production',
          imageTag: 'prod-1',
          allowProduction: true,
          images: { 'mcp-deploy': 'stage-1' },
        },
        /afu9\/mcp-deploy:stage-1 has the prefix "stage-"/,
      ],
      [
        'a tag without the environment prefix',
        { environment: 'staging', imageTag: 'v0.2.6' },
        /does not start with "stage-"/,
      ],
      [
        'staging-latest to staging',
        { environment: 'staging', imageTag: 'staging-latest' },
        /does not start with "stage-"/,
      ],
      [
        'skipDiffGate, even with a reason: the approval records who, the skip did not',
        { environment: 'staging', imageTag: 'stage-1', skipDiffGate: true, reason: 'INC-42 hotfix' },
        /skipDiffGate is no longer accepted: a held diff now pauses the deployment for a recorded approval\. Start the deployment without skipDiffGate; .*afu9-deploy approve <execution> --reason/,
      ],
      [
        'skipDiffGate without a reason',
        { environment: 'staging', imageTag: 'stage-1', skipDiffGate: true },
        /skipDiffGate is no longer accepted/,
      ],
    ] as const)('%s', (_name, input, message) => {
      // Act
      const error = rejection(() => requestFromStartInput(input as StartDeploymentInput, context));

      // Assess
      expect(error.message).toMatch(message);
    });

    it('quotes an over-long value instead of echoing all of it', () => {
      // Act
      const error = rejection(() => deploy({ imageTag: `stage-${'x'.repeat(500)}` }));

      // Assess
      expect(error.message.length).toBeLessThan(400);
    });
  });
});

describe('requestFromStartInput with action rollback', () => {
  it('builds a rollback request with the reason and a per-execution key', () => {
    // Act
    const request = deploy({ action: 'rollback', reason: 'Login returns 500', requestedBy: 'jane.doe' });

    // Assess
    expect(request).toMatchObject({
      kind: 'rollback',
      environment: 'staging',
      images: [],
      version: ROLLBACK_VERSION,
      failureReason: 'Login returns 500',
      requestedBy: 'jane.doe',
      trigger: 'manual',
      deploymentKey: 'staging#rollback#run-0001',
    });
    expect(request.failedDeploymentId).toBeUndefined();
  });

  it.each([
    ['an image', { imageTag: 'stage-1' }, /takes no image/],
    ['per-container images', { images: { 'mcp-github': 'stage-1' } }, /takes no image/],
    ['skipDiffGate', { skipDiffGate: true, reason: 'x' }, /runs no diff gate/],
  ] as const)('rejects a rollback with %s', (_name, extra, message) => {
    expect(rejection(() => deploy({ action: 'rollback', ...extra })).message).toMatch(message);
  });

  it('rejects a production rollback without allowProduction', () => {
    // Act
    const error = rejection(() =>
      requestFromStartInput({ environment: 'production', action: 'rollback' }, context),
    );

    // Assess
    expect(error.message).toMatch(/allowProduction/);
  });
});

describe('resolveEcrImageAction', () => {
  it('deploys a stage- push to staging, pinned by the event digest', () => {
    // Act
    const result = resolveEcrImageAction(ecrEvent(), context);

    // Assess
    expect(result).toEqual({
      status: 'accepted',
      request: expect.objectContaining({
        kind: 'deploy',
        environment: 'staging',
        images: [
          { container: 'control-center', repository: 'afu9/control-center', tag: 'stage-3f9c2ab', digest },
        ],
        version: 'stage-3f9c2ab',
        requestedBy: 'ecr-push',
        trigger: 'ecr-push',
        deploymentKey: `staging#${digest}`,
        skipDiffGate: false,
        redeploy: false,
      }),
    });
  });

  it('deploys a sidecar push as that container alone', () => {
    // Act
    const result = resolveEcrImageAction(ecrEvent({ 'repository-name': 'afu9/mcp-github' }), context);

    // Assess
    expect(result.status === 'accepted' && result.request.images).toEqual([
      { container: 'mcp-github', repository: 'afu9/mcp-github', tag: 'stage-3f9c2ab', digest },
    ]);
  });

  it.each([
    [
      'another repository',
      { 'repository-name': 'team-x/api' },
      /Repository team-x\/api is not deployed by this orchestrator/,
    ],
    ['a DELETE', { 'action-type': 'DELETE' }, /ECR DELETE of afu9\/control-center is not a push/],
    ['a FAILURE result', { result: 'FAILURE' }, /ended FAILURE/],
    ['an untagged push', { 'image-tag': undefined }, /Untagged push/],
    [
      'staging-latest',
      { 'image-tag': 'staging-latest' },
      /staging-latest matches no environment's prefix \("stage-" → staging, "prod-" → production\)/,
    ],
    ['a release tag', { 'image-tag': 'v0.2.6' }, /v0.2.6 matches no environment's prefix/],
    [
      'a prod- push (production never deploys from a push)',
      { 'image-tag': 'prod-3f9c2ab' },
      /production never deploys from a push\. Start a deployment with "allowProduction": true and "imageDigest": "sha256:f17a/,
    ],
  ])('ignores %s', (_name, detail, reason) => {
    // Act
    const result = resolveEcrImageAction(ecrEvent(detail), context);

    // Assess
    expect(result).toEqual({ status: 'ignored', reason: expect.stringMatching(reason) });
  });

  it.each([
    ['no digest', { 'image-digest': undefined }, /carries no image-digest/],
    ['a malformed digest', { 'image-digest': 'sha256:abc' }, /Image digest "sha256:abc" .* is malformed/],
    ['a malformed tag', { 'image-tag': 'stage-a b' }, /Image tag "stage-a b" .* is malformed/],
  ])('rejects a push with %s', (_name, detail, message) => {
    expect(rejection(() => resolveEcrImageAction(ecrEvent(detail), context)).message).toMatch(message);
  });
});

describe('resolveEcsDeploymentEvent', () => {
  it('turns a failed staging deployment into a rollback request', () => {
    // Act
    const result = resolveEcsDeploymentEvent(ecsEvent(), context);

    // Assess
    expect(result).toEqual({
      status: 'accepted',
      request: {
        kind: 'rollback',
        environment: 'staging',
        clusterName: 'afu9-cluster',
        serviceName: 'afu9-control-center-staging',
        taskFamily: 'afu9-control-center-staging',
        stackName: 'Afu9EcsStack',
        images: [],
        version: ROLLBACK_VERSION,
        skipDiffGate: false,
        requestedBy: 'ecs-deployment-failed',
        trigger: 'ecs-deployment-failed',
        deploymentKey: 'staging#rollback#ecs-svc/1338873912811884835',
        redeploy: false,
        failedDeploymentId: 'ecs-svc/1338873912811884835',
        failureReason: 'ECS deployment circuit breaker: task failed to start.',
        safetyNetPollSeconds: environments.staging.rollout.safetyNetPollSeconds,
      },
    });
  });

  it('rolls production back without an allow flag (it restores the last good revision)', () => {
    // Act
    const result = resolveEcsDeploymentEvent(
      ecsEvent({}, ['arn:aws:ecs:eu-central-1:111122223333:service/afu9-cluster/afu9-control-center']),
      context,
    );

    // Assess
    expect(result.status === 'accepted' && result.request.environment).toBe('production');
  });

  it('says so when ECS gave no reason', () => {
    // Act
    const result = resolveEcsDeploymentEvent(ecsEvent({ reason: undefined }), context);

    // Assess
    expect(result.status === 'accepted' && result.request.failureReason).toMatch(/without a reason/);
  });

  it.each([
    [
      'a COMPLETED event',
      { eventName: 'SERVICE_DEPLOYMENT_COMPLETED', eventType: 'INFO' },
      undefined,
      /SERVICE_DEPLOYMENT_COMPLETED .* needs no action/,
    ],
    [
      'an IN_PROGRESS event',
      { eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', eventType: 'INFO' },
      undefined,
      /needs no action/,
    ],
    [
      'a service no environment owns',
      {},
      ['arn:aws:ecs:eu-central-1:111122223333:service/afu9-cluster/billing'],
      /Service billing in cluster afu9-cluster \(eu-central-1\) belongs to no environment/,
    ],
    [
      'the right names in another region',
      {},
      ['arn:aws:ecs:us-east-1:111122223333:service/afu9-cluster/afu9-control-center-staging'],
      /belongs to no environment/,
    ],
    [
      'a short service ARN without the cluster',
      {},
      ['arn:aws:ecs:eu-central-1:111122223333:service/afu9-control-center-staging'],
      /not a service ARN that names its cluster/,
    ],
  ])('ignores %s', (_name, detail, resources, reason) => {
    // Act
    const result = resolveEcsDeploymentEvent(ecsEvent(detail, resources), context);

    // Assess
    expect(result).toEqual({ status: 'ignored', reason: expect.stringMatching(reason) });
  });
});

describe('resolveTrigger', () => {
  it('ignores EventBridge events of other kinds', () => {
    // Act
    const result = resolveTrigger(
      { kind: 'other-event', source: 'aws.ecs', detailType: 'ECS Task State Change' },
      context,
    );

    // Assess
    expect(result).toEqual({
      status: 'ignored',
      reason: 'EventBridge "ECS Task State Change" events from aws.ecs do not start deployments.',
    });
  });
});
