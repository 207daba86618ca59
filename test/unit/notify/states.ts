/**
 * Workflow states as the Notify* states receive them, built from the real resolver and the
 * contract types, so a contract change breaks these fixtures at compile time.
 */
import { environments } from '../../support/afu9-config';
import { resolveTrigger } from '../../../lambdas/domain/request-validation';
import { parseTriggerInput } from '../../../lambdas/domain/trigger-events';
import type {
  DeploymentRequest,
  DiffGateResult,
  RollbackResult,
  RolloutJudgement,
  SmokeResult,
  UpdateResult,
  VerificationResult,
} from '../../../lambdas/domain/workflow-state';
import { loadSampleEvent } from '../request/sample-events';

export const executionArn =
  'arn:aws:states:eu-central-1:111122223333:execution:Afu9DeployOrchestrator:7c1e6a52-run';
export const digest = 'sha256:f17abd9a871ef6ec25b19d8b6cc997a3221ae2cee6aa9d128ff56dc48d98d521';
const taskDefinition = (revision: number) =>
  `arn:aws:ecs:eu-central-1:111122223333:task-definition/afu9-control-center:${revision}`;

export function requestFrom(sample: string): DeploymentRequest {
  const result = resolveTrigger(parseTriggerInput(loadSampleEvent(sample)), {
    environments,
    executionName: '7c1e6a52-run',
  });
  if (result.status !== 'accepted') throw new Error(`${sample} was ${result.status}`);
  return result.request;
}

export const passingDiffGate: DiffGateResult = {
  verdict: 'PASS',
  proceed: true,
  approvalRequired: false,
  skipped: false,
  stacks: ['Afu9EcsStack'],
  counts: { blocking: 0, warnings: 0, safe: 1 },
  blocking: [],
  warnings: [],
  message: 'Only safe changes: 1 task definition update.',
};

export const blockedDiffGate: DiffGateResult = {
  verdict: 'BLOCKED',
  proceed: false,
  approvalRequired: true,
  approvalExpiresAfterSeconds: 86400,
  skipped: false,
  stacks: ['Afu9EcsStack'],
  counts: { blocking: 1, warnings: 1, safe: 1 },
  blocking: [
    {
      stack: 'Afu9EcsStack',
      resourceType: 'AWS::ECS::Service',
      logicalId: 'ServiceD69D759B',
      path: 'Service/Service',
      change: 'replace',
      rule: 'ecs-service-replacement',
      reason: 'Replacing the ECS service deletes the running one: downtime.',
    },
  ],
  warnings: [
    {
      stack: 'Afu9EcsStack',
      resourceType: 'AWS::IAM::Policy',
      logicalId: 'TaskRoleDefaultPolicyA592CB1F',
      path: 'TaskRole/DefaultPolicy/Resource',
      change: 'modify',
      rule: 'iam-change',
      reason: 'IAM policy changes need a review.',
    },
  ],
  message: 'BLOCKED: 1 blocking change (ECS service replacement).',
};

export const verification: VerificationResult = {
  ok: true,
  checks: [
    { kind: 'secret', subject: 'afu9/github', status: 'OK' },
    { kind: 'secret-key', subject: 'afu9/github › token', status: 'OK' },
    { kind: 'image', subject: `afu9/control-center:stage-3f9c2ab@${digest}`, status: 'OK' },
  ],
  images: [{ container: 'control-center', repository: 'afu9/control-center', tag: 'stage-3f9c2ab', digest }],
};

export const update: UpdateResult = {
  previousTaskDefinitionArn: taskDefinition(41),
  taskDefinitionArn: taskDefinition(42),
  deploymentId: 'ecs-svc/4478201937710254411',
  startedAt: '2026-11-27T08:56:00.000Z',
  deadline: '2026-11-27T09:26:00.000Z',
};

export const completedRollout: RolloutJudgement = {
  status: 'COMPLETED',
  deploymentId: update.deploymentId,
  reason: 'Deployment completed: 2 of 2 tasks running the new revision.',
  rolloutStateReason: 'ECS deployment ecs-svc/4478201937710254411 completed.',
  runningCount: 2,
  desiredCount: 2,
  recentEvents: ['(service afu9-control-center-staging) has reached a steady state.'],
  stoppedTasks: [],
  nextCheckSeconds: 0,
};

export const failedRollout: RolloutJudgement = {
  status: 'FAILED',
  deploymentId: update.deploymentId,
  reason: 'Tasks of the new revision cannot start: ResourceInitializationError (will not heal by retrying).',
  rolloutStateReason: 'ECS deployment circuit breaker: task failed to start.',
  runningCount: 0,
  desiredCount: 2,
  recentEvents: [],
  stoppedTasks: [
    {
      taskArn: 'arn:aws:ecs:eu-central-1:111122223333:task/afu9-cluster/0f9a3c2e7d4b4f61a1d2c3b4a5e6f708',
      stoppedReason:
        'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed',
      containers: [{ name: 'control-center', exitCode: 1, reason: 'Essential container in task exited' }],
    },
  ],
  nextCheckSeconds: 0,
};

export const passedSmoke: SmokeResult = {
  passed: true,
  baseUrl: 'https://stage.afu-9.com',
  checks: ['health', 'readiness', 'root', 'identity', 'version'].map((name) => ({
    name,
    url: `https://stage.afu-9.com/api/${name}`,
    status: 'PASS' as const,
    httpStatus: 200,
    latencyMs: 40,
    attempts: 1,
  })),
};

export const failedSmoke: SmokeResult = {
  passed: false,
  baseUrl: 'https://stage.afu-9.com',
  checks: [
    {
      name: 'health',
      url: 'https://stage.afu-9.com/api/health',
      status: 'PASS',
      httpStatus: 200,
      latencyMs: 35,
      attempts: 1,
    },
    {
      name: 'readiness',
      url: 'https://stage.afu-9.com/api/ready',
      status: 'FAIL',
      httpStatus: 503,
      latencyMs: 41,
      attempts: 6,
      reason: 'ready is false: database check failed',
    },
  ],
};

export const startedRollback: RollbackResult = {
  action: 'started',
  fromTaskDefinitionArn: taskDefinition(42),
  targetTaskDefinitionArn: taskDefinition(41),
  deploymentId: 'ecs-svc/9023417765320098812',
  deadline: '2026-11-27T09:40:00.000Z',
  reason: 'Returning to afu9-control-center:41, the last revision that completed.',
};

/** `$` after a whole successful run of the ECR push sample. */
export function succeededState() {
  return {
    ...loadSampleEvent('ecr-push.json'),
    resolution: { status: 'accepted', request: requestFrom('ecr-push.json') },
    request: requestFrom('ecr-push.json'),
    diffBuild: { buildId: 'afu9-cdk-diff:6a1f', buildStatus: 'SUCCEEDED' },
    diffGate: passingDiffGate,
    verification,
    update,
    rollout: completedRollout,
    smoke: passedSmoke,
  };
}
