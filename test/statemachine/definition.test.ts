/**
 * Static checks of `statemachine/deployment.asl.json` and its loader: valid ASL, JSONPath only,
 * the placeholder set, error names that exist in lambdas/domain/errors.ts and are all caught,
 * retries with backoff, one output slot per step, and exactly one notification on every path.
 */
import aslValidator from 'asl-validator';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploymentErrorClasses, type DeploymentErrorName } from '../../lambdas/domain/errors';
import { environments } from '../support/afu9-config';
import { Outcome } from '../../lambdas/domain/workflow-state';
import {
  DefinitionSubstitutionError,
  definitionPath,
  placeholders,
  substitute,
  substituteForLocalRun,
} from '../../statemachine/definition';
import { fakeSubstitutions } from './fixtures';

interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly Next: string;
  readonly ResultPath?: string | null;
}
interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: string;
}
interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly ResultPath?: string | null;
  readonly Next?: string;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
}
interface AslDefinition {
  readonly StartAt: string;
  readonly TimeoutSeconds?: number;
  readonly States: Readonly<Record<string, AslState>>;
}

const definition = substitute(fakeSubstitutions) as unknown as AslDefinition;
const states = Object.entries(definition.States);
const taskStates = states.filter(([, state]) => state.Type === 'Task');
const notifyStates = taskStates.filter(([name]) => name.startsWith('Notify'));
const TERMINAL_TYPES = ['Succeed', 'Fail'];

const TRANSIENT_LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'TransientAwsError',
];

/**
 * Error names AWS itself reports to a Task state (Lambda invoke failures, a function's timeout or
 * crash, CodeBuild's integration errors). Every other name in the definition must be a project error.
 */
const AWS_ERROR_NAMES = new Set([
  ...TRANSIENT_LAMBDA_ERRORS.filter((name) => name.startsWith('Lambda.')),
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.Unknown',
  'Sandbox.Timedout',
  'CodeBuild.CodeBuildException',
  'CodeBuild.AccountLimitExceededException',
]);

/** The errors each handler throws by contract, and where each must lead. */
const handlerErrorRoutes: Record<string, Partial<Record<DeploymentErrorName, string>>> = {
  ResolveRequest: { DeploymentRejected: 'NotifyRejected', DeploymentInProgress: 'NotifyFailed' },
  AnalyzeDiff: { DiffUnreadable: 'NotifyFailed' },
  VerifySecrets: {
    SecretsInvalid: 'NotifyFailed',
    ImageNotFound: 'NotifyFailed',
    OrchestratorPermissionMissing: 'NotifyFailed',
  },
  UpdateService: { DeploymentInProgress: 'NotifyFailed', UpdateFailed: 'NotifyFailed' },
  PollStabilization: { RolloutFailed: 'Rollback' },
  SmokeTest: { SmokeTestFailed: 'Rollback' },
  Rollback: { RollbackFailed: 'NotifyRollbackFailed' },
  PollRollback: { RolloutFailed: 'NotifyRollbackFailed', RollbackFailed: 'NotifyRollbackFailed' },
  // Infrastructure releases: every failure of a stack stops the release at NotifyStackFailed.
  AnalyzeStackDiff: { DiffUnreadable: 'NotifyStackFailed' },
  BaselineStack: { StackUnobservable: 'NotifyStackFailed' },
  WatchStack: { StackUnobservable: 'NotifyStackFailed' },
  PollStackDeployment: { RolloutFailed: 'NotifyStackFailed' },
  SmokeTestStack: { SmokeTestFailed: 'NotifyStackFailed' },
  ...Object.fromEntries(
    notifyStates.map(([name, state]) => [name, { NotificationFailed: state.Next as string }]),
  ),
};

