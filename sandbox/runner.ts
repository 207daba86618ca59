/**
 * Runs one deployment in the sandbox: the real `statemachine/deployment.asl.json`, substituted as
 * the CDK stack substitutes it, executed by aws-local-stepfunctions, every Task state served by the
 * real handler with dependencies bound to a simulated AWS account. EventBridge routes events as the
 * stack's rules do: ECS deployment events to the wake-up Lambda, ECR pushes and failed ECS
 * deployments to new executions. Waits pass in virtual time, so a rollout of minutes takes a
 * fraction of a second, and every figure the run reports is in virtual seconds.
 *
 * The run's parts live in `sandbox/run/`: `simulation.ts` wires them, `task-invokers.ts` serves the
 * Task states, `event-routing.ts` and `async-invocation.ts` deliver events, `raw-input.ts` starts a
 * run from `simulate --input`.
 */
import { stackSummaries } from './run/stack-summary';
import './promise-with-resolvers';
import { loadDeployConfig, repositoryConfigPath } from '../infra/deploy-config-file';
import type { EnvironmentConfig } from '../lambdas/domain/environments';
import { readStackAssembly } from './assembly/cloud-assembly';
import { currentAssembly } from './assembly/current-assembly';
import type { SimulatedAccount } from './account/simulated-account';
import { openSandboxAccount, type SandboxAccount } from './run/account-port';
import type { ProgressEvent } from './run/progress';
import { environmentOf, eventAccount, makeHistory, startWithRawInput } from './run/raw-input';
import {
  deployedTaskDefinition,
  outcomeOf,
  stateEntries,
  summarize,
  type ApprovalEntry,
  type SimulationDocument,
  type SimulationRun,
} from './run/result';
import { imageParametersOf, imagesServedBy } from './run/images-after';
import type { SimulatedExecution } from './run/execution';
import { PUSH_SPACING_SECONDS, releasePushes } from './run/release-pushes';
import { Simulation } from './run/simulation';
import { ledgerApprovals, type ApproverOptions } from './run/approvals';
import type { TaskFaults } from './run/task-faults';
import type { Scenario } from './scenarios';
import { scenarioForConfig } from './scenarios/configured';

export type { ProgressEvent } from './run/progress';
export type { SimulationDocument, SimulationRun } from './run/result';
export type { TaskFault, TaskFaults } from './run/task-faults';

/** An input delivered during the run (`simulate --input` given again, a request sent again). */
export interface FurtherInput {
  readonly input: unknown;
  readonly label: string;
  /** The name an execution input starts its execution with. @default as `afu9-deploy start` names it */
  readonly executionName?: string;
}

export interface SimulationOptions {
  readonly scenario: Scenario;
  /**
   * Replaces the scenario's trigger (and its follow-ups): an execution input, or a raw EventBridge
   * event that first makes its own history in the account (docs/rehearsal.md, `simulate --input`).
   * An execution input's images are in ECR only if the scenario's world has them, unless `pushed`.
   */
  readonly input?: unknown;
  /** `simulate --pushed`: the images an execution input names were pushed to ECR first. @default false */
  readonly pushed?: boolean;
  /** Where the input came from, for the timeline. @default 'input' */
  readonly inputLabel?: string;
  /**
   * The name an execution input starts its execution with, as a caller that names its own executions
   * (EventBridge, the bench's one-execution-per-push baseline) gives it. @default as `afu9-deploy start` names it
   */
  readonly inputExecutionName?: string;
  /**
   * Further inputs (`simulate --input` given several times), each delivered PUSH_SPACING_SECONDS of
   * virtual time after the one before, as CI pushes the images of a release. @default none
   */
  readonly moreInputs?: readonly FurtherInput[];
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Faults for the Task states of the run's first execution. @default none */
  readonly taskFaults?: TaskFaults;
  /**
   * The synthesized template to rehearse under (its bundles in the asset folders beside it).
   * @default the current stack's, from cdk.out (synthesized first when the sources changed)
   */
  readonly templatePath?: string;
  /**
   * The deployment configuration file the account is seeded from and the stack is synthesized from.
   * @default the repository's deploy.config.json
   */
  readonly configPath?: string;
  /**
   * `simulate --approve|--deny "<reason>"`: people who decide every approval the run asks for, each
   * after their delay, through the approval URL as the sandbox approver (sandbox/run/approvals.ts).
   * @default nobody: approvals expire
   */
  readonly approvers?: readonly ApproverOptions[];
  /**
   * Reads the simulated account once the run has ended, before it closes (the bench reads ECS
   * through its API there). @default nothing
   */
  readonly afterRun?: (account: SimulatedAccount, environment: EnvironmentConfig) => Promise<void>;
  /**
   * Called as each execution ends, with a way to send a further input at that virtual moment (the
   * bench's CI that sends a refused push again once the service frees), delivered as `moreInputs`
   * are. @default nothing
   */
  readonly onExecutionEnded?: (execution: SimulatedExecution, send: (request: FurtherInput) => void) => void;
}

