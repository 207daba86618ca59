/**
 * The shapes that travel through the state machine: what each Task state hands its Lambda and what
 * the Lambda returns into its `ResultPath` slot. `statemachine/deployment.asl.json` is written
 * against these names; keep the two in step (the state machine tests execute both together).
 *
 * State layout of one execution (each step owns one slot):
 *   $.resolution   ResolveResult            (ResolveRequest)
 *   $.request      DeploymentRequest        (copied from $.resolution.request; skipReason '' when none)
 *   $.diffBuild    DiffBuildResult          (RunCdkDiff, CodeBuild startBuild.sync)
 *   $.diffGate     DiffGateResult           (AnalyzeDiff)
 *   $.approval     ApprovalDecision         (RequestApproval, task token; or ExpireApproval) see approval.ts
 *   $.verification VerificationResult       (VerifySecrets)
 *   $.update       UpdateResult             (UpdateService)
 *   $.wake         DeploymentWake           (WaitForDeploymentEvent, task token)
 *   $.rollout      RolloutJudgement         (PollStabilization)
 *   $.smoke        SmokeResult              (SmokeTest)
 *   $.rollback     RollbackResult           (Rollback)
 *   $.rollbackWake DeploymentWake           (WaitForRollbackEvent, task token)
 *   $.rollbackRollout RolloutJudgement      (PollRollback)
 *   $.error        StateError               (any Catch, except the wait's safety-net timeout)
 *   $.notification NotificationResult       (Notify*)
 */
import type { EnvironmentName } from './environments';

/** How the deployment was started. */
export const Trigger = {
  /** `start-execution` from the console, the AWS CLI or `afu9-deploy start`. */
  manual: 'manual',
  /** EventBridge rule on a successful ECR image push. */
  ecrPush: 'ecr-push',
  /** EventBridge rule on an ECS `SERVICE_DEPLOYMENT_FAILED` event: enters the rollback branch. */
  ecsDeploymentFailed: 'ecs-deployment-failed',
} as const;
export type Trigger = (typeof Trigger)[keyof typeof Trigger];

/** The start-execution input a person (console, CLI) sends. */
export interface StartDeploymentInput {
  readonly environment: string;
  /**
   * `deploy` (default), `rollback` (return the service to its last good revision), or
   * `infrastructure` (deploy the environment's infrastructure stacks, each gated: docs/infrastructure-releases.md).
   */
  readonly action?: 'deploy' | 'rollback' | 'infrastructure';
  /** Infrastructure releases: the stacks to deploy (configured names), or `all` (every stack not optional). */
  readonly stacks?: readonly string[] | 'all';
  /** Tag of the primary container's image, e.g. `stage-3f9c2ab`. One of imageTag/imageDigest. */
  readonly imageTag?: string;
  /** Digest of the primary container's image (`sha256:` + 64 hex). */
  readonly imageDigest?: string;
  /** Per-container overrides: container name → tag or digest. */
  readonly images?: Readonly<Record<string, string>>;
  readonly skipDiffGate?: boolean;
  /** Required with skipDiffGate: why the gate is skipped (it goes into the notification). */
  readonly reason?: string;
  readonly allowProduction?: boolean;
  readonly requestedBy?: string;
  /** Deploy again an image that was already deployed (otherwise a repeat is a duplicate). */
  readonly redeploy?: boolean;
}

/** One container image the deployment sets. */
export interface ImageRef {
  readonly container: string;
  readonly repository: string;
  readonly tag?: string;
  /** Pinned digest when known (ECR push events always carry it). */
  readonly digest?: string;
}

