/**
 * One simulated run of the state machine in the sandbox account: it wires the services together
 * (Task states served by the real handlers, EventBridge routing by the stack's rules, CloudWatch
 * alarms, SQS queues), starts executions, and drives the scheduler in virtual time until every
 * execution and every event on its way has ended.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import { executionNameFor } from '../../lambdas/domain/execution-name';
import { parseTriggerInput } from '../../lambdas/domain/trigger-events';
import { substitute } from '../../statemachine/definition';
import { IdSource } from '../account/ids';
import { SimulatedSqs } from '../account/sqs';
import type { DeployedStack } from '../assembly/cloud-assembly';
import type { Scenario } from '../scenarios';
import { rehearsalEnvironment } from '../scenarios/configured';
import { requiredSubstitution, type SandboxAccount } from './account-port';
import { deliverAlarm } from './alarm-actions';
import { AsyncInvocation } from './async-invocation';
import { SimulatedCloudWatch, type MetricId } from './cloudwatch';
import { checkManagedRuleGrant, DiffBuild, readFixture } from './diff-build';
import { infrastructureBuildsFor } from './infrastructure-world';
import { EventRouting } from './event-routing';
import { SimulatedExecution, type AslDefinition, type ExecutionTrigger, type StateRecord } from './execution';
import type { AuthorizationRecord } from './function-clients';
import { FunctionHandlers } from './function-handlers';
import { buildHandlers } from './handlers';
import { sqsMetric, taskMetrics } from './metrics';
import type { ProgressEvent } from './progress';
import { rebuiltDigest, releasePushes } from './release-pushes';
import { roleAuthorizer } from './role-authorizer';
import { Scheduler } from './scheduler';
import { stackPolicySource } from './service-deliveries';
import { stateMachineFor, withoutLibraryTimeouts } from './state-machine';
import { authorizeTask, type TaskAuthorizer } from './task-authorization';
import { TaskFaultQueue, type TaskFaults } from './task-faults';
import { TaskInvokers } from './task-invokers';

/** After the last execution, events still on their way (EventBridge delivers within seconds) arrive. */
const IN_FLIGHT_MS = 60 * 1000;

/** Stops a simulation whose waits never end; no designed path comes near it. */
const HORIZON_MS = 24 * 3600 * 1000;

/** The name `afu9-deploy start` gives a request, or undefined when the input is not a start input. */
function manualExecutionName(input: unknown, now: Date): string | undefined {
  try {
    const trigger = parseTriggerInput(input);
    return trigger.kind === 'start' ? executionNameFor(trigger.input, now) : undefined;
  } catch {
    return undefined;
  }
}

export class Simulation {
  readonly executions: SimulatedExecution[] = [];
  /** Names StartExecution refused (ExecutionAlreadyExists). */
  readonly refusedStarts: string[] = [];
  readonly logLines: string[] = [];
  readonly requests: string[] = [];
  readonly authorizations: AuthorizationRecord[] = [];
  private readonly scheduler: Scheduler;
  readonly definition: AslDefinition;
  private readonly stateMachine: StateMachine;
  private readonly stack: DeployedStack;
  private readonly followUpsSent = new Set<string>();
  readonly sqs: SimulatedSqs;
  readonly cloudwatch: SimulatedCloudWatch;
  private readonly taskInvokers: TaskInvokers;

