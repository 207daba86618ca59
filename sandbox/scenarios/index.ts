/**
 * The sandbox's scenarios: each is a world (how the simulated account behaves) and what happens in
 * it (the request or event that starts the run, and anything that follows), with the outcome the
 * orchestrator must reach. `afu9-deploy simulate --scenario <name>` runs one; the test suite runs
 * them all and holds each to its expectation. They are written for any configuration: `staging`,
 * `production`, `stage-`, `prod-` and the `ConfiguredName` stand-ins become the configuration's own
 * environments, tag prefixes and names before a run (./configured.ts).
 */
import type { StartDeploymentInput } from '../../lambdas/domain/workflow-state';
import type { ApproverOptions } from '../run/approvals';
import type { ApiFault, EventFault } from '../account/faults';
import type { SecretCondition } from '../account/secrets-manager';
import type { RevisionBehaviour } from '../account/simulated-account';
import type { TimingModel } from '../timing-model';
import type { StackDeployBehaviour } from '../run/infrastructure-builds';
import type { SmokeTiming } from '../run/handlers';
import type { SimulationOutcome, SimulationStatus } from '../run/result';

/**
 * Stand-ins for configured names, replaced before a run (./configured.ts) by those of the
 * environment the scenario deploys to.
 */
export const ConfiguredName = {
  /** The repository of its primary container. */
  primaryRepository: '{primary-repository}',
  /** Its last configured secret. */
  secret: '{secret}',
  /** The path of its first readiness check (`"expectBody": "ready"`). */
  readinessPath: '{readiness-path}',
  /** Its first container that is not the primary one (a sidecar). */
  sidecarContainer: '{sidecar-container}',
  /** Its infrastructure stack whose update deploys the service (its `stackName`). */
  ecsStack: '{ecs-stack}',
  /** The infrastructure stack the ECS stack depends on (its first `dependsOn`). */
  ecsStackDependency: '{ecs-stack-dependency}',
  /** The infrastructure stack that one depends on (its first `dependsOn`). */
  baseStack: '{base-stack}',
} as const;

/** How the simulated account differs from a healthy staging account. */
export interface ScenarioWorld {
  /** How the revision the deployment registers behaves when ECS starts it. @default healthy */
  readonly newRevision?: RevisionBehaviour;
  /** Secrets in a state other than valid, by name. @default every secret valid */
  readonly secrets?: Readonly<Record<string, SecretCondition>>;
  /** The JSON values secrets hold, by name. @default the sandbox's stand-in values */
  readonly secretValues?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * Whether the deployment ledger holds the releases before this run: the previous release and the
   * running one, each deployed and verified, the running one live (sandbox/run/ledger-history.ts).
   * @default true (a rollback a person asks for has a verified revision to return to)
   */
  readonly ledgerHistory?: boolean;
  /** The requested image is never pushed to ECR. @default false (a requested image exists) */
  readonly imageMissing?: boolean;
  /**
   * Whether ECS's deployment circuit breaker rolls a failed deployment back by itself.
   * @default true (AFU-9 runs the circuit breaker with rollback)
   */
  readonly ecsRollback?: boolean;
  /** Changes to the ECS timing model (sandbox/timing-model.ts). @default the AFU-9 values */
  readonly timing?: Partial<TimingModel>;
  /** AWS API calls that fail. @default none */
  readonly apiFaults?: readonly ApiFault[];
  /** EventBridge events dropped, duplicated or delayed. @default none */
  readonly eventFaults?: readonly EventFault[];
  /**
   * ECS's circuit breaker fails the deployment in progress just before this ECS call is answered
   * (the first one, or the one after `after` others): ECS's own rollback racing the orchestrator's.
   * @default never
   */
  readonly circuitBreakerTripsBefore?: { readonly command: string; readonly after?: number };
  /** The live service accepts requests and never answers (a hanging smoke target). @default false */
  readonly liveServiceHangs?: boolean;
  /**
   * Shorter smoke-test waits. A request's timeout is wall-clock time, so a world whose smoke target
   * hangs keeps it small. @default the environment's own
   */
  readonly smokeTiming?: SmokeTiming;
  /**
   * Functions that crash on every invocation, by handler name (`deployment-event`): a bug in the
   * shipped code, say. Lambda reports the error as the function's; what follows is the invoker's
   * business (Step Functions' Retry/Catch, Lambda's asynchronous retries). @default none
   */
  readonly functionFaults?: Readonly<Record<string, FunctionFault>>;
  /** The real `cdk diff` output (a file in test/fixtures/cdk-diff/) the CodeBuild job prints. */
  readonly diffFixture: string;
  /**
   * Infrastructure releases: the real `cdk diff` output each stack's synth+diff build prints, by stack
   * name. @default `diffFixture` for every stack
   */
  readonly stackDiffFixtures?: Readonly<Record<string, string>>;
  /** Infrastructure releases: how each stack's deploy goes, by stack name. @default CloudFormation completes it */
  readonly stackDeploys?: Readonly<Record<string, StackDeployBehaviour>>;
}

