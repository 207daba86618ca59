import {
  deploymentIdOf,
  deploymentInProgressMessage,
  duplicateReason,
  ledgerEnding,
  restartCommand,
} from '../../../lambdas/domain/ledger';
import type { ImageRef } from '../../../lambdas/domain/workflow-state';

const NOW = new Date('2026-11-27T09:00:00.000Z');
const DIGEST = 'sha256:f17abd9a871ef6ec25b19d8b6cc997a3221ae2cee6aa9d128ff56dc48d98d521';
const RUNNING =
  'arn:aws:states:eu-central-1:123456789012:execution:Afu9DeployOrchestrator:staging-stage-1b2c3d4';
const staging = { primaryContainer: 'control-center', requiresAllowFlag: false };
const controlCenter: ImageRef = {
  container: 'control-center',
  repository: 'afu9/control-center',
  tag: 'stage-3f9c2ab',
  digest: DIGEST,
};

describe('ledger messages', () => {
  it('names a deployment by its execution name', () => {
    expect(deploymentIdOf(RUNNING)).toBe('staging-stage-1b2c3d4');
  });

  it('sends a deploy again with the CLI, by tag, with every other image and the flags it needs', () => {
    // Act
    const command = restartCommand(
      {
        kind: 'deploy',
        environment: 'production',
        images: [
          { ...controlCenter, tag: 'prod-3f9c2ab' },
          { container: 'mcp-github', repository: 'afu9/mcp-github', digest: DIGEST },
        ],
      },
      { primaryContainer: 'control-center', requiresAllowFlag: true },
      true,
    );

    // Assess
    expect(command).toBe(
      `\`afu9-deploy start --env production --image-tag prod-3f9c2ab --image mcp-github=${DIGEST} --allow-production --redeploy\``,
    );
  });

  it('gives the start input for images the CLI cannot name (a push of a side container)', () => {
    // Act
    const command = restartCommand(
      {
        kind: 'deploy',
        environment: 'staging',
        images: [
          { container: 'mcp-github', repository: 'afu9/mcp-github', tag: 'stage-5e6f7a8', digest: DIGEST },
        ],
      },
      staging,
      true,
    );

    // Assess
    expect(command).toBe(
      `a start-execution with the input {"environment":"staging","images":{"mcp-github":"stage-5e6f7a8@${DIGEST}"},"redeploy":true}`,
    );
  });

  it('says who has a duplicate image, since when, and how to deploy it again on purpose', () => {
    // Act
    const reason = duplicateReason(
      { kind: 'deploy', environment: 'staging', images: [controlCenter] },
      DIGEST,
      { executionId: RUNNING, claimedAt: '2026-11-27T08:41:09.000Z' },
      staging,
    );

    // Assess
    expect(reason).toBe(
      `Image ${DIGEST} for staging was already claimed by execution staging-stage-1b2c3d4 at 2026-11-27T08:41:09.000Z: ` +
        'this trigger is a duplicate and deploys nothing. To deploy the image again on purpose, send it with "redeploy": true ' +
        '(`afu9-deploy start --env staging --image-tag stage-3f9c2ab --redeploy`). What happened to it: ' +
        `\`afu9-deploy history --env staging --image ${DIGEST}\`.`,
    );
  });

  it('names the running deployment, since when, and what to do when refusing', () => {
    // Act
    const message = deploymentInProgressMessage(
      {
        kind: 'deploy',
        environment: 'staging',
        serviceName: 'afu9-control-center-staging',
        images: [controlCenter],
      },
      { executionId: RUNNING, acquiredAt: '2026-11-27T08:52:10.000Z' },
      staging,
    );

    // Assess
    expect(message).toBe(
      'afu9-control-center-staging (staging) is being deployed by execution staging-stage-1b2c3d4 since ' +
        '2026-11-27T08:52:10.000Z. This deploy request was refused (not queued) and changed nothing. Wait until ' +
        'staging-stage-1b2c3d4 ends (`afu9-deploy status staging-stage-1b2c3d4`), then send it again: ' +
        '`afu9-deploy start --env staging --image-tag stage-3f9c2ab`.',
    );
  });
});

