import fc from 'fast-check';
import {
  MAX_SUBJECT_LENGTH,
  composeNotification,
  describeStateError,
  formatDuration,
  type NotificationInput,
} from '../../../lambdas/domain/notification';
import { Outcome } from '../../../lambdas/domain/workflow-state';
import { loadSampleEvent } from '../request/sample-events';
import {
  blockedDiffGate,
  digest,
  executionArn,
  failedRollout,
  failedSmoke,
  requestFrom,
  startedRollback,
  succeededState,
  update,
  verification,
} from './states';

const now = new Date('2026-11-27T09:02:12.000Z');

function compose(outcome: Outcome, state: unknown, extra: Partial<NotificationInput> = {}) {
  return composeNotification({
    outcome,
    executionId: executionArn,
    state,
    now,
    region: 'eu-central-1',
    knownEnvironments: ['staging', 'production'],
    displayName: 'AFU-9',
    ...extra,
  });
}

function lambdaCause(errorType: string, errorMessage: string): string {
  return JSON.stringify({
    errorType,
    errorMessage,
    trace: [`${errorType}: ${errorMessage}`, '    at /var/task/index.js:1:2345'],
  });
}

describe('composeNotification', () => {
  it('reports a success with images, task definitions, duration and the console link', () => {
    // Act
    const notification = compose(Outcome.succeeded, succeededState(), {
      startedAt: '2026-11-27T08:56:00.000Z',
    });

    // Assess
    expect(notification.subject).toBe('[AFU-9 staging] Deployed stage-3f9c2ab');
    expect(notification.attributes).toEqual({ outcome: 'succeeded', environment: 'staging' });
    expect(notification.message).toContain(`control-center: afu9/control-center:stage-3f9c2ab@${digest}`);
    expect(notification.message).toContain(
      'Task definition:   afu9-control-center:41 -> afu9-control-center:42',
    );
    expect(notification.message).toContain('Duration:          6m 12s (since the execution started)');
    expect(notification.message).toContain('Requested by:      ecr-push (trigger: ecr-push)');
    expect(notification.message).toContain('Diff gate: PASS (0 blocking, 0 warnings, 1 safe)');
    expect(notification.message).toContain('Smoke checks: 5 passed.');
    expect(notification.message).toContain(
      'https://eu-central-1.console.aws.amazon.com/states/home?region=eu-central-1' +
        `#/v2/executions/details/${executionArn}`,
    );
  });

  it("opens the subject with the configuration's displayName", () => {
    // Act
    const known = compose(Outcome.succeeded, succeededState(), { displayName: 'Shop API' });
    const unknown = compose(
      Outcome.rejected,
      { environment: 'qa', requestedBy: 'dana' },
      { displayName: 'Shop API' },
    );

    // Assess
    expect(known.subject).toBe('[Shop API staging] Deployed stage-3f9c2ab');
    expect(unknown.subject).toMatch(/^\[Shop API\] /);
  });

  it('measures the duration from the service update when the execution start is not given', () => {
    // Act
    const notification = compose(Outcome.succeeded, succeededState());

    // Assess
    expect(notification.message).toContain('Duration:          6m 12s (since the service update)');
  });

  it('leaves the duration out when no start is known', () => {
    // Act
    const notification = compose(Outcome.rejected, { environment: 'staging' }, { startedAt: 'not a date' });

    // Assess
    expect(notification.message).not.toContain('Duration');
  });

  it('reports a blocked diff with its findings and an unchanged service', () => {
    // Prepare
    const state = {
      ...succeededState(),
      diffGate: blockedDiffGate,
      verification: undefined,
      update: undefined,
      rollout: undefined,
      smoke: undefined,
    };

    // Act
    const notification = compose(Outcome.blocked, state);

    // Assess
    expect(notification.subject).toBe('[AFU-9 staging] BLOCKED by the diff gate: stage-3f9c2ab');
    expect(notification.message).toContain(
      'Reason:            BLOCKED: 1 blocking change (ECS service replacement).',
    );
    expect(notification.message).toContain(
      '  BLOCKING AWS::ECS::Service ServiceD69D759B (replace): Replacing the ECS service deletes the running one: downtime.',
    );
    expect(notification.message).toContain(
      '  WARNING AWS::IAM::Policy TaskRoleDefaultPolicyA592CB1F (modify)',
    );
    expect(notification.message).toContain('Task definition:   unchanged');
  });

  it('says loudly that the diff gate was skipped, why, and what it let through', () => {
    // Prepare
    const request = { ...requestFrom('ecr-push.json'), skipDiffGate: true, skipReason: 'INC-231 hotfix' };
    const diffGate = {
      ...blockedDiffGate,
      verdict: 'BLOCKED',
      proceed: true,
      skipped: true,
      skipReason: 'INC-231 hotfix',
    };

    // Act
    const notification = compose(Outcome.succeeded, { ...succeededState(), request, diffGate });

    // Assess
    expect(notification.message).toContain(
      '  SKIPPED on request, reason: INC-231 hotfix. These blocking findings were let through:',
    );
    expect(notification.message).toContain('  BLOCKING AWS::ECS::Service ServiceD69D759B');
  });

  it('names what a skip let through as warnings when the approval policy held a WARN for review', () => {
    // Prepare
    const request = { ...requestFrom('ecr-push.json'), skipDiffGate: true, skipReason: 'reviewed in CHG-88' };
    const diffGate = {
      ...blockedDiffGate,
      verdict: 'WARN',
      counts: { ...blockedDiffGate.counts, blocking: 0 },
      blocking: [],
      proceed: true,
      skipped: true,
      skipReason: 'reviewed in CHG-88',
    };

    // Act
    const notification = compose(Outcome.succeeded, { ...succeededState(), request, diffGate });

    // Assess
    expect(notification.message).toContain(
      '  SKIPPED on request, reason: reviewed in CHG-88. These warnings, which the approval policy holds for review, were let through:',
    );
    expect(notification.message).not.toContain('blocking findings were let through');
  });

  it('notes a requested skip even when the gate has not run', () => {
    // Prepare
    const request = { ...requestFrom('ecr-push.json'), skipDiffGate: true, skipReason: 'INC-231 hotfix' };

    // Act
    const notification = compose(Outcome.failedBeforeChange, {
      request,
      error: { Error: 'States.TaskFailed' },
    });

    // Assess
    expect(notification.message).toContain('Diff gate: skip requested, reason: INC-231 hotfix.');
  });

  it('words a rejected start input from the input itself and reads the Lambda error cause', () => {
    // Prepare
    const state = {
      ...loadSampleEvent('start-production.json'),
      allowProduction: false,
      error: {
        Error: 'DeploymentRejected',
        Cause: lambdaCause(
          'DeploymentRejected',
          'production changes only with an explicit "allowProduction": true in the request.',
        ),
      },
    };

    // Act
    const notification = compose(Outcome.rejected, state);

    // Assess
    expect(notification.subject).toBe('[AFU-9 production] REJECTED request: prod-3f9c2ab');
    expect(notification.attributes).toEqual({ outcome: 'rejected', environment: 'production' });
    expect(notification.message).toContain(
      'Reason:            DeploymentRejected: production changes only with an explicit "allowProduction": true in the request.',
    );
    expect(notification.message).toContain('Requested by:      jane.doe');
    expect(notification.message).not.toContain('/var/task');
  });

  it('names an unknown environment in the body only, and files it under "unknown"', () => {
    // Act
    const notification = compose(Outcome.rejected, {
      environment: 'prod',
      imageTag: 'prod-1',
      error: {
        Error: 'DeploymentRejected',
        Cause: 'Unknown environment "prod". Known environments: staging, production.',
      },
    });

    // Assess
    expect(notification.subject).toBe('[AFU-9] REJECTED request: prod-1');
    expect(notification.attributes.environment).toBe('unknown');
    expect(notification.message).toContain('Environment:       unknown: "prod"');
    expect(notification.message).toContain(
      'Reason:            DeploymentRejected: Unknown environment "prod".',
    );
  });

  it('words a rejected raw ECR event from its detail', () => {
    // Act
    const notification = compose(Outcome.rejected, {
      ...loadSampleEvent('ecr-push.json'),
      error: {
        Error: 'DeploymentRejected',
        Cause: lambdaCause('DeploymentRejected', 'The ECR push carries no image-digest.'),
      },
    });

    // Assess
    expect(notification.subject).toBe('[AFU-9] REJECTED request: stage-3f9c2ab');
    expect(notification.message).toContain('DeploymentRejected: The ECR push carries no image-digest.');
  });

  it('lists secret problems by name and status only', () => {
    // Prepare
    const state = {
      ...succeededState(),
      update: undefined,
      rollout: undefined,
      smoke: undefined,
      verification: {
        ok: false,
        checks: [
          ...verification.checks,
          {
            kind: 'secret-key',
            subject: 'afu9/database › password',
            status: 'NG',
            detail: 'placeholder CHANGE_ME',
          },
          { kind: 'secret', subject: 'afu9/llm', status: 'SKIP', detail: 'could not read: AccessDenied' },
        ],
        images: verification.images,
      },
      error: {
        Error: 'SecretsInvalid',
        Cause: lambdaCause(
          'SecretsInvalid',
          'afu9/database › password is a runbook placeholder; set the real value.',
        ),
      },
    };

    // Act
    const notification = compose(Outcome.failedBeforeChange, state);

    // Assess
    expect(notification.subject).toBe('[AFU-9 staging] FAILED before any change: stage-3f9c2ab');
    expect(notification.message).toContain(
      'Secrets and images:\n  NG secret-key afu9/database › password\n  SKIP secret afu9/llm',
    );
    expect(notification.message).not.toContain('CHANGE_ME');
    expect(notification.message).not.toContain('AccessDenied');
    expect(notification.message).toContain('Task definition:   unchanged');
  });

  it('reports a rollback after a failed rollout with the stopped tasks and the revisions', () => {
    // Prepare
    const state = {
      ...succeededState(),
      rollout: failedRollout,
      smoke: undefined,
      rollback: startedRollback,
      rollbackRollout: { ...failedRollout, status: 'COMPLETED' },
    };

    // Act
    const notification = compose(Outcome.rolledBack, state);

    // Assess
    expect(notification.subject).toBe('[AFU-9 staging] ROLLED BACK stage-3f9c2ab');
    expect(notification.message).toContain(`Reason:            ${failedRollout.reason}`);
    expect(notification.message).toContain('Rollout: FAILED\n');
    expect(notification.message).toContain(
      '  ECS says: ECS deployment circuit breaker: task failed to start.',
    );
    expect(notification.message).toContain(
      '  stopped task: ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed (control-center: exit 1, Essential container in task exited)',
    );
    expect(notification.message).toContain(
      'Task definition:   afu9-control-center:42 -> rolled back to afu9-control-center:41',
    );
    expect(notification.message).toContain(`Rollback: started: ${startedRollback.reason}`);
    expect(notification.message).not.toContain('Rollback rollout');
  });

  it('reports a rollback after failed smoke checks with each failed check', () => {
    // Prepare
    const state = { ...succeededState(), smoke: failedSmoke, rollback: startedRollback };

    // Act
    const notification = compose(Outcome.rolledBack, state);

    // Assess
    expect(notification.message).toContain(
      'Reason:            The live service did not pass its smoke checks.',
    );
    expect(notification.message).toContain(
      'Smoke checks: 1 of 2 failed:\n  FAIL readiness https://stage.afu-9.com/api/ready - HTTP 503 - ready is false: database check failed',
    );
  });

  it('lists a skipped smoke check with its reason in a success, never as a failure', () => {
    // Prepare
    const reason = "mcp-github was deployed; /api/health reports control-center's version";
    const state = {
      ...succeededState(),
      smoke: {
        passed: true,
        baseUrl: 'https://stage.afu-9.com/',
        checks: [
          {
            name: 'health',
            url: 'https://stage.afu-9.com/api/health',
            status: 'PASS',
            httpStatus: 200,
            latencyMs: 41,
            attempts: 1,
          },
          {
            name: 'version',
            url: 'https://stage.afu-9.com/api/health',
            status: 'SKIP',
            latencyMs: 0,
            attempts: 0,
            reason,
          },
        ],
      },
    };

    // Act
    const notification = compose(Outcome.succeeded, state);

    // Assess
    expect(notification.message).toContain(`Smoke checks: 1 passed, 1 skipped:\n  SKIP version - ${reason}`);
    expect(notification.message).not.toContain('failed');
  });

  it('words an ECS-event rollback that has no update slot', () => {
    // Prepare
    const request = requestFrom('ecs-deployment-failed.json');
    const state = {
      ...loadSampleEvent('ecs-deployment-failed.json'),
      request,
      rollback: { ...startedRollback, action: 'already-rolled-back' },
    };

    // Act
    const notification = compose(Outcome.rolledBack, state);

    // Assess
    expect(notification.subject).toBe('[AFU-9 staging] ROLLED BACK to the last good revision');
    expect(notification.message).toMatch(
      /^ECS deployment ecs-svc\/1338873912811884835 of staging failed; the service was ROLLED BACK/,
    );
    expect(notification.message).toContain('Failed deployment: ecs-svc/1338873912811884835');
    expect(notification.message).toContain(
      'Reason:            ECS deployment circuit breaker: task failed to start.',
    );
    expect(notification.message).toContain('Rollback: already-rolled-back:');
    expect(notification.message).not.toContain('Version:');
  });

  it('words a manual rollback', () => {
    // Act
    const notification = compose(Outcome.rolledBack, {
      request: requestFrom('rollback-staging.json'),
      rollback: startedRollback,
    });

    // Assess
    expect(notification.message).toMatch(/^staging was ROLLED BACK to its last good revision on request\./);
    expect(notification.message).toContain('Reason:            Login page returns 500 since stage-3f9c2ab');
  });

  it('marks a failed rollback CRITICAL in subject and body', () => {
    // Prepare
    const state = {
      ...succeededState(),
      rollout: failedRollout,
      rollback: startedRollback,
      error: {
        Error: 'RollbackFailed',
        Cause: lambdaCause(
          'RollbackFailed',
          'UpdateService to afu9-control-center:41 was refused: AccessDeniedException.',
        ),
      },
    };

    // Act
    const notification = compose(Outcome.rollbackFailed, state);

    // Assess
    expect(notification.subject).toBe('[AFU-9 staging] CRITICAL: ROLLBACK FAILED for stage-3f9c2ab');
    expect(notification.attributes.outcome).toBe('rollback-failed');
    expect(notification.message).toMatch(/^CRITICAL: rolling staging back FAILED\./);
    expect(notification.message).toContain(
      'Reason:            RollbackFailed: UpdateService to afu9-control-center:41 was refused',
    );
    expect(notification.message).toContain(
      'Task definition:   afu9-control-center:42 -> rolling back to afu9-control-center:41',
    );
    expect(notification.message).toContain(`Rollout: FAILED: ${failedRollout.reason}`);
  });

  it('marks a failed event-started rollback CRITICAL', () => {
    // Act
    const notification = compose(Outcome.rollbackFailed, {
      request: requestFrom('ecs-deployment-failed.json'),
    });

    // Assess
    expect(notification.subject).toBe('[AFU-9 staging] CRITICAL: ROLLBACK FAILED');
  });

  it('shortens a digest version in the subject and keeps it whole in the body', () => {
    // Prepare
    const request = { ...requestFrom('ecr-push.json'), version: digest };

    // Act
    const notification = compose(Outcome.succeeded, { ...succeededState(), request });

    // Assess
    expect(notification.subject).toBe('[AFU-9 staging] Deployed sha256:f17abd9a871e');
    expect(notification.message).toContain(`Version:           ${digest}`);
  });

  it.each(Object.values(Outcome))(
    'keeps the %s subject under 100 ASCII characters for long input',
    (outcome) => {
      // Prepare
      const request = { ...requestFrom('ecr-push.json'), version: `stage-${'9'.repeat(122)}` };
      const state = { ...succeededState(), request, imageTag: `stage-é${'x'.repeat(300)}` };

      // Act
      const subjects = [
        compose(outcome, state).subject,
        compose(outcome, { environment: 'staging', imageTag: `stage-é\n${'x'.repeat(300)}` }).subject,
      ];

      // Assess
      for (const subject of subjects) {
        expect(subject.length).toBeLessThan(100);
        expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
        expect(subject).toMatch(/^[\x20-\x7E]+$/);
      }
    },
  );

  it('lets no secret-looking value from the state reach the message', () => {
    // Prepare
    const marker = 'MARKER-s3cr3t-9f2c';
    const state = {
      ...succeededState(),
      secretValue: marker,
      request: { ...requestFrom('ecr-push.json'), databasePassword: marker },
      verification: {
        ...verification,
        checks: verification.checks.map((check) => ({ ...check, detail: `value ${marker}`, value: marker })),
        secrets: { 'afu9/github': { token: marker } },
      },
      update: { ...update, environment: [{ name: 'DATABASE_PASSWORD', value: marker }] },
      smoke: { ...failedSmoke, checks: failedSmoke.checks.map((check) => ({ ...check, body: marker })) },
      rollback: { ...startedRollback, taskDefinition: { secrets: [{ name: 'TOKEN', valueFrom: marker }] } },
    };

    // Act
    const notifications = Object.values(Outcome).map((outcome) => compose(outcome, state));

    // Assess
    for (const notification of notifications) {
      expect(`${notification.subject}\n${notification.message}`).not.toContain(marker);
    }
  });

  it('never throws, whatever the state holds', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(Outcome)),
        fc.oneof(
          fc.anything(),
          fc.record({
            request: fc.anything(),
            diffGate: fc.anything(),
            verification: fc.anything(),
            update: fc.anything(),
            rollout: fc.anything(),
            smoke: fc.anything(),
            rollback: fc.anything(),
            error: fc.anything(),
            environment: fc.anything(),
          }),
        ),
        (outcome, state) => {
          const notification = compose(outcome, state);
          expect(notification.subject.length).toBeLessThan(100);
          expect(notification.message).toContain('Execution: https://');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('caps long finding lists', () => {
    // Prepare
    const many = Array.from({ length: 25 }, (_, index) => ({
      ...blockedDiffGate.blocking[0]!,
      logicalId: `Service${index}`,
    }));
    const diffGate = {
      ...blockedDiffGate,
      blocking: many,
      counts: { blocking: 40, warnings: 0, safe: 0 },
      warnings: [],
    };

    // Act
    const notification = compose(Outcome.blocked, { ...succeededState(), diffGate });

    // Assess
    expect(notification.message.match(/ {2}BLOCKING /g)).toHaveLength(10);
    expect(notification.message).toContain('  ... and 30 more');
  });
});

describe('describeStateError', () => {
  it.each([
    [
      'a Lambda error JSON cause',
      { Error: 'SecretsInvalid', Cause: lambdaCause('SecretsInvalid', 'afu9/github › token is empty') },
      'SecretsInvalid: afu9/github › token is empty',
    ],
    [
      'a plain-text cause',
      { Error: 'UpdateFailed', Cause: 'RegisterTaskDefinition was refused.' },
      'UpdateFailed: RegisterTaskDefinition was refused.',
    ],
    ['no cause', { Error: 'States.Timeout' }, 'States.Timeout'],
    ['an empty cause', { Error: 'States.Timeout', Cause: '' }, 'States.Timeout'],
    [
      'JSON without errorMessage',
      { Error: 'States.TaskFailed', Cause: '{"foo":1}' },
      'States.TaskFailed: {"foo":1}',
    ],
    [
      'JSON errorMessage without errorType',
      { Error: 'Lambda.Unknown', Cause: '{"errorMessage":"Task timed out after 30.00 seconds"}' },
      'Lambda.Unknown: Task timed out after 30.00 seconds',
    ],
  ])('reads %s', (_name, error, expected) => {
    expect(describeStateError(error)).toBe(expected);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [45.4, '45s'],
    [372, '6m 12s'],
    [3725, '1h 02m'],
    [-5, '0s'],
  ])('%s seconds reads %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