/** Each Notify state's outcome and the terminal state its path ends in. */
const notifyEnds: Record<string, { outcome: string; terminal: string }> = {
  NotifySucceeded: { outcome: Outcome.succeeded, terminal: 'Deployed' },
  NotifyRejected: { outcome: Outcome.rejected, terminal: 'DeploymentFailed' },
  NotifyBlocked: { outcome: Outcome.blocked, terminal: 'DeploymentFailed' },
  NotifyFailed: { outcome: Outcome.failedBeforeChange, terminal: 'DeploymentFailed' },
  // A rollback a person asked for succeeds; one after a failed deployment fails (RollbackRequested chooses).
  NotifyRolledBack: { outcome: Outcome.rolledBack, terminal: 'RollbackRequested' },
  NotifyRollbackFailed: { outcome: Outcome.rollbackFailed, terminal: 'RollbackFailed' },
  // An infrastructure release whose held stack was denied or expired, or stopped at a failed stack.
  NotifyStackNotApproved: { outcome: Outcome.blocked, terminal: 'InfrastructureNotApproved' },
  NotifyStackFailed: { outcome: Outcome.stackFailed, terminal: 'InfrastructureFailed' },
};

/** The state layout of lambdas/domain/workflow-state.ts: each step writes its own slot. */
const contractSlots: Record<string, string> = {
  ResolveRequest: '$.resolution',
  RunCdkDiff: '$.diffBuild',
  AnalyzeDiff: '$.diffGate',
  RequestApproval: '$.approval',
  // The other way the approval ends: nobody decided in time. One slot holds the decision either way.
  ExpireApproval: '$.approval',
  // A held stack of an infrastructure release: its decision, either way.
  RequestStackApproval: '$.stackApproval',
  ExpireStackApproval: '$.stackApproval',
  VerifySecrets: '$.verification',
  UpdateService: '$.update',
  WaitForDeploymentEvent: '$.wake',
  PollStabilization: '$.rollout',
  SmokeTest: '$.smoke',
  Rollback: '$.rollback',
  WaitForRollbackEvent: '$.rollbackWake',
  PollRollback: '$.rollbackRollout',
  SynthAndDiffStack: '$.stackDiffBuild',
  AnalyzeStackDiff: '$.stackGate',
  BaselineStack: '$.stackBaseline',
  DeployStack: '$.stackDeploy',
  WatchStack: '$.stackWatch',
  WaitForStackDeploymentEvent: '$.stackWake',
  PollStackDeployment: '$.stackRollout',
  SmokeTestStack: '$.stackSmoke',
  ...Object.fromEntries(notifyStates.map(([name]) => [name, '$.notification'])),
};

/** The text of every source file under lambdas/ (handlers, adapters, domain). */
function lambdaSources(dir = join(__dirname, '..', '..', 'lambdas')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? lambdaSources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [readFileSync(join(dir, entry.name), 'utf8')]
        : [],
  );
}

function successors(state: AslState): string[] {
  return [
    state.Next,
    state.Default,
    ...(state.Choices ?? []).map((choice) => choice.Next),
    ...(state.Catch ?? []).map((catcher) => catcher.Next),
  ].filter((name): name is string => name !== undefined);
}

/** Where an error thrown in a state goes: the first catcher that names it or States.ALL. */
function routeOf(state: AslState, errorName: string): string | undefined {
  return state.Catch?.find(
    (catcher) => catcher.ErrorEquals.includes(errorName) || catcher.ErrorEquals.includes('States.ALL'),
  )?.Next;
}

/** Every path from `from` to a terminal state, each as [terminal, Notify states passed]; loops are cut. */
function pathsToTerminal(from: string, onPath: readonly string[] = []): [string, string[]][] {
  const state = definition.States[from] as AslState;
  const notified = from.startsWith('Notify') ? [from] : [];
  if (TERMINAL_TYPES.includes(state.Type)) return [[from, notified]];
  return [...new Set(successors(state))]
    .filter((next) => !onPath.includes(next))
    .flatMap((next) => pathsToTerminal(next, [...onPath, from]))
    .map(([terminal, passed]) => [terminal, [...notified, ...passed]]);
}

