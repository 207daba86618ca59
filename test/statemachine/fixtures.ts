/**
 * Handler results for the state machine tests, typed by the workflow contract so a change to a
 * result type shows up here at compile time. Values follow the real AFU-9 staging environment and
 * real AWS shapes (ARNs, ECS deployment ids, the CodeBuild `startBuild.sync` result).
 */
import { environments } from '../support/afu9-config';
import type {
  DeploymentRequest,
  DeploymentWake,
  DiffGateResult,
  NotificationResult,
  ResolveResult,
  RollbackResult,
  RolloutJudgement,
  RolloutStatus,
  SmokeResult,
  StartDeploymentInput,
  UpdateResult,
  VerificationResult,
} from '../../lambdas/domain/workflow-state';

const staging = environments.staging;
const account = '123456789012';
const region = staging.region;

export const executionName = 'staging-stage-3f9c2ab';
export const stateMachineArn = `arn:aws:states:${region}:${account}:stateMachine:Afu9Deployment`;
export const executionId = `arn:aws:states:${region}:${account}:execution:Afu9Deployment:${executionName}`;

/** Fake but well-formed values for every placeholder of the ASL file. */
export const fakeSubstitutions = {
  ResolveRequestFunctionArn: lambdaArn('resolve-request'),
  AnalyzeDiffFunctionArn: lambdaArn('analyze-diff'),
  VerifySecretsFunctionArn: lambdaArn('verify-secrets'),
  UpdateServiceFunctionArn: lambdaArn('update-service'),
  RegisterWaitFunctionArn: lambdaArn('register-wait'),
  PollStabilizationFunctionArn: lambdaArn('poll-stabilization'),
  SmokeTestFunctionArn: lambdaArn('smoke-test'),
  RollbackFunctionArn: lambdaArn('rollback'),
  NotifyFunctionArn: lambdaArn('notify'),
  RequestApprovalFunctionArn: lambdaArn('request-approval'),
  ExpireApprovalFunctionArn: lambdaArn('expire-approval'),
  WatchStackFunctionArn: lambdaArn('watch-stack'),
  DiffProjectName: 'afu9-cdk-diff',
  InfraDiffProjectName: 'afu9-infrastructure-synth-diff',
  InfraDeployProjectName: 'afu9-infrastructure-deploy',
  DiffBucketName: `afu9-deploy-diffs-${account}-${region}`,
} as const;

function lambdaArn(name: string): string {
  return `arn:aws:lambda:${region}:${account}:function:Afu9DeployOrchestrator-${name}`;
}

const taskDefinitionArn = (revision: number) =>
  `arn:aws:ecs:${region}:${account}:task-definition/${staging.taskFamily}:${revision}`;
export const previousTaskDefinitionArn = taskDefinitionArn(41);
export const newTaskDefinitionArn = taskDefinitionArn(42);
export const deploymentId = 'ecs-svc/4203881975611234567';
export const rollbackDeploymentId = 'ecs-svc/8812937465019876543';

export const startInput: StartDeploymentInput = {
  environment: 'staging',
  imageTag: 'stage-3f9c2ab',
  requestedBy: 'ci@afu-9.com',
};

export function deploymentRequest(overrides: Partial<DeploymentRequest> = {}): DeploymentRequest {
  return {
    kind: 'deploy',
    environment: staging.name,
    clusterName: staging.clusterName,
    serviceName: staging.serviceName,
    taskFamily: staging.taskFamily,
    stackName: staging.stackName,
    images: [{ container: 'control-center', repository: 'afu9/control-center', tag: 'stage-3f9c2ab' }],
    version: 'stage-3f9c2ab',
    skipDiffGate: false,
    requestedBy: 'ci@afu-9.com',
    trigger: 'manual',
    deploymentKey: 'staging#stage-3f9c2ab',
    redeploy: false,
    safetyNetPollSeconds: staging.rollout.safetyNetPollSeconds,
    ...overrides,
  };
}

export function accepted(request: DeploymentRequest = deploymentRequest()): ResolveResult {
  return { status: 'accepted', request };
}

export function rollbackRequest(): DeploymentRequest {
  return deploymentRequest({
    kind: 'rollback',
    trigger: 'ecs-deployment-failed',
    deploymentKey: `staging#rollback#${deploymentId}`,
    failedDeploymentId: deploymentId,
    failureReason: 'ECS deployment circuit breaker: tasks failed to start.',
  });
}

