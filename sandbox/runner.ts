/**
 * Runs one deployment in the sandbox: the real `statemachine/deployment.asl.json`, substituted as
 * the CDK stack substitutes it, executed by aws-local-stepfunctions, every Task state served by the
 * real handler with dependencies bound to a simulated AWS account. EventBridge routes events as the
 * stack's rules do: ECS deployment events to the wake-up Lambda, ECR pushes and failed ECS
 * deployments to new executions. Waits pass in virtual time, so a rollout of minutes takes a
 * fraction of a second, and every figure the run reports is in virtual seconds.
 */
import './promise-with-resolvers';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { loadDeployConfig, repositoryConfigPath } from '../infra/deploy-config-file';
import { environmentNamed, type EnvironmentConfig, type Environments } from '../lambdas/domain/environments';
import { executionNameFor } from '../lambdas/domain/execution-name';
import { parseTriggerInput } from '../lambdas/domain/trigger-events';
import { substitute } from '../statemachine/definition';
import type { BusEvent, TaskTokenCompletion } from './account/simulated-account';
import {
  readStackAssembly,
  type DeployedFunction,
  type DeployedRule,
  type DeployedStack,
} from './assembly/cloud-assembly';
import { currentAssembly } from './assembly/current-assembly';
import { openSandboxAccount, requiredSubstitution, type SandboxAccount } from './run/account-port';
import {
  SimulatedExecution,
  type AslDefinition,
  type AslState,
  type ExecutionTrigger,
  type StateRecord,
  type TaskCall,
  type TaskInvoker,
} from './run/execution';
import { authorizeDelivery, patternMatches } from './run/deliveries';
import type { AuthorizationRecord } from './run/function-clients';
import { buildHandlers, type LambdaHandler } from './run/handlers';
import { roleAuthorizer } from './run/role-authorizer';
import { readReferencePath } from './run/json-path';
import type { ProgressEvent } from './run/progress';
import {
  outcomeOf,
  stateEntries,
  summarize,
  type SimulationDocument,
  type SimulationRun,
} from './run/result';
import { Scheduler } from './run/scheduler';
import type { Scenario } from './scenarios';
import { rehearsalEnvironment, scenarioForConfig } from './scenarios/configured';

export type { ProgressEvent } from './run/progress';
export type { SimulationDocument, SimulationRun } from './run/result';

/**
 * What Step Functions reports for one attempt of a Task state instead of its answer: a Lambda
 * crash (`Lambda.ServiceException`), a function timeout (`Sandbox.Timedout`), a CodeBuild error.
 */
export interface TaskFault {
  readonly error: string;
  readonly cause: string;
  /**
   * `before`: the function never ran (the invoke failed, or it crashed before its first call);
   * `after`: it did all its work and the answer was lost (a timeout after its last call).
   * @default 'before'
   */
  readonly strikes?: 'before' | 'after';
  /** Virtual seconds the failed attempt takes (a timeout lasts the function's whole timeout). @default 0 */
  readonly seconds?: number;
}

/** Per Task state, the faults its attempts meet in turn (each attempt takes the next one). */
export type TaskFaults = Readonly<Record<string, readonly TaskFault[]>>;

export interface SimulationOptions {
  readonly scenario: Scenario;
  /**
   * Replaces the scenario's trigger (and its follow-ups): an execution input, or a raw EventBridge
   * event that first makes its own history in the account (docs/rehearsal.md, `simulate --input`).
   */
  readonly input?: unknown;
  /** Where the input came from, for the timeline. @default 'input' */
  readonly inputLabel?: string;
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
}

/**
 * typical: a CodeBuild `cdk diff` of one stack (provisioning ~30 s, cached `npm ci`, synth and
 * diff ~60 s). The workflow waits for it whatever it takes; the figure only places it on the timeline.
 */
const CDK_DIFF_BUILD_SECONDS = 90;

/** Lambda's asynchronous invocation: the event, then two retries a minute and two minutes later. */
const ASYNC_RETRY_DELAYS_SECONDS = [60, 120] as const;