/** A validated request: everything later states need, nothing secret. */
export interface DeploymentRequest {
  /**
   * `deploy` runs the whole flow; `rollback` enters the rollback branch (ECS deployment failed);
   * `infrastructure` deploys the stacks of `stacks`, in that order.
   */
  readonly kind: 'deploy' | 'rollback' | 'infrastructure';
  readonly environment: EnvironmentName;
  readonly clusterName: string;
  readonly serviceName: string;
  readonly taskFamily: string;
  readonly stackName: string;
  readonly images: readonly ImageRef[];
  /** The version the smoke test expects the service to report: the primary image's tag. */
  readonly version: string;
  readonly skipDiffGate: boolean;
  readonly skipReason?: string;
  readonly requestedBy: string;
  readonly trigger: Trigger;
  /** Idempotency key: environment + primary image digest (or tag when no digest is known). */
  readonly deploymentKey: string;
  readonly redeploy: boolean;
  /** Rollback requests: the ECS deployment that failed, and why. */
  readonly failedDeploymentId?: string;
  readonly failureReason?: string;
  /** Seconds the WaitForDeploymentEvent state waits before its safety-net poll. */
  readonly safetyNetPollSeconds: number;
  /** When ResolveRequest accepted the request: the sort key of its deployment ledger record. */
  readonly startedAt?: string;
  /** Infrastructure releases: the stacks to deploy, in dependency order. */
  readonly stacks?: readonly string[];
}

/** What the input alone decides: a validated request, or why it is ignored. */
export type TriggerResolution =
  | { readonly status: 'accepted'; readonly request: DeploymentRequest }
  | { readonly status: 'ignored'; readonly reason: string };

/** ResolveRequest's answer: the input's resolution, or a release that is not ready to deploy yet. */
export type ResolveResult =
  | TriggerResolution
  /**
   * A release still settling (`assembling`: some repositories lack its tag) or waiting for the service
   * another execution deploys (`waiting`): the state machine waits `waitSeconds` and resolves again.
   */
  | { readonly status: 'assembling' | 'waiting'; readonly reason: string; readonly waitSeconds: number };

/** ResultSelector output of the CodeBuild `cdk diff` job. */
export interface DiffBuildResult {
  readonly buildId: string;
  readonly buildStatus: string;
}

export type DiffVerdict = 'PASS' | 'WARN' | 'BLOCKED' | 'ERROR';
export type ChangeKind = 'add' | 'modify' | 'replace' | 'may-replace' | 'destroy';

/** One judged resource change (docs/json-outputs.md `Finding`). */
export interface Finding {
  readonly stack: string;
  readonly resourceType: string;
  readonly logicalId: string;
  readonly path: string;
  readonly change: ChangeKind;
  readonly rule: string;
  readonly reason: string;
}

/** AnalyzeDiff output: compact (lists capped, counts kept) so it fits any Step Functions payload. */
export interface DiffGateResult {
  readonly verdict: DiffVerdict;
  /**
   * False when the deployment may not go on by itself: ERROR, or BLOCKED (or WARN under the
   * environment's approval policy `warn: "approve"`).
   */
  readonly proceed: boolean;
  /**
   * True when the held findings wait for a person's recorded approval (RequestApproval) instead of
   * stopping the deployment; never for ERROR.
   */
  readonly approvalRequired: boolean;
  /** The environment's `approval.expiresAfterSeconds`, present when `approvalRequired`: the wait's timeout. */
  readonly approvalExpiresAfterSeconds?: number;
  /** True only for records written before approvals replaced `skipDiffGate` (kept so they still read). */
  readonly skipped: boolean;
  readonly skipReason?: string;
  readonly stacks: readonly string[];
  readonly counts: { readonly blocking: number; readonly warnings: number; readonly safe: number };
  readonly blocking: readonly Finding[];
  readonly warnings: readonly Finding[];
  readonly message: string;
}

/**
 * One check of VerifySecrets, in the `verify` style: OK; NG (checked and wrong); SKIP (not checked
 * here, e.g. an SSM parameter; does not refuse); DENIED (not checked because the orchestrator's own
 * role lacks a permission: not a verdict on the subject, but it refuses the deployment).
 */
export interface VerificationCheck {
  readonly kind: 'secret' | 'secret-key' | 'image';
  /** Secret name, `secret › key`, or `repository:tag@digest`. Never a value. */
  readonly subject: string;
  readonly status: 'OK' | 'NG' | 'SKIP' | 'DENIED';
  readonly detail?: string;
}

export interface VerificationResult {
  readonly ok: boolean;
  readonly checks: readonly VerificationCheck[];
  /** Images as they will be deployed, each pinned by digest. */
  readonly images: readonly ImageRef[];
}

export interface UpdateResult {
  readonly previousTaskDefinitionArn: string;
  readonly taskDefinitionArn: string;
  /** The ECS deployment this execution started (`ecs-svc/...`). */
  readonly deploymentId: string;
  readonly startedAt: string;
  /** ISO time after which the rollout counts as TIMED_OUT. */
  readonly deadline: string;
}