/** An error a function throws on every invocation: `error` is its name, as the runtime reports it. */
export interface FunctionFault {
  readonly error: string;
  readonly message: string;
}

/** What starts the run. */
export type ScenarioTrigger =
  /** A start-execution input, as a person sends it. */
  | { readonly kind: 'start'; readonly input: StartDeploymentInput }
  /** An image pushed to ECR: the push event reaches the orchestrator's rule. */
  | { readonly kind: 'push'; readonly repository: string; readonly tag: string }
  /**
   * CI pushes the images of one commit with one tag, one container's repository after the other,
   * PUSH_SPACING_SECONDS apart (sandbox/run/release-pushes.ts): `all` the configured containers, or
   * the ones named (container names or `ConfiguredName` stand-ins).
   */
  | { readonly kind: 'release'; readonly tag: string; readonly containers: 'all' | readonly string[] };

/** A second request made while the first deployment runs. */
export type FollowUp = RequestFollowUp | PushFollowUp;

export interface RequestFollowUp {
  /** Sent as soon as the first execution has completed this state. */
  readonly afterState: string;
  readonly input: StartDeploymentInput;
  /** Who sends it, for the timeline. */
  readonly description: string;
}

/** CI pushes a rebuilt image of one container with a tag (a new digest) while the first deployment runs. */
export interface PushFollowUp {
  readonly afterState: string;
  readonly push: { readonly container: string; readonly tag: string };
  readonly description: string;
}

export interface ScenarioExpectation {
  readonly status: SimulationStatus;
  readonly outcome: SimulationOutcome;
  /**
   * Which revision the service runs at the end: the one the run registered, the one it ran at the
   * start, or the release before that one (a rollback a person asked for).
   */
  readonly serviceEndsOn: 'new-revision' | 'previous-revision' | 'earlier-release';
}

export interface Scenario {
  readonly name: string;
  /** One line for `--list`. */
  readonly summary: string;
  readonly world: ScenarioWorld;
  readonly trigger: ScenarioTrigger;
  readonly followUps?: readonly FollowUp[];
  /**
   * The person who decides each approval the run asks for, as `simulate --approve|--deny` does (either
   * flag replaces them). @default nobody: an approval expires
   */
  readonly approver?: ApproverOptions;
  readonly expected: ScenarioExpectation;
}

/** The image the scenarios deploy: the `after` side of the recorded `cdk diff` fixtures. */
export const NEW_STAGING_TAG = 'stage-9d1e0f4';

/** The tag the release scenarios push: one commit's images, as CI tags them. */
export const RELEASE_TAG = 'stage-5e6f7a8';

const deployStaging: StartDeploymentInput = {
  environment: 'staging',
  imageTag: NEW_STAGING_TAG,
  requestedBy: 'jane.doe',
};

const safeDiff = 'ecs-new-image.txt';

const rollbackStaging: StartDeploymentInput = {
  environment: 'staging',
  action: 'rollback',
  reason: 'Login page returns 500 since stage-1a2b3c4',
  requestedBy: 'jane.doe',
};

/** The runbook's path to the service: the base stack, the one the ECS stack needs, the ECS stack. */
const infrastructureRelease: StartDeploymentInput = {
  environment: 'staging',
  action: 'infrastructure',
  stacks: [ConfiguredName.baseStack, ConfiguredName.ecsStackDependency, ConfiguredName.ecsStack],
  requestedBy: 'jane.doe',
};