describe('statemachine/deployment.asl.json', () => {
  it('is valid Amazon States Language, ARNs and paths included (asl-validator)', () => {
    // Act
    const { isValid, errorsText } = aslValidator(substitute(fakeSubstitutions), {
      checkArn: true,
      checkPaths: true,
    });

    // Assess
    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
  });

  it('uses JSONPath only, never JSONata', () => {
    // Prepare
    const text = readFileSync(definitionPath, 'utf8');

    // Assess
    expect(text).not.toMatch(/"QueryLanguage"|"Arguments"|"Output"|"Assign"|\{%/);
  });

  it('has exactly the placeholders of the workflow contract, read from the file', () => {
    expect(placeholders).toEqual(
      [
        'AnalyzeDiffFunctionArn',
        'DiffBucketName',
        'DiffProjectName',
        'ExpireApprovalFunctionArn',
        'InfraDeployProjectName',
        'InfraDiffProjectName',
        'NotifyFunctionArn',
        'PollStabilizationFunctionArn',
        'RegisterWaitFunctionArn',
        'RequestApprovalFunctionArn',
        'ResolveRequestFunctionArn',
        'RollbackFunctionArn',
        'SmokeTestFunctionArn',
        'UpdateServiceFunctionArn',
        'VerifySecretsFunctionArn',
        'WatchStackFunctionArn',
      ].sort(),
    );
  });

  it('uses only error names that Step Functions or Lambda define, or that an exported error class throws', () => {
    // Prepare
    const names = [
      ...new Set(
        taskStates.flatMap(([, state]) =>
          [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((rule) => rule.ErrorEquals),
        ),
      ),
    ];
    const projectNames = names.filter((name) => !name.startsWith('States.') && !AWS_ERROR_NAMES.has(name));

    // Assess: the name an instance carries (what the Lambda runtime reports), not the class identifier
    const unthrown = projectNames.filter(
      (name) =>
        !Object.hasOwn(deploymentErrorClasses, name) ||
        new deploymentErrorClasses[name as DeploymentErrorName]('routed').name !== name,
    );
    expect(unthrown).toEqual([]);
  });

  it.each(Object.entries(handlerErrorRoutes))(
    'catches by name every error %s throws, and routes it by contract',
    (stateName, routes) => {
      // Prepare
      const state = definition.States[stateName] as AslState;

      // Assess
      for (const [errorName, next] of Object.entries(routes)) {
        const namedBy = state.Catch?.find((catcher) => catcher.ErrorEquals.includes(errorName));
        expect({ errorName, next: namedBy?.Next }).toEqual({ errorName, next });
      }
    },
  );

  it('routes on no project error name that no handler code throws (a catch nothing reaches is dead)', () => {
    // Prepare
    const caught = new Set(
      taskStates.flatMap(([, state]) => (state.Catch ?? []).flatMap((catcher) => catcher.ErrorEquals)),
    );
    const projectNames = [...caught].filter((name) => Object.hasOwn(deploymentErrorClasses, name));
    const code = lambdaSources().join('\n');

    // Assess
    const neverThrown = projectNames.filter((name) => !new RegExp(`new ${name}\\(`).test(code));
    expect(neverThrown).toEqual([]);
  });

  it('catches every error class of lambdas/domain/errors.ts somewhere (TransientAwsError is retried instead)', () => {
    // Prepare
    const caught = new Set(Object.values(handlerErrorRoutes).flatMap((routes) => Object.keys(routes)));

    // Assess
    const neverCaught = Object.keys(deploymentErrorClasses).filter((name) => !caught.has(name));
    expect(neverCaught).toEqual(['TransientAwsError']);
  });

  it.each(taskStates.filter(([, state]) => state.Resource !== 'arn:aws:states:::codebuild:startBuild.sync'))(
    '%s retries transient Lambda and AWS errors with capped exponential backoff and full jitter',
    (_name, state) => {
      // Prepare
      const transient = state.Retry?.find((retrier) =>
        retrier.ErrorEquals.includes('Lambda.TooManyRequestsException'),
      );

      // Assess
      expect(transient?.ErrorEquals).toEqual(expect.arrayContaining(TRANSIENT_LAMBDA_ERRORS));
      expect(transient).toMatchObject({ JitterStrategy: 'FULL' });
      expect(transient?.IntervalSeconds).toBeGreaterThanOrEqual(1);
      expect(transient?.BackoffRate).toBeGreaterThan(1);
      expect(transient?.MaxAttempts).toBeGreaterThanOrEqual(3);
      expect(transient?.MaxDelaySeconds).toBeGreaterThan(0);
    },
  );

  it.each(['Sandbox.Timedout', 'Lambda.Unknown'])(
    'retries a Lambda timeout or out-of-memory kill (%s) only where the step is idempotent',
    (errorName) => {
      // Prepare
      const retriesTimeout = (name: string) =>
        (definition.States[name]?.Retry ?? []).some((retrier) => retrier.ErrorEquals.includes(errorName));

      // Assess: these steps give the same answer or find their own earlier work when run again
      for (const name of [
        'ResolveRequest',
        'AnalyzeDiff',
        'VerifySecrets',
        'UpdateService',
        'PollStabilization',
        'Rollback',
        'PollRollback',
      ]) {
        expect({ name, retried: retriesTimeout(name) }).toEqual({ name, retried: true });
      }
      // A smoke test that outlived its warm-up window would only wait it out again; a repeated notify would
      // send a second message.
      for (const [name] of [['SmokeTest'], ...notifyStates]) {
        expect({ name, retried: retriesTimeout(name as string) }).toEqual({ name, retried: false });
      }
    },
  );

  it('retries Lambda.Unknown exactly where it retries Sandbox.Timedout, in the same retrier', () => {
    // Prepare: a timeout or an out-of-memory kill reaches Step Functions under either name
    const retrierOf = (state: AslState, errorName: string) =>
      state.Retry?.findIndex((retrier) => retrier.ErrorEquals.includes(errorName)) ?? -1;

    // Assess
    for (const [name, state] of taskStates) {
      expect({ name, unknown: retrierOf(state, 'Lambda.Unknown') }).toEqual({
        name,
        unknown: retrierOf(state, 'Sandbox.Timedout'),
      });
    }
  });

  it('retries CodeBuild capacity errors for the diff build, but never a failed build or a timeout', () => {
    // Prepare
    const retried = definition.States.RunCdkDiff?.Retry?.flatMap((retrier) => retrier.ErrorEquals) ?? [];

    // Assess
    expect(retried).toEqual(
      expect.arrayContaining(['CodeBuild.CodeBuildException', 'CodeBuild.AccountLimitExceededException']),
    );
    expect(retried).not.toContain('States.TaskFailed');
    expect(retried).not.toContain('States.Timeout');
    expect(retried).not.toContain('States.ALL');
    expect(definition.States.RunCdkDiff?.Retry?.[0]).toMatchObject({ JitterStrategy: 'FULL' });
  });

  it.each(taskStates)(
    '%s ends its Catch list with States.ALL, so no error leaves the workflow unannounced',
    (_name, state) => {
      const last = state.Catch?.[state.Catch.length - 1];
      expect(last?.ErrorEquals).toEqual(['States.ALL']);
    },
  );

  it('writes each step into its own slot, errors into $.error, and the safety-net timeout nowhere', () => {
    // Prepare
    const slots = Object.fromEntries(taskStates.map(([name, state]) => [name, state.ResultPath]));
    const catchSlots = taskStates.flatMap(([name, state]) =>
      (state.Catch ?? []).map((catcher) => [name, catcher.ErrorEquals.join(','), catcher.ResultPath]),
    );

    // Assess
    expect(slots).toEqual(contractSlots);
    const stepSlots = Object.entries(contractSlots)
      .filter(
        ([name, slot]) =>
          slot !== '$.notification' && name !== 'ExpireApproval' && name !== 'ExpireStackApproval',
      )
      .map(([, slot]) => slot);
    expect(new Set(stepSlots).size).toBe(stepSlots.length);
    expect(stepSlots).not.toContain('$.error');
    expect(stepSlots).not.toContain('$.request');
    expect(catchSlots.filter(([, , slot]) => slot !== '$.error')).toEqual([
      // A failed deploy build is not the release's error: WatchStack asks CloudFormation what it did.
      ['DeployStack', 'States.ALL', '$.stackDeploy'],
      ['WaitForStackDeploymentEvent', 'States.Timeout', null],
      // So is a held stack's, by ExpireStackApproval into $.stackApproval.
      ['RequestStackApproval', 'States.Timeout', null],
      // The approval's expiry is recorded by ExpireApproval into $.approval, not as an error.
      ['RequestApproval', 'States.Timeout', null],
      ['WaitForDeploymentEvent', 'States.Timeout', null],
      ['WaitForRollbackEvent', 'States.Timeout', null],
    ]);
  });

  it('waits for the deployment event with a task token, and falls back to the poll on the safety-net timeout', () => {
    for (const [waitState, pollState] of [
      ['WaitForDeploymentEvent', 'PollStabilization'],
      ['WaitForRollbackEvent', 'PollRollback'],
    ] as const) {
      const state = definition.States[waitState] as AslState;
      expect(state.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
      expect(state.Parameters).toMatchObject({
        FunctionName: fakeSubstitutions.RegisterWaitFunctionArn,
        Payload: { 'taskToken.$': '$$.Task.Token' },
      });
      expect(state.TimeoutSecondsPath).toBe('$.request.safetyNetPollSeconds');
      expect(state.Next).toBe(pollState);
      expect(routeOf(state, 'States.Timeout')).toBe(pollState);
    }
  });

  it('differs for the local interpreter only by the wait timeouts the local handler decides', () => {
    // Prepare
    const exact = substitute(fakeSubstitutions) as unknown as AslDefinition;
    const local = substituteForLocalRun(fakeSubstitutions) as unknown as AslDefinition;

    // Assess
    const changed = Object.keys(exact.States).filter(
      (name) => JSON.stringify(exact.States[name]) !== JSON.stringify(local.States[name]),
    );
    expect(changed).toEqual([
      'WaitForStackDeploymentEvent',
      'RequestStackApproval',
      'RequestApproval',
      'WaitForDeploymentEvent',
      'WaitForRollbackEvent',
    ]);
    for (const name of changed) {
      const { TimeoutSecondsPath: _dropped, ...rest } = exact.States[name] as AslState;
      expect(local.States[name]).toEqual(rest);
    }
  });

  it('sends exactly one notification on every path to a terminal state, and none on the way to Ignored', () => {
    // Act
    const paths = pathsToTerminal(definition.StartAt);

    // Assess
    expect(paths.length).toBeGreaterThan(20);
    for (const [terminal, notified] of paths) {
      if (terminal === 'Ignored') expect(notified).toEqual([]);
      else expect({ terminal, notified: notified.length }).toEqual({ terminal, notified: 1 });
    }
    expect(new Set(paths.map(([terminal]) => terminal))).toEqual(
      new Set([
        'Deployed',
        'Ignored',
        'DeploymentFailed',
        'RolledBack',
        'RolledBackAsRequested',
        'RollbackFailed',
        'InfrastructureNotApproved',
        'InfrastructureFailed',
      ]),
    );
  });

  it.each(Object.entries(notifyEnds))(
    '%s notifies its outcome and always ends where its path ends',
    (name, { outcome, terminal }) => {
      // Prepare
      const state = definition.States[name] as AslState;

      // Assess
      expect(state.Resource).toBe(fakeSubstitutions.NotifyFunctionArn);
      // The execution's start time measures the whole deployment's duration in the message.
      expect(state.Parameters).toEqual({
        'executionId.$': '$$.Execution.Id',
        'startedAt.$': '$$.Execution.StartTime',
        outcome,
        'state.$': '$',
      });
      expect(new Set(successors(state))).toEqual(new Set([terminal]));
    },
  );

  it('notifies every outcome the contract knows, through one Notify state each', () => {
    expect(notifyStates.map(([name]) => name).sort()).toEqual(Object.keys(notifyEnds).sort());
    expect(
      Object.values(notifyEnds)
        .map(({ outcome }) => outcome)
        .sort(),
    ).toEqual([...Object.values(Outcome), Outcome.blocked].sort());
  });

  it('reaches every state it defines', () => {
    // Prepare
    const reached = new Set<string>();
    const visit = (name: string) => {
      if (reached.has(name)) return;
      reached.add(name);
      successors(definition.States[name] as AslState).forEach(visit);
    };

    // Act
    visit(definition.StartAt);

    // Assess
    expect([...reached].sort()).toEqual(Object.keys(definition.States).sort());
  });

  it('gives the execution an overall timeout above the longest approval wait plus every stage limit (the last resort)', () => {
    // Prepare
    const { rollout, smoke, release } = environments.production;
    const diffBuild = definition.States.RunCdkDiff?.TimeoutSeconds ?? Infinity;
    // A push's release settles, then may wait for the service; the rollout and the rollback each get
    // the rollout deadline, noticed up to one safety-net poll late.
    const stages =
      release.settleSeconds +
      release.lockWaitSeconds +
      diffBuild +
      2 * (rollout.timeoutSeconds + rollout.safetyNetPollSeconds) +
      smoke.warmUpSeconds;
    // A held diff may wait for a person up to the longest approval the configuration schema allows.
    const longestApproval = 7 * 24 * 3600;

    // Assess
    expect(definition.TimeoutSeconds).toBeGreaterThan(longestApproval + stages);
    expect(definition.TimeoutSeconds).toBeLessThanOrEqual(longestApproval + 4 * 3600);
  });
});

describe('statemachine/definition.ts substitute()', () => {
  it('replaces every placeholder as text, exactly where it stands', () => {
    // Act
    const substituted = substitute(fakeSubstitutions) as unknown as AslDefinition;

    // Assess
    expect(JSON.stringify(substituted)).not.toContain('${');
    expect(substituted.States.ResolveRequest?.Resource).toBe(fakeSubstitutions.ResolveRequestFunctionArn);
    expect(substituted.States.RunCdkDiff?.Parameters?.ProjectName).toBe(fakeSubstitutions.DiffProjectName);
    expect(substituted.States.AnalyzeDiff?.Parameters?.bucket).toBe(fakeSubstitutions.DiffBucketName);
  });

  it('refuses substitutions that leave a placeholder without a value, naming it', () => {
    // Prepare
    const { NotifyFunctionArn: _missing, ...incomplete } = fakeSubstitutions;

    // Act / Assess
    expect(() => substitute(incomplete)).toThrow(DefinitionSubstitutionError);
    expect(() => substitute(incomplete)).toThrow(/Missing a value for: NotifyFunctionArn/);
  });

  it('refuses a value for a placeholder the file does not have, naming it', () => {
    expect(() =>
      substitute({ ...fakeSubstitutions, DeployFunctionArn: 'arn:aws:lambda:eu-central-1:1:function:x' }),
    ).toThrow(/No placeholder named: DeployFunctionArn/);
  });

  it('refuses values that would break the JSON they are placed in', () => {
    expect(() => substitute({ ...fakeSubstitutions, DiffBucketName: 'bucket", "injected": "x' })).toThrow(
      /DiffBucketName contain quotes/,
    );
  });
});
