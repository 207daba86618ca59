/**
 * The fault cases: each is a world (or a Task fault) on one of the workflow's paths, with what a
 * person would want to find afterwards. Lambda faults are generated for every Task state of the
 * path it lies on; the other faults are AWS misbehaving (throttling, 5xx, lost or early events,
 * ECS rolling back by itself, a hanging smoke target, SNS down, a refused rollback).
 */
import { readFileSync } from 'node:fs';
import type { TaskFault, TaskFaults } from '../../../sandbox/runner';
import { definitionPath } from '../../../statemachine/definition';
import { findScenario, type Scenario, type ScenarioWorld } from '../../../sandbox/scenarios';
import type { StackStatus } from '../../../sandbox/run/stack-summary';

export type TerminalState =
  | 'Deployed'
  | 'DeploymentFailed'
  | 'RolledBack'
  | 'RollbackFailed'
  | 'InfrastructureFailed'
  | 'InfrastructureNotApproved';

/** What a case must end with. */
export interface Expected {
  readonly terminalState: TerminalState;
  /** The ledger record's outcome; `no record` when the request never got that far. */
  readonly outcome: string;
  /** The workflow slots the ledger record says the execution reached. */
  readonly statesReached: readonly string[];
  /** The revision the load balancer serves at the end. */
  readonly serving: 'new revision' | 'previous revision';
  /** The `outcome` attribute of every message published, in order. */
  readonly notifications: readonly string[];
  /** `released`, or left to an execution that has ended (the next request takes it over). */
  readonly lock: 'released' | 'left to an ended execution';
  /** An infrastructure release: what became of each requested stack, in order (`simulate --json`). */
  readonly stacks?: readonly StackStatus[];
}

export interface FaultCase {
  /** The fault, for the table. */
  readonly fault: string;
  /** Where it strikes. */
  readonly at: string;
  readonly scenario: Scenario;
  readonly taskFaults?: TaskFaults;
  readonly expected: Expected;
}

const reached = {
  deployed: ['resolution', 'diffBuild', 'diffGate', 'verification', 'update', 'wake', 'rollout', 'smoke'],
  rolledBackAfterCrash: [
    'resolution',
    'diffBuild',
    'diffGate',
    'verification',
    'update',
    'wake',
    'rollout',
    'rollback',
    'rollbackWake',
    'rollbackRollout',
  ],
} as const;

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found) throw new Error(`The fault suite builds on the scenario ${name}, which no longer exists.`);
  return found;
}

function withWorld(base: Scenario, world: Partial<ScenarioWorld>): Scenario {
  return { ...base, world: { ...base.world, ...world } };
}

const happy = scenario('happy');
/** The new revision crashes; ECS only fails the deployment, the orchestrator's Rollback does the work. */
const crashing = withWorld(scenario('circuit-breaker'), { ecsRollback: false });

/** The definition the cases are generated from: its Task states, retries, timeouts and transitions. */
interface AslTaskState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: { readonly FunctionName?: string };
  readonly TimeoutSeconds?: number;
  readonly Retry?: readonly { readonly ErrorEquals: readonly string[]; readonly MaxAttempts?: number }[];
  readonly Next?: string;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next: string }[];
}
const aslStates: Readonly<Record<string, AslTaskState>> = (
  JSON.parse(readFileSync(definitionPath, 'utf8')) as { States: Record<string, AslTaskState> }
).States;

const CODEBUILD_SYNC = 'arn:aws:states:::codebuild:startBuild.sync';
const isBuild = (state: string) => aslStates[state]?.Resource === CODEBUILD_SYNC;