/**
 * The service's task definition (its PRIMARY deployment's), read past the account's API so an
 * injected ECS fault strikes only the orchestrator's own calls.
 */
function taskDefinitionOf(sandbox: SandboxAccount, env: EnvironmentConfig): string {
  return sandbox.account.ecs.primaryTaskDefinition(env.name);
}

function scenarioInput(scenario: Scenario): unknown {
  return scenario.trigger.kind === 'start' ? scenario.trigger.input : undefined;
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationRun> {
  const configPath = options.configPath ?? repositoryConfigPath;
  const { environments } = loadDeployConfig(configPath);
  const scenario = scenarioForConfig(options.scenario, environments);
  const onProgress = options.onProgress ?? (() => undefined);
  const usesInput = options.input !== undefined;
  const input = usesInput ? options.input : scenarioInput(scenario);
  const label = options.inputLabel ?? 'the given input';
  const assembly = readStackAssembly(options.templatePath ?? (await currentAssembly(undefined, configPath)));
  const accountId = usesInput ? eventAccount(options.input) : undefined;
  const sandbox = await openSandboxAccount(scenario.world, {
    assembly,
    environments,
    ...(accountId !== undefined ? { accountId } : {}),
  });
  try {
    const { account } = sandbox;
    const env = environmentOf(input, environments);
    const firstName = options.inputExecutionName;
    const allInputs = usesInput
      ? [
          { input: options.input, label, ...(firstName !== undefined ? { executionName: firstName } : {}) },
          ...(options.moreInputs ?? []),
        ]
      : [];
    // What the first input implies happened before the run; each later one's, when it is delivered.
    const history = usesInput
      ? await makeHistory(sandbox, scenario, options.input, options.pushed === true)
      : [];
    const startedAt = account.clock.now();
    const taskDefinitionBefore = taskDefinitionOf(sandbox, env);
    onProgress({
      kind: 'run-started',
      at: account.clock.nowMillis(),
      scenario: scenario.name,
      summary: usesInput ? `${scenario.summary} (started with ${label} instead)` : scenario.summary,
      accountId: account.accountId,
      region: account.region,
      serviceName: env.serviceName,
      taskDefinition: taskDefinitionBefore,
      liveServiceUrl: account.liveServiceUrlFor(env.name),
    });
    const { onExecutionEnded } = options;
    // A further input first makes its own history (its pushed images in ECR), as the first one did.
    const deliverLater = (seconds: number, given: FurtherInput): void =>
      simulation.later(seconds, `--input ${given.label}`, async () => {
        const lines = await makeHistory(sandbox, scenario, given.input, options.pushed === true);
        for (const text of lines) simulation.note(text);
        startWithRawInput(simulation, sandbox, given.input, given.label, given.executionName);
      });
    const simulation: Simulation = new Simulation(
      sandbox,
      scenario,
      usesInput ? [] : scenario.followUps,
      (event) => {
        onProgress(event);
        if (event.kind === 'execution-ended' && onExecutionEnded) {
          onExecutionEnded(event.execution, (further) => deliverLater(0, further));
        }
      },
      options.taskFaults,
      // A person given by --approve/--deny replaces the scenario's own approver.
      options.approvers ?? (scenario.approver ? [scenario.approver] : []),
    );
    for (const text of history) simulation.note(text);
    await simulation.run(() => {
      if (usesInput) {
        allInputs.forEach((given, index) => {
          if (index === 0) {
            startWithRawInput(simulation, sandbox, given.input, given.label, given.executionName);
            return;
          }
          deliverLater(index * PUSH_SPACING_SECONDS, given);
        });
      } else if (scenario.trigger.kind === 'release') {
        const { tag, containers } = scenario.trigger;
        releasePushes(env, tag, containers).forEach((push, index) => {
          const deliver = () => {
            simulation.note(`CI pushes ${push.repository}:${push.tag} to ECR`);
            sandbox.pushImage(push.repository, push.tag, { emitEvent: true });
          };
          if (index === 0) deliver();
          else simulation.later(index * PUSH_SPACING_SECONDS, `push ${push.repository}`, deliver);
        });
      } else if (scenario.trigger.kind === 'start') {
        sandbox.provideRequestedImages(scenario.trigger.input);
        simulation.startFromInput(
          scenario.trigger.input,
          `start-execution by ${scenario.trigger.input.requestedBy ?? 'a person'}`,
        );
      } else {
        simulation.note(`CI pushes ${scenario.trigger.repository}:${scenario.trigger.tag} to ECR`);
        sandbox.pushImage(scenario.trigger.repository, scenario.trigger.tag, { emitEvent: true });
      }
    });
    const taskDefinitionAfter = taskDefinitionOf(sandbox, env);
    await options.afterRun?.(account, env);
    const images = {
      imagesAfter: await imagesServedBy(account, env.name),
      imageParameters: imageParametersOf(account),
      approvals: await approvalsOf(simulation, sandbox),
    };
    return {
      document: buildDocument(scenario.name, simulation, sandbox, startedAt.getTime(), {
        taskDefinitionBefore,
        taskDefinitionAfter,
        ...images,
      }),
      definition: simulation.definition,
      executions: simulation.executions,
      published: [...account.published],
      logLines: simulation.logLines,
      requests: simulation.requests,
      authorizations: simulation.authorizations,
      approvalAttempts: simulation.approvalAttempts,
      busEvents: [...account.bus.history],
      ledgerItems: account.dynamodb.items(sandbox.resources.tableName),
      servingTaskDefinition: account.ecs.servingRevision(env.name)?.taskDefinitionArn ?? null,
      stackStatuses: Object.fromEntries(
        (env.infrastructure?.stacks ?? []).map(({ name }) => [name, account.cloudformation.status(name)]),
      ),
      faultsStruck: [...account.faults.struck],
      startedAt,
      liveServiceUrl: account.liveServiceUrlFor(env.name),
      queueMessages: Object.fromEntries(
        sandbox.stack.queues.map((queue) => [queue.name, simulation.sqs.messages(queue.arn)]),
      ),
    };
  } finally {
    await sandbox.account.close();
  }
}

/**
 * The execution the run's status and outcome describe: the release's, the first that did not end
 * ignored (pushes that joined a release, duplicates and events left to another execution end
 * ignored); the first one when every execution was ignored.
 */
function releaseExecution(executions: readonly SimulatedExecution[]): SimulatedExecution | undefined {
  return executions.find((execution) => outcomeOf(execution) !== 'ignored') ?? executions[0];
}

function buildDocument(
  scenario: string,
  simulation: Simulation,
  sandbox: SandboxAccount,
  startMs: number,
  end: Pick<
    SimulationDocument,
    'taskDefinitionBefore' | 'taskDefinitionAfter' | 'imagesAfter' | 'imageParameters' | 'approvals'
  >,
): SimulationDocument {
  const main = releaseExecution(simulation.executions);
  // A start Step Functions refused ran nothing, and the person's request failed.
  const refused = !main && simulation.refusedStarts.length > 0;
  const outcome = main ? outcomeOf(main) : refused ? 'rejected' : 'ignored';
  const status = main ? main.status : refused ? 'FAILED' : 'SUCCEEDED';
  const stacks = main ? stackSummaries(main) : undefined;
  return {
    scenario,
    status: status === 'RUNNING' ? 'FAILED' : status,
    outcome: outcome === 'running' ? 'failed' : outcome,
    rolledBack: outcome === 'rolled-back',
    taskDefinitionBefore: end.taskDefinitionBefore,
    taskDefinitionDeployed: main ? deployedTaskDefinition(main) : null,
    taskDefinitionAfter: end.taskDefinitionAfter,
    states: main ? stateEntries(main) : [],
    notifications: sandbox.account.published.map((message) => ({
      subject: message.subject ?? '',
      message: message.message,
    })),
    virtualSeconds: Math.round(simulation.elapsedSeconds(startMs) * 1000) / 1000,
    executions: simulation.executions.map(summarize),
    accessDenied: simulation.authorizations.flatMap((record) =>
      record.decision === 'allowed'
        ? []
        : [
            {
              caller: record.caller,
              action: record.action,
              resource: record.resource,
              decision: record.decision,
            },
          ],
    ),
    alarms: simulation.cloudwatch.statuses(),
    imagesAfter: end.imagesAfter,
    imageParameters: end.imageParameters,
    approvals: end.approvals,
    ...(stacks && { stacks }),
  };
}

/** The approvals each execution of the run asked for, as the ledger keeps them at the end. */
async function approvalsOf(simulation: Simulation, sandbox: SandboxAccount): Promise<ApprovalEntry[]> {
  const entries: ApprovalEntry[] = [];
  for (const execution of simulation.executions) {
    const records = await ledgerApprovals(sandbox.account, sandbox.resources.tableName, execution.arn);
    for (const { executionArn: _arn, findings, ...record } of records) {
      entries.push({ execution: execution.name, verdict: findings.verdict, ...record });
    }
  }
  return entries;
}