/**
 * What the wake-up delivers: the deployment's own state-change event, or a task of the deployment
 * that stopped (`eventName` TASK_STOPPED, so PollStabilization can fail fast without waiting for
 * ECS's circuit breaker).
 */
export interface DeploymentWake {
  readonly source: 'event' | 'already-finished';
  /** `SERVICE_DEPLOYMENT_COMPLETED`, `SERVICE_DEPLOYMENT_FAILED` or `TASK_STOPPED`. */
  readonly eventName: string;
  readonly deploymentId: string;
  readonly reason?: string;
  /** The stopped task, when `eventName` is `TASK_STOPPED`. */
  readonly taskArn?: string;
}

/** `DeploymentWake.eventName` when a task of the deployment stopped. */
export const TASK_STOPPED_WAKE = 'TASK_STOPPED';

export const RolloutStatus = {
  /** Still rolling out; look again. */
  inProgress: 'IN_PROGRESS',
  /** Primary, rollout COMPLETED, running = desired, on the new revision. */
  completed: 'COMPLETED',
  /** The circuit breaker failed it, or a non-healing task stop failed it fast. */
  failed: 'FAILED',
  /** ECS returned the service to the old revision: a failure, never a success. */
  rolledBackByEcs: 'ROLLED_BACK_BY_ECS',
  /** Another deployment replaced ours. */
  replaced: 'REPLACED',
  /** The deadline passed before the rollout finished. */
  timedOut: 'TIMED_OUT',
} as const;
export type RolloutStatus = (typeof RolloutStatus)[keyof typeof RolloutStatus];

export interface StoppedTaskSummary {
  readonly taskArn: string;
  readonly stoppedReason: string;
  readonly containers: readonly {
    readonly name: string;
    readonly exitCode?: number;
    readonly reason?: string;
  }[];
}

export interface RolloutJudgement {
  readonly status: RolloutStatus;
  readonly deploymentId: string;
  /** One sentence a person reads in the notification. */
  readonly reason: string;
  readonly rolloutStateReason?: string;
  readonly runningCount: number;
  readonly desiredCount: number;
  readonly recentEvents: readonly string[];
  readonly stoppedTasks: readonly StoppedTaskSummary[];
  /** Seconds until the next look when IN_PROGRESS. */
  readonly nextCheckSeconds: number;
}

/** What a poll compares against: our deployment, or the rollback's. */
export interface RolloutTarget {
  readonly deploymentId: string;
  readonly taskDefinitionArn: string;
  readonly previousTaskDefinitionArn?: string;
  readonly deadline: string;
}

export interface SmokeCheckResult {
  readonly name: string;
  /** What was asked: the check's URL, or for `container-health` the new revision's task definition ARN. */
  readonly url: string;
  /** SKIP: the check does not apply to this deployment (`reason` says why); it never fails the test. */
  readonly status: 'PASS' | 'FAIL' | 'SKIP';
  readonly httpStatus?: number;
  readonly latencyMs: number;
  readonly attempts: number;
  readonly reason?: string;
}

export interface SmokeResult {
  readonly passed: boolean;
  readonly baseUrl: string;
  readonly checks: readonly SmokeCheckResult[];
}

export interface RollbackResult {
  /** `started`: we started a deployment back; `already-rolled-back`: ECS had done it already. */
  readonly action: 'started' | 'already-rolled-back';
  readonly fromTaskDefinitionArn: string;
  readonly targetTaskDefinitionArn: string;
  /** The deployment to watch until it is stable. */
  readonly deploymentId: string;
  readonly deadline: string;
  readonly reason: string;
}

/** What Step Functions puts in a Catch's ResultPath. */
export interface StateError {
  readonly Error: string;
  readonly Cause?: string;
}

export const Outcome = {
  succeeded: 'succeeded',
  blocked: 'blocked',
  rejected: 'rejected',
  failedBeforeChange: 'failed-before-change',
  rolledBack: 'rolled-back',
  rollbackFailed: 'rollback-failed',
  /** An infrastructure release stopped at a stack that failed (CloudFormation, its build, or its ECS deployment). */
  stackFailed: 'stack-failed',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export interface NotificationResult {
  readonly messageId: string;
  readonly subject: string;
}