/** Step Functions' limit on a state's input and output. */
const MAX_PAYLOAD_BYTES = 256 * 1024;

/** After the last execution, events still on their way (EventBridge delivers within seconds) arrive. */
const IN_FLIGHT_MS = 60 * 1000;

/** Stops a simulation whose waits never end; no designed path comes near it. */
const HORIZON_MS = 24 * 3600 * 1000;

const FIXTURE_DIR = join(__dirname, '..', 'test', 'fixtures', 'cdk-diff');

/** An error with the name Step Functions routes on, as a failed callback or integration reports it. */
function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** A UUID-shaped id derived from `seed`, so the same run names things the same way every time. */
function uuidFrom(seed: string): string {
  const id = createHash('sha256').update(seed).digest('hex');
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-a${id.slice(17, 20)}-${id.slice(20, 32)}`;
}

/** The service's ARN in `accountId`, or in any account when none is given (reading a raw input). */
function serviceArnMatches(resource: string, env: EnvironmentConfig, accountId?: string): boolean {
  return new RegExp(
    `^arn:aws[a-z-]*:ecs:${env.region}:${accountId ?? '\\d{12}'}:service/${env.clusterName}/${env.serviceName}$`,
  ).test(resource);
}

/**
 * The raw inputs the stack's rules act on, for making their history before a run (the image a push
 * names, the failed deployment an event names); the run itself routes events by the template's rules.
 */
const rules = {
  ecrPush(event: BusEvent, environments: Environments): boolean {
    const detail = event.detail;
    return (
      event.source === 'aws.ecr' &&
      event['detail-type'] === 'ECR Image Action' &&
      detail['action-type'] === 'PUSH' &&
      detail.result === 'SUCCESS' &&
      Object.values(environments).some((env) =>
        env.containers.some((container) => container.repository === detail['repository-name']),
      )
    );
  },
  ecsDeployment(
    event: BusEvent,
    eventNames: readonly string[],
    accountId: string,
    environments: Environments,
  ): boolean {
    return (
      event.source === 'aws.ecs' &&
      event['detail-type'] === 'ECS Deployment State Change' &&
      eventNames.includes(String(event.detail.eventName)) &&
      event.resources.some((resource) =>
        Object.values(environments).some((env) => serviceArnMatches(resource, env, accountId)),
      )
    );
  },
};

/**
 * The Parameters keys a state fills from `$$.Execution.StartTime`. aws-local-stepfunctions always sets
 * that field to the wall clock; the sandbox gives it the execution's start on the virtual clock, as
 * Step Functions gives the real start.
 */
function executionStartTimeKeys(state: AslState): string[] {
  const parameters = (state as { Parameters?: Record<string, unknown> }).Parameters ?? {};
  return Object.entries(parameters)
    .filter(([key, value]) => key.endsWith('.$') && value === '$$.Execution.StartTime')
    .map(([key]) => key.slice(0, -2));
}

function withVirtualStartTime(input: unknown, keys: readonly string[], call: TaskCall): unknown {
  if (keys.length === 0 || typeof input !== 'object' || input === null) return input;
  const startTime = new Date(call.execution.startedAtMs).toISOString();
  return { ...input, ...Object.fromEntries(keys.map((key) => [key, startTime])) };
}

class Simulation {
  readonly executions: SimulatedExecution[] = [];
  readonly logLines: string[] = [];
  readonly requests: string[] = [];
  readonly authorizations: AuthorizationRecord[] = [];
  private readonly scheduler: Scheduler;
  private readonly handlers: ReadonlyMap<string, LambdaHandler>;
  readonly definition: AslDefinition;
  private readonly stateMachine: StateMachine;
  private readonly stateMachineArn: string;
  private readonly diffBucket: string;
  private readonly diffProjectName: string;
  private readonly stack: DeployedStack;
  private readonly diffText: string;
  private readonly followUpsSent = new Set<string>();
  private readonly taskFaults: Map<string, TaskFault[]>;
  private deliveries = 0;

  constructor(
    private readonly sandbox: SandboxAccount,
    scenario: Scenario,
    private readonly followUps: Scenario['followUps'],
    private readonly onProgress: (event: ProgressEvent) => void,
    taskFaults: TaskFaults = {},
  ) {
    const { account } = sandbox;
    this.taskFaults = new Map(Object.entries(taskFaults).map(([state, faults]) => [state, [...faults]]));
    this.scheduler = new Scheduler(account.clock, { horizonMs: HORIZON_MS, inFlightMs: IN_FLIGHT_MS });
    this.stack = sandbox.stack;
    this.stateMachineArn = this.stack.stateMachineArn;
    this.diffBucket = sandbox.resources.diffBucket;
    this.diffProjectName = requiredSubstitution(this.stack, 'DiffProjectName');
    this.diffText = readFixture(scenario.world.diffFixture);
    this.handlers = buildHandlers(
      account,
      this.stack,
      roleAuthorizer(this.stack, account),
      this.scheduler,
      { logLines: this.logLines, requests: this.requests, authorizations: this.authorizations },
      scenario.world.smokeTiming,
    );
    const definition = substitute(this.stack.definitionSubstitutions);
    this.definition = definition as unknown as AslDefinition;
    this.stateMachine = stateMachineFor(withoutLibraryTimeouts(definition));
    this.routeEvents();
  }

  get clock() {
    return this.sandbox.account.clock;
  }

  async run(start: () => void): Promise<void> {
    start();
    await this.scheduler.drive();
  }

  /** Virtual seconds from the start until the last execution ended. */
  elapsedSeconds(startMs: number): number {
    const ends = this.executions.map((execution) => execution.endedAtMs ?? this.clock.nowMillis());
    return ends.length === 0 ? 0 : (Math.max(...ends) - startMs) / 1000;
  }

  note(text: string): void {
    this.onProgress({ kind: 'note', at: this.clock.nowMillis(), text });
  }

  /** Starts an execution, refusing a name already used as Step Functions does. */
  startExecution(name: string, input: unknown, trigger: ExecutionTrigger): void {
    if (this.executions.some((execution) => execution.name === name)) {
      this.note(
        `StartExecution ${name} refused: ExecutionAlreadyExists (an execution of that name ran already; ` +
          'Step Functions keeps names unique per state machine).',
      );
      return;
    }
    const arn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const execution = new SimulatedExecution(
      {
        name,
        arn,
        stateMachineArn: this.stateMachineArn,
        roleArn: this.stack.stateMachineRoleArn,
        input,
        trigger,
      },
      {
        stateMachine: this.stateMachine,
        definition: this.definition,
        clock: this.clock,
        scheduler: this.scheduler,
        invokerFor: (stateName, state) => this.invokerFor(stateName, state),
        issueTaskToken: () => this.sandbox.issueTaskToken(),
        onStateClosed: (owner, record) => this.stateClosed(owner, record),
      },
    );
    this.executions.push(execution);
    this.sandbox.recordExecution(execution);
    this.onProgress({ kind: 'execution-started', at: this.clock.nowMillis(), execution });
    void this.scheduler.spawn(async () => {
      await execution.run();
      this.sandbox.finishExecution(execution);
      this.onProgress({ kind: 'execution-ended', at: this.clock.nowMillis(), execution });
    });
  }

  startFromInput(input: unknown, description: string): void {
    const name =
      manualExecutionName(input, this.clock.now()) ?? `sandbox-input-${this.executions.length + 1}`;
    this.startExecution(name, input, { kind: 'input', description });
  }

  private functionWithArn(functionArn: string): DeployedFunction {
    const fn = this.stack.functions.find((candidate) => candidate.functionArn === functionArn);
    if (!fn) {
      throw new Error(
        `The sandbox has no function ${functionArn}; the definition names a function the stack lacks.`,
      );
    }
    return fn;
  }

  private handlerNamed(handlerName: string): LambdaHandler {
    const handler = this.handlers.get(handlerName);
    if (!handler) {
      throw new Error(
        `The stack has no function running the ${handlerName} handler (POWERTOOLS_SERVICE_NAME ${handlerName}).`,
      );
    }
    return handler;
  }

  private handlerFor(functionArn: string): LambdaHandler {
    return this.handlerNamed(this.functionWithArn(functionArn).handlerName);
  }

  private invokerFor(stateName: string, state: AslState): TaskInvoker {
    const resource = state.Resource ?? '';
    if (resource.startsWith('arn:aws:lambda:')) {
      const handler = this.handlerFor(resource);
      const startTimeKeys = executionStartTimeKeys(state);
      return (input, call) =>
        this.withTaskFault(call, async () =>
          checkedPayload(
            await handler(withVirtualStartTime(jsonCopy(input), startTimeKeys, call)),
            stateName,
          ),
        );
    }
    if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
      return (input, call) => this.waitForTaskToken(input, call, this.takeTaskFault(call));
    }
    if (resource === 'arn:aws:states:::codebuild:startBuild.sync') {
      return (input, call) => this.withTaskFault(call, () => this.runDiffBuild(input, call));
    }
    throw new Error(
      `State ${stateName} uses the resource ${resource}, which the sandbox does not simulate. ` +
        'Simulate it in sandbox/runner.ts before using it in the definition.',
    );
  }

  /** The fault this attempt of a state of the first execution meets, if one is left for it. */
  private takeTaskFault(call: TaskCall): TaskFault | undefined {
    if (call.execution !== this.executions[0]) return undefined;
    const fault = this.taskFaults.get(call.stateName)?.shift();
    if (fault) {
      this.note(
        `${call.stateName} of ${call.execution.name} fails with ${fault.error} ` +
          `(${fault.strikes === 'after' ? 'after its work was done' : 'before it did anything'})`,
      );
    }
    return fault;
  }

  private async strike(fault: TaskFault, call: TaskCall): Promise<never> {
    if (fault.seconds) await this.scheduler.sleep(fault.seconds * 1000, `${call.stateName}: ${fault.error}`);
    throw namedError(fault.error, fault.cause);
  }

  /** Runs one attempt of a Task state, failing it before or after its work when a fault is due. */
  private async withTaskFault(call: TaskCall, work: () => Promise<unknown>): Promise<unknown> {
    const fault = this.takeTaskFault(call);
    if (fault && fault.strikes !== 'after') return this.strike(fault, call);
    const output = await work();
    return fault ? this.strike(fault, call) : output;
  }

  /**
   * `lambda:invoke.waitForTaskToken`: invokes the function with the token, then waits (in virtual
   * time) until someone completes the token or the state's timeout passes. A fault fails the
   * invoke; the token then belongs to a failed state, and completing it is refused.
   */
  private async waitForTaskToken(input: unknown, call: TaskCall, fault?: TaskFault): Promise<unknown> {
    const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
    const token = call.execution.takeTaskToken();
    if (fault && fault.strikes !== 'after') {
      this.sandbox.expireTaskToken(token);
      return this.strike(fault, call);
    }
    const timeoutMs = await this.taskTimeoutMs(call);
    const startedMs = this.clock.nowMillis();
    const early: TaskTokenCompletion[] = [];
    const stopBuffering = this.sandbox.account.onTaskTokenCompleted((completion) => {
      if (completion.token === token) early.push(completion);
    });
    let completion: TaskTokenCompletion;
    try {
      await this.handlerFor(FunctionName)(jsonCopy(Payload));
      if (fault) await this.strike(fault, call);
      completion = await this.scheduler.waitFor<TaskTokenCompletion>(
        (deliver) => {
          if (early[0]) {
            deliver(early[0]);
            return () => undefined;
          }
          return this.sandbox.account.onTaskTokenCompleted((done) => {
            if (done.token === token) deliver(done);
          });
        },
        Math.max(0, startedMs + timeoutMs - this.clock.nowMillis()),
        `${call.stateName} of ${call.execution.name}`,
      );
    } catch (error) {
      this.sandbox.expireTaskToken(token);
      throw error;
    } finally {
      stopBuffering();
    }
    if (completion.outcome === 'success') return JSON.parse(completion.output ?? 'null') as unknown;
    throw namedError(completion.error ?? 'States.TaskFailed', completion.cause ?? '');
  }

  private async taskTimeoutMs(call: TaskCall): Promise<number> {
    const { state } = call;
    if (state.TimeoutSeconds !== undefined) return state.TimeoutSeconds * 1000;
    if (state.TimeoutSecondsPath !== undefined) {
      const seconds = readReferencePath(state.TimeoutSecondsPath, await call.rawInput());
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1) {
        throw namedError(
          'States.Runtime',
          `TimeoutSecondsPath ${state.TimeoutSecondsPath} of ${call.stateName} is not a positive integer: ${String(seconds)}.`,
        );
      }
      return seconds * 1000;
    }
    return HORIZON_MS;
  }

  /**
   * `codebuild:startBuild.sync` of the diff project: the build runs for its usual time, writes the
   * scenario's recorded `cdk diff` output to the key the workflow gave it, and reports SUCCEEDED
   * (the build script records a failing `cdk diff` in the text; the diff gate judges it).
   */
  private async runDiffBuild(input: unknown, call: TaskCall): Promise<unknown> {
    const { account } = this.sandbox;
    const params = input as {
      ProjectName?: string;
      EnvironmentVariablesOverride?: { Name: string; Value: string; Type?: string }[];
    };
    if (params.ProjectName !== this.diffProjectName) {
      throw namedError(
        'CodeBuild.ResourceNotFoundException',
        `Project cannot be found: arn:aws:codebuild:${account.region}:${account.accountId}:project/${params.ProjectName}`,
      );
    }
    const variables = params.EnvironmentVariablesOverride ?? [];
    const key = variables.find((variable) => variable.Name === 'DIFF_OBJECT_KEY')?.Value;
    if (!key) {
      throw namedError(
        'States.TaskFailed',
        'The diff build got no DIFF_OBJECT_KEY; it has nowhere to write the diff.',
      );
    }
    const buildId = `${this.diffProjectName}:${uuidFrom(`${call.execution.arn}#${key}`)}`;
    const startTime = this.clock.now();
    await this.scheduler.sleep(CDK_DIFF_BUILD_SECONDS * 1000, `CodeBuild ${buildId}`);
    await account.clients.s3.send(
      new PutObjectCommand({
        Bucket: this.diffBucket,
        Key: key,
        Body: this.diffText,
        ContentType: 'text/plain; charset=utf-8',
      }),
    );
    return {
      Build: {
        Id: buildId,
        Arn: `arn:aws:codebuild:${account.region}:${account.accountId}:build/${buildId}`,
        ProjectName: this.diffProjectName,
        BuildStatus: 'SUCCEEDED',
        CurrentPhase: 'COMPLETED',
        BuildComplete: true,
        StartTime: startTime.toISOString(),
        EndTime: this.clock.now().toISOString(),
        Environment: { EnvironmentVariables: variables },
      },
    };
  }

  /** EventBridge routes as the template's enabled rules do, each delivery authorized as AWS authorizes it. */
  private routeEvents(): void {
    const bus = this.sandbox.account.bus;
    for (const rule of this.stack.rules.filter((candidate) => candidate.enabled)) {
      for (const target of rule.targets) {
        const deliver = this.deliveryTo(rule, target.arn);
        bus.subscribe(
          (event) => patternMatches(rule, event),
          (event) => {
            const verdict = authorizeDelivery(this.stack, rule, target);
            this.authorizations.push(verdict.record);
            if (verdict.allowed) {
              deliver(event);
              return;
            }
            this.note(
              `EventBridge rule ${rule.name} may not deliver to ${target.arn}: AccessDenied, ${verdict.reason}; ` +
                (target.deadLetterArn
                  ? `the event goes to the dead-letter queue ${target.deadLetterArn}`
                  : 'the event is dropped (the target has no dead-letter queue)'),
            );
          },
        );
      }
    }
  }

  /** What a delivery to the target does: start an execution, or invoke the wake-up function. */
  private deliveryTo(rule: DeployedRule, targetArn: string): (event: BusEvent) => void {
    if (targetArn === this.stateMachineArn) return (event) => this.startFromEvent(event);
    if (this.stack.functions.find((fn) => fn.functionArn === targetArn)?.handlerName === 'deployment-event') {
      return (event) => this.deliverDeploymentEvent(event);
    }
    throw new Error(
      `Rule ${rule.logicalId} targets ${targetArn}, which the sandbox does not simulate as an EventBridge target. ` +
        'Simulate it in sandbox/runner.ts before adding the target to the stack.',
    );
  }

  private startFromEvent(event: BusEvent): void {
    this.deliveries += 1;
    const detail = event.detail;
    const what =
      event.source === 'aws.ecr'
        ? `ECR push ${String(detail['repository-name'])}:${String(detail['image-tag'] ?? '')}`
        : `ECS ${String(detail.eventName)} ${String(detail.deploymentId)}`;
    // EventBridge's StartExecution names an execution with a fresh UUID on every delivery.
    this.startExecution(uuidFrom(`${event.id}#${this.deliveries}`), jsonCopy(event), {
      kind: 'eventbridge',
      description: `EventBridge rule on ${what}`,
    });
  }

  /** The wake-up Lambda, invoked asynchronously as EventBridge does, with Lambda's retries. */
  private deliverDeploymentEvent(event: BusEvent): void {
    const handler = this.handlerNamed('deployment-event');
    const label =
      event['detail-type'] === 'ECS Task State Change'
        ? `TASK_STOPPED ${String(event.detail.startedBy)} ${String(event.detail.taskArn).split('/').pop()}`
        : `${String(event.detail.eventName)} ${String(event.detail.deploymentId)}`;
    this.note(`EventBridge delivers ${label} to the deployment-event function`);
    void this.scheduler.spawn(async () => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          await handler(jsonCopy(event));
          return;
        } catch (error) {
          const delay = ASYNC_RETRY_DELAYS_SECONDS[attempt];
          const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          if (delay === undefined) {
            this.note(`deployment-event failed on ${label} after ${attempt + 1} attempts: ${message}`);
            return;
          }
          this.note(`deployment-event failed on ${label} (${message}); Lambda retries in ${delay} s`);
          await this.scheduler.sleep(delay * 1000, `deployment-event retry ${label}`);
        }
      }
    });
  }

  private stateClosed(execution: SimulatedExecution, record: StateRecord): void {
    this.onProgress({ kind: 'state', at: record.leftAtMs, execution, record });
    if (execution !== this.executions[0] || record.status !== 'SUCCEEDED') return;
    for (const followUp of this.followUps ?? []) {
      if (followUp.afterState !== record.name || this.followUpsSent.has(followUp.afterState)) continue;
      this.followUpsSent.add(followUp.afterState);
      const name =
        manualExecutionName(followUp.input, this.clock.now()) ??
        `sandbox-request-${this.executions.length + 1}`;
      this.sandbox.provideRequestedImages(followUp.input);
      this.startExecution(name, followUp.input, { kind: 'request', description: followUp.description });
    }
  }
}