/** What `arn:aws:states:::codebuild:startBuild.sync` returns: the whole build, logs and phases included. */
export function codeBuildResult(buildStatus: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' = 'SUCCEEDED') {
  const id = 'afu9-cdk-diff:7f0c2d4e-8a1b-4c5d-9e6f-0a1b2c3d4e5f';
  return {
    Build: {
      Arn: `arn:aws:codebuild:${region}:${account}:build/${id}`,
      BuildComplete: true,
      BuildNumber: 118,
      BuildStatus: buildStatus,
      CurrentPhase: 'COMPLETED',
      EncryptionKey: `arn:aws:kms:${region}:${account}:alias/aws/s3`,
      EndTime: 1795770245120,
      Environment: {
        ComputeType: 'BUILD_GENERAL1_SMALL',
        EnvironmentVariables: [
          { Name: 'STACK_NAME', Type: 'PLAINTEXT', Value: staging.stackName },
          { Name: 'IMAGE_TAG', Type: 'PLAINTEXT', Value: 'stage-3f9c2ab' },
          { Name: 'RELEASE_IMAGES', Type: 'PLAINTEXT', Value: JSON.stringify(deploymentRequest().images) },
          { Name: 'DIFF_OBJECT_KEY', Type: 'PLAINTEXT', Value: `diffs/${executionName}.txt` },
        ],
        Image: 'aws/codebuild/amazonlinux-x86_64-standard:5.0',
        ImagePullCredentialsType: 'CODEBUILD',
        PrivilegedMode: false,
        Type: 'LINUX_CONTAINER',
      },
      Id: id,
      Initiator: `states/${executionName}`,
      Logs: {
        CloudWatchLogs: { Status: 'ENABLED' },
        DeepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${region}#logEvent:group=/aws/codebuild/afu9-cdk-diff`,
        GroupName: '/aws/codebuild/afu9-cdk-diff',
        StreamName: '7f0c2d4e-8a1b-4c5d-9e6f-0a1b2c3d4e5f',
      },
      Phases: [
        'SUBMITTED',
        'QUEUED',
        'PROVISIONING',
        'DOWNLOAD_SOURCE',
        'INSTALL',
        'BUILD',
        'FINALIZING',
      ].map((PhaseType, index) => ({
        DurationInSeconds: index === 5 ? 74 : 2,
        EndTime: 1795770160000 + index * 1000,
        PhaseStatus: PhaseType === 'BUILD' && buildStatus !== 'SUCCEEDED' ? buildStatus : 'SUCCEEDED',
        PhaseType,
        StartTime: 1795770150000 + index * 1000,
      })),
      ProjectName: 'afu9-cdk-diff',
      QueuedTimeoutInMinutes: 480,
      SecondaryArtifacts: [],
      SecondarySources: [],
      Source: { Type: 'NO_SOURCE' },
      StartTime: 1795770150000,
      TimeoutInMinutes: 20,
    },
  };
}

export function diffGate(
  verdict: DiffGateResult['verdict'],
  overrides: Partial<DiffGateResult> = {},
): DiffGateResult {
  const blocked = verdict === 'BLOCKED' || verdict === 'ERROR';
  return {
    verdict,
    proceed: !blocked,
    // BLOCKED waits for a person; an unreadable diff (ERROR) never does.
    approvalRequired: verdict === 'BLOCKED',
    ...(verdict === 'BLOCKED' ? { approvalExpiresAfterSeconds: 86400 } : {}),
    skipped: false,
    stacks: [staging.stackName],
    counts: { blocking: verdict === 'BLOCKED' ? 1 : 0, warnings: 0, safe: 1 },
    blocking:
      verdict === 'BLOCKED'
        ? [
            {
              stack: staging.stackName,
              resourceType: 'AWS::ECS::Service',
              logicalId: 'ServiceD69D759B',
              path: 'Service/Service',
              change: 'replace',
              rule: 'ecs-service-replacement',
              reason: 'Replacing the ECS service stops every running task.',
            },
          ]
        : [],
    warnings: [],
    message:
      verdict === 'ERROR'
        ? 'The diff is not a complete cdk diff output (no "Number of stacks with differences" line).'
        : `${verdict}: ${staging.stackName}`,
    ...overrides,
  };
}