describe('ledgerEnding', () => {
  const executionId =
    'arn:aws:states:eu-central-1:123456789012:execution:Afu9DeployOrchestrator:ecr-push-e88b7e53';
  const request = {
    kind: 'deploy',
    environment: 'staging',
    version: 'stage-3f9c2ab',
    startedAt: NOW.toISOString(),
  };

  it('has nothing to write for a state without a request', () => {
    expect(
      ledgerEnding({ outcome: 'rejected', executionId, state: { environment: 'staging' }, now: NOW }),
    ).toBe(undefined);
    expect(ledgerEnding({ outcome: 'rejected', executionId, state: null, now: NOW })).toBe(undefined);
  });

  it('records an unchanged service for a deployment that failed before the update', () => {
    // Act
    const ending = ledgerEnding({
      outcome: 'failed-before-change',
      executionId,
      state: {
        request,
        resolution: {},
        error: { Error: 'SecretsInvalid', Cause: 'afu9/llm lacks key apiKey' },
      },
      now: NOW,
    });

    // Assess
    expect(ending).toEqual({
      environment: 'staging',
      record: {
        startedAt: NOW.toISOString(),
        deploymentId: 'ecr-push-e88b7e53',
        fields: {
          outcome: 'failed-before-change',
          reasons: ['SecretsInvalid: afu9/llm lacks key apiKey'],
          statesReached: ['resolution'],
          finishedAt: NOW.toISOString(),
        },
      },
    });
  });

  it('leaves what runs unknown after a failed rollback', () => {
    // Act
    const ending = ledgerEnding({
      outcome: 'rollback-failed',
      executionId,
      state: {
        request,
        update: { previousTaskDefinitionArn: 'td:41', taskDefinitionArn: 'td:42', deploymentId: 'ecs-svc/1' },
        rollback: {
          fromTaskDefinitionArn: 'td:42',
          targetTaskDefinitionArn: 'td:41',
          deploymentId: 'ecs-svc/2',
        },
      },
      now: NOW,
    });

    // Assess
    expect(ending?.live).toBeUndefined();
    expect(ending?.record?.fields).toMatchObject({
      taskDefinitionBefore: 'td:41',
      ecsDeploymentId: 'ecs-svc/1',
    });
    expect(ending?.record?.fields).not.toHaveProperty('taskDefinitionAfter');
  });

  describe('an infrastructure release', () => {
    const infrastructureRequest = {
      kind: 'infrastructure',
      environment: 'staging',
      version: 'infrastructure',
      startedAt: NOW.toISOString(),
    };
    const verifiedDeployment = {
      previousTaskDefinitionArn: 'td:41',
      taskDefinitionArn: 'td:42',
      deploymentId: 'ecs-svc/7615527299801093780',
    };

    it('records the ECS deployment a stack update started and that was verified as a verified image deployment', () => {
      // Act
      const ending = ledgerEnding({
        outcome: 'succeeded',
        executionId,
        state: {
          request: infrastructureRequest,
          resolution: {},
          release: { index: 3, count: 3 },
          verifiedDeployment,
        },
        now: NOW,
      });

      // Assess
      expect(ending?.record?.fields).toMatchObject({
        outcome: 'succeeded',
        taskDefinitionBefore: 'td:41',
        taskDefinitionAfter: 'td:42',
        ecsDeploymentId: 'ecs-svc/7615527299801093780',
      });
      expect(ending?.live).toEqual({ taskDefinitionArn: 'td:42', provedBy: 'succeeded' });
    });

    it('keeps a verified deployment of an earlier stack live when a later stack fails', () => {
      // Act
      const ending = ledgerEnding({
        outcome: 'stack-failed',
        executionId,
        state: {
          request: infrastructureRequest,
          verifiedDeployment,
          stack: { name: 'Afu9AlarmsStack' },
          error: { Error: 'States.TaskFailed', Cause: 'Build failed' },
        },
        now: NOW,
      });

      // Assess
      expect(ending?.record?.fields).toMatchObject({ outcome: 'stack-failed', taskDefinitionAfter: 'td:42' });
      expect(ending?.live).toEqual({ taskDefinitionArn: 'td:42', provedBy: 'succeeded' });
    });

    it('proves no revision when no stack started a verified ECS deployment, and still finishes the record', () => {
      // Act
      const ending = ledgerEnding({
        outcome: 'succeeded',
        executionId,
        state: { request: infrastructureRequest, verifiedDeployment: {} },
        now: NOW,
      });

      // Assess
      expect(ending?.record?.fields.outcome).toBe('succeeded');
      expect(ending?.record?.fields).not.toHaveProperty('taskDefinitionAfter');
      expect(ending?.live).toBeUndefined();
    });
  });
});