  constructor(
    private readonly sandbox: SandboxAccount,
    scenario: Scenario,
    private readonly followUps: Scenario['followUps'],
    private readonly onProgress: (event: ProgressEvent) => void,
    taskFaults: TaskFaults = {},
  ) {
    const { account } = sandbox;
    /** Ids of service-side things (request ids, messages), apart from the account's so its ARNs do not move. */
    const serviceIds = new IdSource(7);
    const note = (text: string) => this.note(text);
    this.scheduler = new Scheduler(account.clock, { horizonMs: HORIZON_MS, inFlightMs: IN_FLIGHT_MS });
    const faults = new TaskFaultQueue(taskFaults, {
      firstExecution: () => this.executions[0],
      scheduler: this.scheduler,
      note,
    });
    this.stack = sandbox.stack;
    const diffProjectName = requiredSubstitution(this.stack, 'DiffProjectName');
    const diffText = readFixture(scenario.world.diffFixture);
    const functionFaults = new Map(Object.entries(scenario.world.functionFaults ?? {}));
    const policies = stackPolicySource(this.stack);
    this.sqs = new SimulatedSqs(
      this.stack.queues.map((queue) => queue.arn),
      account.clock,
      serviceIds,
    );
    const deliveryContext = {
      stack: this.stack,
      policies,
      authorizations: this.authorizations,
      note,
    };
    this.cloudwatch = new SimulatedCloudWatch(
      this.stack.alarms,
      account.clock,
      account.region,
      account.accountId,
      (metric) => this.gauge(metric),
      (notification) => deliverAlarm({ ...deliveryContext, account }, notification),
    );
    this.sqs.onSent((queueArn) => {
      const queue = this.stack.queues.find((candidate) => candidate.arn === queueArn)!;
      this.cloudwatch.record(sqsMetric('NumberOfMessagesSent', queue.name));
    });
    const handlers = buildHandlers(
      account,
      this.stack,
      roleAuthorizer(this.stack, account),
      this.scheduler,
      { logLines: this.logLines, requests: this.requests, authorizations: this.authorizations },
      scenario.world.smokeTiming,
    );
    const functions = new FunctionHandlers(this.stack.functions, handlers, functionFaults, note);
    const authorize: TaskAuthorizer = (...check) => authorizeTask(deliveryContext, ...check);
    this.taskInvokers = new TaskInvokers({
      account,
      expireTaskToken: (token) => sandbox.expireTaskToken(token),
      scheduler: this.scheduler,
      functions,
      faults,
      authorizeTask: authorize,
      diffBuild: new DiffBuild({
        account,
        stack: this.stack,
        scheduler: this.scheduler,
        authorizeTask: authorize,
        projectName: diffProjectName,
        diffBucket: sandbox.resources.diffBucket,
        diffText,
      }),
      infrastructureBuilds: infrastructureBuildsFor(scenario.world, {
        account,
        stack: this.stack,
        scheduler: this.scheduler,
        authorizeTask: authorize,
        artifactsBucket: sandbox.resources.diffBucket,
      }),
      horizonMs: HORIZON_MS,
    });
    const definition = substitute(this.stack.definitionSubstitutions);
    this.definition = definition as unknown as AslDefinition;
    this.stateMachine = stateMachineFor(withoutLibraryTimeouts(definition));
    checkManagedRuleGrant(this.definition, this.stack, policies);
    const serviceContext = { ...deliveryContext, cloudwatch: this.cloudwatch, sqs: this.sqs };
    const asyncInvocation = new AsyncInvocation({
      ...serviceContext,
      functions,
      clock: account.clock,
      scheduler: this.scheduler,
      serviceIds,
    });
    new EventRouting({
      ...serviceContext,
      bus: account.bus,
      startExecution: (name, input, trigger) => this.startExecution(name, input, trigger),
      deliverDeploymentEvent: (event) => asyncInvocation.deliverDeploymentEvent(event),
    }).routeEvents();
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
    const { stateMachineArn } = this.stack;
    const arn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    if (this.executions.some((execution) => execution.name === name) || this.sandbox.executionExists(arn)) {
      this.refusedStarts.push(name);
      this.note(
        `StartExecution ${name} refused: ExecutionAlreadyExists (an execution of that name ran already; ` +
          'Step Functions keeps names unique per state machine for 90 days; to deploy the same image again, ' +
          'send it with "redeploy": true).',
      );
      return;
    }
    const execution = new SimulatedExecution(
      {
        name,
        arn,
        stateMachineArn,
        roleArn: this.stack.stateMachineRoleArn,
        input,
        trigger,
      },
      {
        stateMachine: this.stateMachine,
        definition: this.definition,
        clock: this.clock,
        scheduler: this.scheduler,
        invokerFor: (stateName, state) => this.taskInvokers.invokerFor(stateName, state),
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

  startFromInput(input: unknown, description: string, executionName?: string): void {
    const name =
      executionName ??
      manualExecutionName(input, this.clock.now()) ??
      `sandbox-input-${this.executions.length + 1}`;
    this.startExecution(name, input, { kind: 'input', description });
  }

  /**
   * Runs `deliver` after `seconds` of virtual time (the next push of a release, the next `--input`
   * event): the scheduler keeps the run going until it has.
   */
  later(seconds: number, label: string, deliver: () => void | Promise<void>): void {
    void this.scheduler.spawn(async () => {
      await this.scheduler.sleep(seconds * 1000, label);
      await deliver();
    });
  }

  /** CI pushes a rebuilt image of one container with a tag it already pushed: a new digest. */
  private pushRebuilt(push: { container: string; tag: string }, description: string): void {
    const environment = rehearsalEnvironment(this.sandbox.account.environments);
    const [image] = releasePushes(environment, push.tag, [push.container]);
    this.note(`${description}: ${image!.repository}:${push.tag}`);
    this.sandbox.pushImage(image!.repository, push.tag, {
      emitEvent: true,
      digest: rebuiltDigest(image!.repository, push.tag),
    });
  }

  /** The current value of a level metric: a queue's visible messages (nothing in the stack reads them). */
  private gauge(metric: MetricId): number {
    const queue = this.stack.queues.find((candidate) => candidate.name === metric.dimensions.QueueName);
    return queue ? this.sqs.messages(queue.arn).length : 0;
  }

  private recordTaskMetrics(record: StateRecord): void {
    const state = this.definition.States[record.name];
    const metrics = taskMetrics(
      record,
      state,
      (arn) => this.stack.functions.find((fn) => fn.functionArn === arn)?.functionName,
    );
    for (const { metric, atMs } of metrics) this.cloudwatch.record(metric, 1, atMs);
  }

  private stateClosed(execution: SimulatedExecution, record: StateRecord): void {
    this.onProgress({ kind: 'state', at: record.leftAtMs, execution, record });
    this.recordTaskMetrics(record);
    if (execution !== this.executions[0] || record.status !== 'SUCCEEDED') return;
    for (const followUp of this.followUps ?? []) {
      if (followUp.afterState !== record.name || this.followUpsSent.has(followUp.afterState)) continue;
      this.followUpsSent.add(followUp.afterState);
      if ('push' in followUp) {
        this.pushRebuilt(followUp.push, followUp.description);
        continue;
      }
      const name =
        manualExecutionName(followUp.input, this.clock.now()) ??
        `sandbox-request-${this.executions.length + 1}`;
      this.sandbox.provideRequestedImages(followUp.input);
      this.startExecution(name, followUp.input, { kind: 'request', description: followUp.description });
    }
  }
}