/**
 * Definitions already validated in this process. asl-validator compiles its schemas on every call
 * (about a second); the same definition need not be checked twice.
 */
const validatedDefinitions = new Set<string>();

function stateMachineFor(definition: StateMachineDefinition): StateMachine {
  const text = JSON.stringify(definition);
  const validated = validatedDefinitions.has(text);
  const stateMachine = new StateMachine(definition, {
    validationOptions: validated ? { noValidate: true } : { checkArn: true, checkPaths: true },
  });
  validatedDefinitions.add(text);
  return stateMachine;
}

/**
 * The definition as the library runs it: the runner applies every Task timeout itself, in virtual
 * time (the library's timers are wall-clock). `TimeoutSecondsPath` is also evaluated by the library
 * against the effective input (after Parameters) instead of the state input as Step Functions does,
 * which would fail the real definition; the runner reads it from the state input.
 */
function withoutLibraryTimeouts(definition: StateMachineDefinition): StateMachineDefinition {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => {
      if (state.Type !== 'Task' || !('TimeoutSecondsPath' in state)) return [name, state];
      const { TimeoutSecondsPath: _appliedByRunner, ...rest } = state;
      return [name, rest];
    }),
  );
  return { ...definition, States: states as StateMachineDefinition['States'] };
}

function readFixture(name: string): string {
  try {
    return readFileSync(join(FIXTURE_DIR, name), 'utf8');
  } catch (error) {
    throw new Error(
      `The scenario's cdk diff fixture test/fixtures/cdk-diff/${name} cannot be read ` +
        `(${(error as NodeJS.ErrnoException).code ?? String(error)}). Name a file that exists there.`,
      { cause: error },
    );
  }
}