/** Function timeouts of the orchestrator stack (infra/handler-functions.ts), by the ASL's substitution. */
const functionTimeoutSeconds: Readonly<Record<string, number>> = {
  ResolveRequestFunctionArn: 30,
  AnalyzeDiffFunctionArn: 60,
  VerifySecretsFunctionArn: 60,
  UpdateServiceFunctionArn: 60,
  RegisterWaitFunctionArn: 30,
  PollStabilizationFunctionArn: 60,
  SmokeTestFunctionArn: 180,
  RollbackFunctionArn: 60,
  WatchStackFunctionArn: 60,
  NotifyFunctionArn: 30,
  RequestApprovalFunctionArn: 30,
  ExpireApprovalFunctionArn: 30,
};

/** The function a Task state invokes (directly, or through lambda:invoke.waitForTaskToken). */
function functionOf(state: string): string {
  const task = aslStates[state];
  const reference = task?.Parameters?.FunctionName ?? task?.Resource ?? '';
  return /^\$\{(\w+)\}$/.exec(reference)?.[1] ?? reference;
}

const crash: TaskFault = {
  error: 'Lambda.ServiceException',
  cause: 'Lambda.ServiceException: Rate Exceeded. (Service: Lambda, Status Code: 500)',
};
const codeBuildError: TaskFault = {
  error: 'CodeBuild.CodeBuildException',
  cause: 'CodeBuild.CodeBuildException: An internal error occurred. (Service: CodeBuild, Status Code: 500)',
};

function crashFor(state: string): TaskFault {
  return isBuild(state) ? codeBuildError : crash;
}

/** One attempt plus the MaxAttempts of the ASL retrier that covers the state's crash. */
function attemptsOf(state: string): number {
  const error = crashFor(state).error;
  const retrier = aslStates[state]?.Retry?.find((candidate) => candidate.ErrorEquals.includes(error));
  return retrier ? 1 + (retrier.MaxAttempts ?? 3) : 1;
}