/** Real `cdk diff` outputs of safe changes: a new parameter in each of the first two, a new image in the ECS stack. */
const safeStackDiffs = {
  [ConfiguredName.baseStack]: 'network-new-parameter.txt',
  [ConfiguredName.ecsStackDependency]: 'database-new-parameter.txt',
  [ConfiguredName.ecsStack]: safeDiff,
};

/** Real `cdk diff` output of a change that replaces the ECS service: the diff gate BLOCKS it. */
const blockedDiff = 'ecs-service-replace.txt';

/** What the approver of the infrastructure scenarios writes. */
const stackApprovalReason = 'CHG-4711: service replacement reviewed with the team, low-traffic window';
const stackDenialReason = 'the replacement drops live connections; redo it in the maintenance window';

export const scenarios: readonly Scenario[] = [
  {
    name: 'happy',
    summary: 'a new image rolls out, ECS reports the deployment COMPLETED, the smoke test passes',
    world: { diffFixture: safeDiff },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'SUCCEEDED', outcome: 'deployed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'diff-blocked',
    summary:
      'the cdk diff replaces the ECS service: the diff gate holds it for an approval that nobody gives, so it expires and nothing changes (--approve/--deny decide)',
    world: { diffFixture: 'ecs-service-replace.txt' },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'FAILED', outcome: 'blocked', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'diff-error',
    summary: 'cdk synth fails inside the diff job: no complete diff, so the gate fails closed',
    world: { diffFixture: 'error-synth-failure.txt' },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'FAILED', outcome: 'blocked', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'secret-missing',
    summary: `the secret ${ConfiguredName.secret} is scheduled for deletion: refused before the service is touched`,
    world: { diffFixture: safeDiff, secrets: { [ConfiguredName.secret]: { state: 'pending-deletion' } } },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'FAILED', outcome: 'failed-before-change', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'image-missing',
    summary: 'the requested image tag was never pushed to ECR: refused before the service is touched',
    world: { diffFixture: safeDiff, imageMissing: true },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'FAILED', outcome: 'failed-before-change', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'circuit-breaker',
    summary:
      'the new revision crashes on boot: the first crash fails the rollout and the orchestrator rolls back',
    world: { diffFixture: safeDiff, newRevision: { kind: 'crash-on-boot', exitCode: 1 } },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'FAILED', outcome: 'rolled-back', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'health-check-fail',
    summary:
      'the new revision never passes its health checks: the circuit breaker fails it, the orchestrator rolls back',
    world: {
      diffFixture: safeDiff,
      newRevision: { kind: 'fail-health-check' },
      ecsRollback: false,
    },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'FAILED', outcome: 'rolled-back', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'smoke-fail',
    summary: `ECS calls the rollout healthy but ${ConfiguredName.readinessPath} answers 503: the smoke test fails, rolled back`,
    world: { diffFixture: safeDiff, newRevision: { kind: 'not-ready' } },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'FAILED', outcome: 'rolled-back', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'ecs-rolled-back',
    summary:
      "ECS's circuit breaker rolls the failing revision back itself: reported as a failure, never a success",
    world: {
      diffFixture: safeDiff,
      newRevision: { kind: 'fail-health-check' },
      ecsRollback: true,
    },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'FAILED', outcome: 'rolled-back', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'rollback-fails',
    summary:
      'the new revision crashes and ECS refuses the rollback update: rollback-failed, people are alerted',
    world: {
      diffFixture: safeDiff,
      newRevision: { kind: 'crash-on-boot', exitCode: 1 },
      ecsRollback: false,
      apiFaults: [
        {
          service: 'ecs',
          command: 'UpdateService',
          error: 'AccessDeniedException',
          message: 'User is not authorized to perform: ecs:UpdateService',
          after: 1,
          times: 10,
        },
      ],
    },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'FAILED', outcome: 'rollback-failed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'timeout',
    summary:
      'health checks fail so slowly (100 retries) that no task ever counts as failed: the rollout deadline ends it',
    world: {
      diffFixture: safeDiff,
      newRevision: { kind: 'fail-health-check' },
      timing: { healthCheckRetries: 100 },
    },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'FAILED', outcome: 'rolled-back', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'duplicate-push',
    summary: 'one image push is delivered twice by EventBridge: the image deploys once',
    world: {
      diffFixture: safeDiff,
      eventFaults: [{ detailType: 'ECR Image Action', action: 'duplicate', seconds: 2 }],
    },
    trigger: { kind: 'push', repository: ConfiguredName.primaryRepository, tag: NEW_STAGING_TAG },
    expected: { status: 'SUCCEEDED', outcome: 'deployed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'concurrent',
    summary: 'a second deployment is requested while the first rolls out: refused, naming the running one',
    world: { diffFixture: safeDiff },
    trigger: { kind: 'start', input: deployStaging },
    followUps: [
      {
        afterState: 'UpdateService',
        input: { environment: 'staging', imageTag: 'stage-77aa01c', requestedBy: 'john.roe' },
        description: 'john.roe, by hand, while the first deployment rolls out',
      },
    ],
    expected: { status: 'SUCCEEDED', outcome: 'deployed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'lost-event',
    summary:
      "EventBridge drops the deployment's COMPLETED event: the safety-net poll finds it and carries on",
    world: {
      diffFixture: safeDiff,
      eventFaults: [{ eventName: 'SERVICE_DEPLOYMENT_COMPLETED', action: 'drop' }],
    },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'SUCCEEDED', outcome: 'deployed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'wake-up-fails',
    summary:
      "the deployment-event function crashes on every event: Lambda's retries run out, the record goes to " +
      'the on-failure queue and its alarm notifies the topic; the safety-net poll still completes the deployment',
    world: {
      diffFixture: safeDiff,
      functionFaults: {
        'deployment-event': {
          error: 'TypeError',
          message: "Cannot read properties of undefined (reading 'deploymentId')",
        },
      },
    },
    trigger: { kind: 'start', input: deployStaging },
    expected: { status: 'SUCCEEDED', outcome: 'deployed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'rollback',
    summary:
      'a person rolls staging back: the ledger names the previous verified release, the service returns to it',
    world: { diffFixture: safeDiff },
    trigger: { kind: 'start', input: rollbackStaging },
    expected: { status: 'SUCCEEDED', outcome: 'rolled-back', serviceEndsOn: 'earlier-release' },
  },
  {
    name: 'rollback-no-target',
    summary:
      'a person rolls staging back, but the ledger holds no verified release before the running one: refused, loudly',
    world: { diffFixture: safeDiff, ledgerHistory: false },
    trigger: { kind: 'start', input: rollbackStaging },
    expected: { status: 'FAILED', outcome: 'rollback-failed', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'sidecar-deploy',
    summary:
      `only ${ConfiguredName.sidecarContainer}'s image is deployed: verified by health, readiness, identity and ` +
      "the containers' health; the version check is skipped (the endpoint reports another container's version)",
    world: { diffFixture: safeDiff },
    trigger: {
      kind: 'start',
      input: {
        environment: 'staging',
        images: { [ConfiguredName.sidecarContainer]: NEW_STAGING_TAG },
        requestedBy: 'jane.doe',
      },
    },
    expected: { status: 'SUCCEEDED', outcome: 'deployed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'infra-release',
    summary:
      `an infrastructure release of ${ConfiguredName.baseStack} → ${ConfiguredName.ecsStackDependency} → ` +
      `${ConfiguredName.ecsStack}: each diff PASSes, each stack deploys in order, and the ECS deployment the last ` +
      'one starts is judged by its id and smoke-tested',
    world: { diffFixture: safeDiff, stackDiffFixtures: safeStackDiffs },
    trigger: { kind: 'start', input: infrastructureRelease },
    expected: { status: 'SUCCEEDED', outcome: 'deployed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'infra-stack-fails',
    summary:
      `CloudFormation fails the update of ${ConfiguredName.ecsStackDependency} and rolls it back: the release stops, ` +
      `${ConfiguredName.ecsStack} is not attempted, and the notification says what was deployed and what was not`,
    world: {
      diffFixture: safeDiff,
      stackDiffFixtures: safeStackDiffs,
      stackDeploys: {
        [ConfiguredName.ecsStackDependency]: {
          kind: 'rollback',
          failingResource: {
            logicalId: 'EndpointParameter617F6D67',
            type: 'AWS::SSM::Parameter',
            operation: 'create',
            reason:
              'Resource handler returned message: "Parameter already exists." ' +
              '(RequestToken: 3e1f0c52-5d7b-4d0e-9a51-2b8f1c0d9e77, HandlerErrorCode: AlreadyExists)',
          },
        },
      },
    },
    trigger: { kind: 'start', input: infrastructureRelease },
    expected: { status: 'FAILED', outcome: 'stack-failed', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'infra-approval',
    summary:
      `the diff of ${ConfiguredName.ecsStack} replaces the ECS service (BLOCKED): after ${ConfiguredName.baseStack} and ` +
      `${ConfiguredName.ecsStackDependency} deploy, the release waits; the approver approves it with a reason, and the ` +
      'stack deploys; the approver is named in the JSON and the notification',
    world: {
      diffFixture: safeDiff,
      stackDiffFixtures: { ...safeStackDiffs, [ConfiguredName.ecsStack]: blockedDiff },
    },
    trigger: { kind: 'start', input: infrastructureRelease },
    approver: { decision: 'approve', reason: stackApprovalReason },
    expected: { status: 'SUCCEEDED', outcome: 'deployed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'infra-denied',
    summary:
      `the diff of ${ConfiguredName.ecsStack} replaces the ECS service (BLOCKED): the approver denies it with a reason; ` +
      `the release ends blocked, ${ConfiguredName.ecsStack} is not deployed, the stacks before it are`,
    world: {
      diffFixture: safeDiff,
      stackDiffFixtures: { ...safeStackDiffs, [ConfiguredName.ecsStack]: blockedDiff },
    },
    trigger: { kind: 'start', input: infrastructureRelease },
    approver: { decision: 'deny', reason: stackDenialReason },
    expected: { status: 'FAILED', outcome: 'blocked', serviceEndsOn: 'previous-revision' },
  },
  {
    name: 'release',
    summary:
      "CI pushes one tag to the environment's four repositories, 3 s apart: the first push opens the release, " +
      'the other three join it quietly, and one deployment carries all four images, pinned by digest',
    world: { diffFixture: safeDiff },
    trigger: { kind: 'release', tag: RELEASE_TAG, containers: 'all' },
    expected: { status: 'SUCCEEDED', outcome: 'deployed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'sidecar-release',
    summary:
      `CI pushes only ${ConfiguredName.sidecarContainer}'s image: the release settles (no other repository gets the ` +
      "tag), then deploys that one image, verified by health, readiness, identity and the containers' health, no rollback",
    world: { diffFixture: safeDiff },
    trigger: { kind: 'release', tag: RELEASE_TAG, containers: [ConfiguredName.sidecarContainer] },
    expected: { status: 'SUCCEEDED', outcome: 'deployed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'late-push',
    summary:
      `a rebuilt ${ConfiguredName.sidecarContainer} image is pushed with the release's tag after the release started ` +
      "updating the service: a follow-up release waits for the service, then deploys the tag's current images",
    world: { diffFixture: safeDiff },
    trigger: { kind: 'release', tag: RELEASE_TAG, containers: 'all' },
    followUps: [
      {
        afterState: 'UpdateService',
        push: { container: ConfiguredName.sidecarContainer, tag: RELEASE_TAG },
        description: "CI re-runs the sidecar's build and pushes it again with the same tag",
      },
    ],
    expected: { status: 'SUCCEEDED', outcome: 'deployed', serviceEndsOn: 'new-revision' },
  },
  {
    name: 'prod-guard',
    summary: 'a staging image sent to production without the allow flag: rejected by the guardrails',
    world: { diffFixture: safeDiff },
    trigger: {
      kind: 'start',
      input: { environment: 'production', imageTag: NEW_STAGING_TAG, requestedBy: 'jane.doe' },
    },
    expected: { status: 'FAILED', outcome: 'rejected', serviceEndsOn: 'previous-revision' },
  },
];

export function findScenario(name: string): Scenario | undefined {
  return scenarios.find((scenario) => scenario.name === name);
}