/** Step Functions refuses a state output above 256 KB; the sandbox holds handlers to it too. */
function checkedPayload(output: unknown, stateName: string): unknown {
  const text = JSON.stringify(output ?? null);
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
    throw namedError(
      'States.DataLimitExceeded',
      `The output of ${stateName} is ${Buffer.byteLength(text)} bytes, over Step Functions' 256 KB limit.`,
    );
  }
  return JSON.parse(text) as unknown;
}

/** The name `afu9-deploy start` gives a request, or undefined when the input is not a start input. */
function manualExecutionName(input: unknown, now: Date): string | undefined {
  try {
    const trigger = parseTriggerInput(input);
    return trigger.kind === 'start' ? executionNameFor(trigger.input, now) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The service's task definition (its PRIMARY deployment's), read past the account's API so an
 * injected ECS fault strikes only the orchestrator's own calls.
 */
function taskDefinitionOf(sandbox: SandboxAccount, env: EnvironmentConfig): string {
  return sandbox.account.ecs.primaryTaskDefinition(env.name);
}

/** The environment a run is about: the one its input names, else the one rehearsals deploy to. */
function environmentOf(input: unknown, environments: Environments): EnvironmentConfig {
  try {
    const trigger = parseTriggerInput(input);
    const named =
      trigger.kind === 'start' ? environmentNamed(environments, trigger.input.environment) : undefined;
    if (named) return named;
    if (trigger.kind === 'ecs-deployment-state-change') {
      const found = Object.values(environments).find((env) =>
        trigger.event.resources.some((resource) => serviceArnMatches(resource, env)),
      );
      if (found) return found;
    }
  } catch {
    // An input the workflow will reject is still run; the run is about the rehearsal's environment then.
  }
  return rehearsalEnvironment(environments);
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
    const history = usesInput ? await makeHistory(sandbox, options.input) : [];
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
    const simulation = new Simulation(
      sandbox,
      scenario,
      usesInput ? [] : scenario.followUps,
      onProgress,
      options.taskFaults,
    );
    for (const text of history) simulation.note(text);
    await simulation.run(() => {
      if (usesInput) {
        startWithRawInput(simulation, sandbox, options.input, label);
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
    return {
      document: buildDocument(scenario.name, simulation, sandbox, startedAt.getTime(), {
        taskDefinitionBefore,
        taskDefinitionAfter,
      }),
      definition: simulation.definition,
      executions: simulation.executions,
      published: [...account.published],
      logLines: simulation.logLines,
      requests: simulation.requests,
      authorizations: simulation.authorizations,
      busEvents: [...account.bus.history],
      ledgerItems: account.dynamodb.items(sandbox.resources.tableName),
      servingTaskDefinition: account.ecs.servingRevision(env.name)?.taskDefinitionArn ?? null,
      faultsStruck: [...account.faults.struck],
      startedAt,
      liveServiceUrl: account.liveServiceUrlFor(env.name),
    };
  } finally {
    await sandbox.account.close();
  }
}

/** A raw event is played in the account it names, so its ARNs are the sandbox's own. */
function eventAccount(input: unknown): string | undefined {
  const account = (input as { account?: unknown } | null)?.account;
  return typeof account === 'string' && /^\d{12}$/.test(account) ? account : undefined;
}

function recognised(input: unknown) {
  try {
    return parseTriggerInput(input);
  } catch {
    return undefined;
  }
}

/**
 * What happened before a raw event was sent, made to happen in the account: the pushed image is in
 * ECR; the failed ECS deployment ran and failed on the service. Returns a line for each.
 */
async function makeHistory(sandbox: SandboxAccount, input: unknown): Promise<string[]> {
  const trigger = recognised(input);
  const { environments } = sandbox.account;
  if (trigger?.kind === 'ecr-image-action' && rules.ecrPush(input as BusEvent, environments)) {
    const detail = trigger.event.detail;
    const tag = detail['image-tag'];
    if (tag === undefined) return [];
    sandbox.pushImage(detail['repository-name'], tag, {
      emitEvent: false,
      ...(detail['image-digest'] !== undefined ? { digest: detail['image-digest'] } : {}),
    });
    return [
      `history: CI pushed ${detail['repository-name']}:${tag} (${detail['image-digest'] ?? 'no digest'}) to ECR`,
    ];
  }
  if (
    trigger?.kind === 'ecs-deployment-state-change' &&
    rules.ecsDeployment(
      input as BusEvent,
      ['SERVICE_DEPLOYMENT_FAILED'],
      sandbox.account.accountId,
      environments,
    )
  ) {
    const env = environmentOf(input, environments);
    const { deploymentId, reason } = trigger.event.detail;
    await sandbox.failDeployment(env, deploymentId);
    return [
      `history: ECS deployment ${deploymentId} of ${env.serviceName} ran a build that crashes on boot and failed` +
        (reason ? ` (${reason})` : ''),
    ];
  }
  return [];
}

/**
 * `--input`: an execution input starts an execution as `start-execution` would; a raw event goes
 * onto the bus, where the stack's rules route it (or nothing does, as AWS would never deliver it).
 */
function startWithRawInput(
  simulation: Simulation,
  sandbox: SandboxAccount,
  input: unknown,
  label: string,
): void {
  const trigger = recognised(input);
  if (trigger === undefined || trigger.kind === 'start') {
    // An input the workflow cannot read is still started: ResolveRequest refuses it, as in AWS.
    if (trigger?.kind === 'start') sandbox.provideRequestedImages(trigger.input);
    simulation.startFromInput(input, `start-execution with ${label}`);
    return;
  }
  const description =
    trigger.kind === 'other-event'
      ? `a ${trigger.detailType} event from ${trigger.source}`
      : `the event in ${label}`;
  simulation.note(`EventBridge receives ${description}`);
  sandbox.account.bus.put(input as BusEvent);
  if (simulation.executions.length === 0) {
    simulation.note('no rule of the orchestrator stack starts an execution for it: nothing runs, as in AWS');
  }
}

function buildDocument(
  scenario: string,
  simulation: Simulation,
  sandbox: SandboxAccount,
  startMs: number,
  taskDefinitions: { taskDefinitionBefore: string | null; taskDefinitionAfter: string | null },
): SimulationDocument {
  const main = simulation.executions[0];
  const outcome = main ? outcomeOf(main) : 'ignored';
  const status = main ? main.status : 'SUCCEEDED';
  return {
    scenario,
    status: status === 'RUNNING' ? 'FAILED' : status,
    outcome: outcome === 'running' ? 'failed' : outcome,
    rolledBack: outcome === 'rolled-back',
    ...taskDefinitions,
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
  };
}