/** A timeout as Step Functions reports it: the work was done, the answer is lost. */
function timeout(state: string): TaskFault {
  if (isBuild(state)) {
    const seconds = aslStates[state]?.TimeoutSeconds;
    return {
      error: 'States.Timeout',
      cause: `The build did not finish within ${seconds} s.`,
      strikes: 'after',
    };
  }
  const seconds = functionTimeoutSeconds[functionOf(state)];
  if (seconds === undefined) {
    throw new Error(`The fault suite knows no function timeout for ${state} (${functionOf(state)}); add it.`);
  }
  return {
    error: 'Sandbox.Timedout',
    cause: JSON.stringify({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: 0f4c2a9e-6d1b-4c8e-9a7f-3b2e1d0c9f8a Error: Task timed out after ${seconds}.00 seconds`,
    }),
    strikes: 'after',
    seconds,
  };
}

/** The Task states whose Retry covers a function timeout (read from the ASL, so the table follows it). */
const retriesTimeout: ReadonlySet<string> = new Set(
  Object.entries(aslStates)
    .filter(([, state]) =>
      (state.Retry ?? []).some((retrier) => retrier.ErrorEquals.includes('Sandbox.Timedout')),
    )
    .map(([name]) => name),
);

/**
 * The Task states a run can meet from `entry` on through its transitions (Next, Choices, Default; not
 * Catch), in the definition's order: read from the ASL, so a state added to a path meets its faults.
 */
function taskStatesFrom(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const state = aslStates[name];
    if (!state) throw new Error(`The definition has no state ${name}.`);
    queue.push(
      ...[state.Next, state.Default, ...(state.Choices ?? []).map((choice) => choice.Next)].filter(
        (next): next is string => next !== undefined,
      ),
    );
  }
  return Object.keys(aslStates).filter((name) => seen.has(name) && aslStates[name]!.Type === 'Task');
}

/** How one path ends without a fault, and where a failure at each of its states leads. */
interface Path {
  readonly scenario: Scenario;
  readonly states: readonly string[];
  readonly clean: Expected;
  /** The end when `state` fails for good; `timedOut` when its work was done and only the answer was lost. */
  readonly failed: (state: string, timedOut: boolean) => Expected;
}

const beforeChange = (statesReached: readonly string[]): Expected => ({
  terminalState: 'DeploymentFailed',
  outcome: 'failed-before-change',
  statesReached,
  serving: 'previous revision',
  notifications: ['failed-before-change'],
  lock: 'released',
});

/** A Notify step that never ran leaves the record open, the lock to its ended execution, no message. */
const notifyNeverRan = (clean: Expected): Expected => ({
  ...clean,
  outcome: 'in-progress',
  statesReached: ['resolution'],
  notifications: [],
  lock: 'left to an ended execution',
});

const rolledBack = (statesReached: readonly string[]): Expected => ({
  terminalState: 'RolledBack',
  outcome: 'rolled-back',
  statesReached,
  serving: 'previous revision',
  notifications: ['rolled-back'],
  lock: 'released',
});

const deployPath: Path = {
  scenario: happy,
  states: [
    'ResolveRequest',
    'RunCdkDiff',
    'AnalyzeDiff',
    'VerifySecrets',
    'UpdateService',
    'WaitForDeploymentEvent',
    'PollStabilization',
    'SmokeTest',
    'NotifySucceeded',
  ],
  clean: {
    terminalState: 'Deployed',
    outcome: 'succeeded',
    statesReached: reached.deployed,
    serving: 'new revision',
    notifications: ['succeeded'],
    lock: 'released',
  },
  failed(state, timedOut) {
    const slots = ['resolution', 'diffBuild', 'diffGate', 'verification', 'update'];
    switch (state) {
      case 'ResolveRequest':
        // Its work is idempotent per execution: a lost answer is retried and the deployment goes on.
        return timedOut ? this.clean : { ...beforeChange([]), outcome: 'no record' };
      case 'RunCdkDiff':
      case 'AnalyzeDiff':
      case 'VerifySecrets':
        return beforeChange(slots.slice(0, this.states.indexOf(state)));
      case 'UpdateService':
        // Whether or not the update went through, the rollback leaves the previous revision.
        return rolledBack([...slots.slice(0, 4), 'rollback', 'rollbackWake', 'rollbackRollout']);
      case 'WaitForDeploymentEvent':
      case 'PollStabilization':
        return rolledBack([...slots, 'rollback', 'rollbackWake', 'rollbackRollout']);
      case 'SmokeTest':
        return rolledBack([...slots, 'wake', 'rollout', 'rollback', 'rollbackWake', 'rollbackRollout']);
      default:
        return timedOut ? this.clean : notifyNeverRan(this.clean);
    }
  },
};

const rollbackPath: Path = {
  scenario: crashing,
  states: ['Rollback', 'WaitForRollbackEvent', 'PollRollback', 'NotifyRolledBack'],
  clean: rolledBack(reached.rolledBackAfterCrash),
  failed(state, timedOut) {
    if (state === 'NotifyRolledBack') return timedOut ? this.clean : notifyNeverRan(this.clean);
    return {
      terminalState: 'RollbackFailed',
      outcome: 'rollback-failed',
      statesReached: reached.rolledBackAfterCrash.slice(0, state === 'Rollback' ? 7 : 8),
      // A rollback that timed out after its update still took the service back; a person checks it.
      serving: 'previous revision',
      notifications: ['rollback-failed'],
      lock: 'released',
    };
  },
};

/** A path whose only Task state under test is its Notify step. */
function notifyPath(scenarioName: string, state: string, clean: Expected): Path {
  return {
    scenario: scenario(scenarioName),
    states: [state],
    clean,
    failed: (_state, timedOut) => {
      if (timedOut) return clean;
      // A rejected request never wrote a record nor took the lock: only the message is missing.
      return clean.outcome === 'no record' ? { ...clean, notifications: [] } : notifyNeverRan(clean);
    },
  };
}

const heldDiffExpired: Expected = {
  ...beforeChange(['resolution', 'diffBuild', 'diffGate', 'approval']),
  outcome: 'blocked',
  notifications: ['approval-needed', 'blocked'],
};

/** NotifyBlocked of a held diff: the "approval needed" message went out before, whatever happens to it. */
function notifyAfterApprovalNeeded(_state: string, timedOut: boolean): Expected {
  return timedOut
    ? heldDiffExpired
    : { ...notifyNeverRan(heldDiffExpired), notifications: ['approval-needed'] };
}

/** The approval of a held diff (diff-blocked, nobody decides): asked for, then expired. */
const approvalPath: Path = {
  scenario: scenario('diff-blocked'),
  states: ['RequestApproval', 'ExpireApproval'],
  clean: heldDiffExpired,
  failed(state, timedOut) {
    if (state === 'RequestApproval') {
      // No approval could be asked for (or its answer was lost): fail closed before any change.
      return {
        ...beforeChange(['resolution', 'diffBuild', 'diffGate']),
        notifications: timedOut ? ['approval-needed', 'failed-before-change'] : ['failed-before-change'],
      };
    }
    // The expiry was not recorded in the workflow: it still ends blocked, the error in its state.
    return { ...heldDiffExpired, statesReached: ['resolution', 'diffBuild', 'diffGate'] };
  },
};

const rollbackFailedClean: Expected = {
  terminalState: 'RollbackFailed',
  outcome: 'rollback-failed',
  statesReached: ['resolution', 'diffBuild', 'diffGate', 'verification', 'update', 'wake', 'rollout'],
  // ECS refused the rollback's update: the new revision stays PRIMARY, the old tasks keep serving.
  serving: 'previous revision',
  notifications: ['rollback-failed'],
  lock: 'released',
};

const infraRelease = scenario('infra-release');

const infrastructureFailed = (stacks: readonly StackStatus[], serving: Expected['serving']): Expected => ({
  terminalState: 'InfrastructureFailed',
  outcome: 'stack-failed',
  statesReached: ['resolution'],
  serving,
  notifications: ['stack-failed'],
  lock: 'released',
  stacks,
});

/**
 * An infrastructure release of three stacks whose last (the ECS stack) starts an ECS deployment. A
 * state's faults strike its first attempts, so those of the per-stack states strike the first stack
 * that reaches them: the first stack for the build, gate and watch states, the ECS stack for the
 * judgement of the deployment it started.
 */
/** The approval of a held stack: a path of its own (stackApprovalPath), which infra-release never takes. */
const stackApprovalStates = ['RequestStackApproval', 'ExpireStackApproval', 'NotifyStackNotApproved'];

const infrastructurePath: Path = {
  scenario: infraRelease,
  // Every Task state of the release's branch but the Notify steps of its other endings and the
  // approval of a held stack (paths of their own).
  states: taskStatesFrom('AcceptInfrastructure').filter(
    (state) =>
      (!state.startsWith('Notify') || state === 'NotifySucceeded') && !stackApprovalStates.includes(state),
  ),
  clean: {
    terminalState: 'Deployed',
    outcome: 'succeeded',
    statesReached: ['resolution'],
    serving: 'new revision',
    notifications: ['succeeded'],
    lock: 'released',
    stacks: ['deployed', 'deployed', 'deployed'],
  },
  failed(state, timedOut) {
    switch (state) {
      case 'SynthAndDiffStack':
      case 'AnalyzeStackDiff':
      case 'BaselineStack':
        // Nothing of the first stack was deployed; the ones after it are not attempted.
        return infrastructureFailed(['failed', 'not-attempted', 'not-attempted'], 'previous revision');
      case 'DeployStack':
        // A build whose answer was lost after `cdk deploy` finished: CloudFormation says it deployed.
        return timedOut
          ? this.clean
          : infrastructureFailed(['failed', 'not-attempted', 'not-attempted'], 'previous revision');
      case 'WatchStack':
        // CloudFormation may well have completed the update; unwatched, it is not reported deployed.
        return infrastructureFailed(['failed', 'not-attempted', 'not-attempted'], 'previous revision');
      case 'WaitForStackDeploymentEvent':
        // As below, but the release ends within a minute of the update, while ECS still rolls out the
        // new revision (which it goes on doing): the old one still serves when the execution ends.
        return infrastructureFailed(['deployed', 'deployed', 'failed'], 'previous revision');
      case 'PollStackDeployment':
      case 'SmokeTestStack':
        // The ECS deployment the stack started is not verified: the stack is not reported deployed, the
        // deployment is not rolled back (CloudFormation owns the task definition) nor made live.
        return infrastructureFailed(['deployed', 'deployed', 'failed'], 'new revision');
      case 'NotifySucceeded':
        return timedOut ? this.clean : notifyNeverRan(this.clean);
      default:
        throw new Error(`The fault suite does not know where a failure of ${state} should end; decide it.`);
    }
  },
};

/** The ECS stack's diff is BLOCKED and nobody decides: asked for after two stacks deployed, then expired. */
const stackApprovalExpired: Expected = {
  terminalState: 'InfrastructureNotApproved',
  outcome: 'blocked',
  statesReached: ['resolution'],
  serving: 'previous revision',
  notifications: ['approval-needed', 'blocked'],
  lock: 'released',
  stacks: ['deployed', 'deployed', 'not-approved'],
};

/** The approval of a held stack (infra-approval without its approver): asked for, then expired. */
const stackApprovalPath: Path = {
  scenario: (({ approver: _nobody, ...unanswered }) => unanswered)(scenario('infra-approval')),
  states: stackApprovalStates,
  clean: stackApprovalExpired,
  failed(state, timedOut) {
    switch (state) {
      case 'RequestStackApproval':
        // No approval could be asked for (or its answer was lost): the release fails before the stack.
        return {
          ...infrastructureFailed(['deployed', 'deployed', 'failed'], 'previous revision'),
          notifications: timedOut ? ['approval-needed', 'stack-failed'] : ['stack-failed'],
        };
      case 'ExpireStackApproval':
        // The expiry was not recorded in the workflow: it still ends not approved, the error in its state.
        return this.clean;
      case 'NotifyStackNotApproved':
        // The "approval needed" message went out before, whatever happens to this one.
        return timedOut ? this.clean : { ...notifyNeverRan(this.clean), notifications: ['approval-needed'] };
      default:
        throw new Error(`The fault suite does not know where a failure of ${state} should end; decide it.`);
    }
  },
};

const paths: readonly Path[] = [
  deployPath,
  rollbackPath,
  notifyPath('secret-missing', 'NotifyFailed', beforeChange(['resolution', 'diffBuild', 'diffGate'])),
  // Nobody decides in the fault runs: the approval expires, then NotifyBlocked runs.
  { ...notifyPath('diff-blocked', 'NotifyBlocked', heldDiffExpired), failed: notifyAfterApprovalNeeded },
  notifyPath('prod-guard', 'NotifyRejected', {
    ...beforeChange([]),
    outcome: 'no record',
    notifications: ['rejected'],
  }),
  notifyPath('rollback-fails', 'NotifyRollbackFailed', rollbackFailedClean),
  approvalPath,
  infrastructurePath,
  notifyPath(
    'infra-stack-fails',
    'NotifyStackFailed',
    infrastructureFailed(['deployed', 'rolled-back', 'not-attempted'], 'previous revision'),
  ),
  stackApprovalPath,
];

/** Per path, each kind of Lambda fault at each of its Task states (kind first, so the table groups). */
function lambdaFaultCases(): FaultCase[] {
  const kinds: readonly ((path: Path, state: string) => FaultCase)[] = [
    (path, state) => ({
      fault: `${crashFor(state).error} on 2 attempts (retried)`,
      at: state,
      scenario: path.scenario,
      taskFaults: { [state]: [crashFor(state), crashFor(state)] },
      expected: path.clean,
    }),
    (path, state) => ({
      fault: `${crashFor(state).error} on every attempt (${attemptsOf(state)})`,
      at: state,
      scenario: path.scenario,
      taskFaults: { [state]: Array.from({ length: attemptsOf(state) }, () => crashFor(state)) },
      expected: path.failed(state, false),
    }),
    (path, state) => ({
      fault: `${timeout(state).error} after its work (${retriesTimeout.has(state) ? 'retried' : 'not retried'})`,
      at: state,
      scenario: path.scenario,
      taskFaults: { [state]: [timeout(state)] },
      expected: retriesTimeout.has(state) ? path.clean : path.failed(state, true),
    }),
  ];
  return paths.flatMap((path) => kinds.flatMap((kind) => path.states.map((state) => kind(path, state))));
}

/** A rollout so quick that ECS reports it COMPLETED seconds after the update. */
const secondsRollout = {
  provisioningSeconds: 1,
  imagePullSeconds: 1,
  secretFetchSeconds: 1,
  containerStartSeconds: 1,
  healthyThresholdCount: 1,
  healthCheckIntervalSeconds: 1,
  deregistrationDelaySeconds: 1,
  schedulerLaunchSeconds: 1,
  eventDeliverySeconds: 1,
};

function awsFaultCases(): FaultCase[] {
  const deployed = deployPath.clean;
  const rolledBackClean = rollbackPath.clean;
  return [
    {
      fault: 'ECS throttling: DescribeServices ThrottlingException 3 times',
      at: 'ECS API',
      scenario: withWorld(happy, {
        apiFaults: [{ service: 'ecs', command: 'DescribeServices', error: 'ThrottlingException', times: 3 }],
      }),
      expected: deployed,
    },
    {
      fault: 'ECS 5xx: UpdateService ServerException once',
      at: 'ECS API',
      scenario: withWorld(happy, {
        apiFaults: [{ service: 'ecs', command: 'UpdateService', error: 'ServerException', times: 1 }],
      }),
      expected: deployed,
    },
    {
      fault: 'ECS 5xx: UpdateService ServerException on every call',
      at: 'ECS API',
      scenario: withWorld(happy, {
        apiFaults: [{ service: 'ecs', command: 'UpdateService', error: 'ServerException', times: 100 }],
      }),
      expected: rolledBack([
        'resolution',
        'diffBuild',
        'diffGate',
        'verification',
        'rollback',
        'rollbackWake',
        'rollbackRollout',
      ]),
    },
    {
      fault: 'ECS 5xx: DescribeServices ServiceUnavailableException from the first poll on',
      at: 'ECS API',
      scenario: withWorld(happy, {
        apiFaults: [
          {
            service: 'ecs',
            command: 'DescribeServices',
            error: 'ServiceUnavailableException',
            after: 3,
            times: 100,
          },
        ],
      }),
      expected: {
        terminalState: 'RollbackFailed',
        outcome: 'rollback-failed',
        statesReached: ['resolution', 'diffBuild', 'diffGate', 'verification', 'update'],
        serving: 'new revision',
        notifications: ['rollback-failed'],
        lock: 'released',
      },
    },
    {
      fault: "ECS's circuit breaker rolls back before our Rollback runs",
      at: 'ECS',
      scenario: scenario('ecs-rolled-back'),
      expected: rolledBack(reached.rolledBackAfterCrash),
    },
    {
      fault: "ECS's circuit breaker trips and rolls back while our Rollback updates the service",
      at: 'ECS',
      scenario: withWorld(happy, {
        newRevision: { kind: 'crash-on-boot', exitCode: 1 },
        timing: { crashAfterStartSeconds: 120 },
        circuitBreakerTripsBefore: { command: 'UpdateService', after: 1 },
      }),
      expected: rolledBack(reached.rolledBackAfterCrash),
    },
    {
      fault: 'the COMPLETED event is lost',
      at: 'EventBridge',
      scenario: scenario('lost-event'),
      // Every wait ended at its safety-net timeout, which keeps no wake-up.
      expected: { ...deployed, statesReached: reached.deployed.filter((slot) => slot !== 'wake') },
    },
    {
      fault: 'the FAILED event is lost (health checks fail: no stop fails fast)',
      at: 'EventBridge',
      // Each ELB kill wakes the workflow, which waits on; the circuit breaker's FAILED never arrives, and the
      // wake-up on the last stopped task (or the safety-net poll) finds the deployment failed.
      scenario: withWorld(scenario('health-check-fail'), {
        eventFaults: [{ eventName: 'SERVICE_DEPLOYMENT_FAILED', action: 'drop' }],
      }),
      expected: rolledBack(reached.rolledBackAfterCrash),
    },
    {
      fault: 'the COMPLETED event is delivered twice',
      at: 'EventBridge',
      scenario: withWorld(happy, {
        eventFaults: [{ eventName: 'SERVICE_DEPLOYMENT_COMPLETED', action: 'duplicate', seconds: 5 }],
      }),
      expected: deployed,
    },
    {
      fault: 'the COMPLETED event arrives before the wait stores its token',
      at: 'EventBridge',
      scenario: withWorld(happy, { timing: secondsRollout }),
      // register-wait is held back by Lambda errors until the seconds-long rollout has completed.
      taskFaults: { WaitForDeploymentEvent: [crash, crash, crash, crash] },
      expected: deployed,
    },
    {
      fault: 'the smoke target accepts requests and never answers',
      at: 'live service',
      scenario: withWorld(happy, {
        liveServiceHangs: true,
        smokeTiming: { requestTimeoutMs: 50, warmUpSeconds: 10 },
      }),
      expected: rolledBack([...reached.deployed, 'rollback', 'rollbackWake', 'rollbackRollout']),
    },
    {
      fault: 'SNS Publish ThrottledException once',
      at: 'SNS',
      scenario: withWorld(happy, {
        apiFaults: [{ service: 'sns', command: 'Publish', error: 'ThrottledException', times: 1 }],
      }),
      expected: deployed,
    },
    ...(
      [
        [happy, deployPath.clean],
        [scenario('secret-missing'), paths[2]!.clean],
        [scenario('diff-blocked'), paths[3]!.clean],
        [scenario('prod-guard'), paths[4]!.clean],
        [crashing, rolledBackClean],
        [scenario('rollback-fails'), rollbackFailedClean],
      ] as const
    ).map(([base, clean]): FaultCase => ({
      fault: `SNS Publish KMSAccessDeniedException on every call (${clean.notifications.at(-1)})`,
      at: 'SNS',
      scenario: withWorld(base, {
        apiFaults: [
          ...(base.world.apiFaults ?? []),
          { service: 'sns', command: 'Publish', error: 'KMSAccessDeniedException', times: 100 },
        ],
      }),
      // A held diff whose approval nobody can be told about fails before any change instead of waiting.
      expected:
        clean === heldDiffExpired
          ? { ...beforeChange(['resolution', 'diffBuild', 'diffGate']), notifications: [] }
          : { ...clean, notifications: [] },
    })),
    {
      fault: 'the rollback UpdateService is throttled once',
      at: 'Rollback',
      scenario: withWorld(crashing, {
        apiFaults: [{ service: 'ecs', command: 'UpdateService', error: 'ThrottlingException', after: 1 }],
      }),
      expected: rolledBackClean,
    },
    {
      fault: 'the rollback UpdateService is refused (AccessDeniedException)',
      at: 'Rollback',
      scenario: scenario('rollback-fails'),
      expected: rollbackFailedClean,
    },
  ];
}

export const faultCases: readonly FaultCase[] = [...lambdaFaultCases(), ...awsFaultCases()];