export function verification(): VerificationResult {
  return {
    ok: true,
    checks: [
      { kind: 'secret', subject: 'afu9/github', status: 'OK' },
      { kind: 'secret-key', subject: 'afu9/github › token', status: 'OK' },
      { kind: 'image', subject: 'afu9/control-center:stage-3f9c2ab@sha256:4f1c…', status: 'OK' },
    ],
    images: [
      {
        container: 'control-center',
        repository: 'afu9/control-center',
        tag: 'stage-3f9c2ab',
        digest: 'sha256:4f1c2b7a9e0d3c6b5a4f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2',
      },
    ],
  };
}

export function update(): UpdateResult {
  return {
    previousTaskDefinitionArn,
    taskDefinitionArn: newTaskDefinitionArn,
    deploymentId,
    startedAt: '2026-11-27T09:01:00.000Z',
    deadline: '2026-11-27T09:31:00.000Z',
  };
}

export function wake(eventName = 'SERVICE_DEPLOYMENT_COMPLETED', id = deploymentId): DeploymentWake {
  return { source: 'event', eventName, deploymentId: id };
}

export function rollout(status: RolloutStatus, id = deploymentId): RolloutJudgement {
  return {
    status,
    deploymentId: id,
    reason:
      status === 'COMPLETED'
        ? 'Deployment completed: 1 of 1 tasks running the new revision.'
        : `Deployment ${status.toLowerCase().replace(/_/g, ' ')}.`,
    runningCount: status === 'COMPLETED' ? 1 : 0,
    desiredCount: 1,
    recentEvents: ['(service afu9-control-center-staging) has started 1 tasks: (task 0f3c9a7e).'],
    stoppedTasks: [],
    nextCheckSeconds: 15,
  };
}

export function smoke(passed: boolean): SmokeResult {
  return {
    passed,
    baseUrl: staging.smoke.baseUrl,
    checks: [
      {
        name: 'health',
        url: `${staging.smoke.baseUrl}/api/health`,
        status: passed ? 'PASS' : 'FAIL',
        httpStatus: passed ? 200 : 503,
        latencyMs: 84,
        attempts: passed ? 1 : 5,
        ...(passed ? {} : { reason: 'GET /api/health answered 503 five times.' }),
      },
    ],
  };
}

export function rollback(action: RollbackResult['action'] = 'started'): RollbackResult {
  return {
    action,
    fromTaskDefinitionArn: newTaskDefinitionArn,
    targetTaskDefinitionArn: previousTaskDefinitionArn,
    deploymentId: rollbackDeploymentId,
    deadline: '2026-11-27T10:05:00.000Z',
    reason: 'The new deployment failed; returning to the last completed revision.',
  };
}

export function notification(): NotificationResult {
  return { messageId: '5a1d2b3c-4e5f-6789-0abc-def012345678', subject: 'AFU-9 staging: deployment result' };
}

/** EventBridge `ECR Image Action` for a successful push (the shape AWS documents). */
export const ecrPushEvent = {
  version: '0',
  id: '13cde686-328b-6117-af20-0e5566167482',
  'detail-type': 'ECR Image Action',
  source: 'aws.ecr',
  account,
  time: '2026-11-27T08:59:31Z',
  region,
  resources: [],
  detail: {
    result: 'SUCCESS',
    'repository-name': 'afu9/control-center',
    'image-digest': 'sha256:4f1c2b7a9e0d3c6b5a4f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2',
    'action-type': 'PUSH',
    'image-tag': 'stage-3f9c2ab',
  },
};

/** EventBridge `ECS Deployment State Change` for a failed deployment (the shape AWS documents). */
export const ecsDeploymentFailedEvent = {
  version: '0',
  id: 'ddca6449-b258-46c0-8653-e0e3a6d0468b',
  'detail-type': 'ECS Deployment State Change',
  source: 'aws.ecs',
  account,
  time: '2026-11-27T09:12:14Z',
  region,
  resources: [`arn:aws:ecs:${region}:${account}:service/${staging.clusterName}/${staging.serviceName}`],
  detail: {
    eventType: 'ERROR',
    eventName: 'SERVICE_DEPLOYMENT_FAILED',
    deploymentId,
    updatedAt: '2026-11-27T09:12:11Z',
    reason: 'ECS deployment circuit breaker: task failed to start.',
  },
};
