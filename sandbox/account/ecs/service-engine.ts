/**
 * ECS's service scheduler for rolling deployments (minimum healthy 100 %, maximum 200 %) on the
 * virtual clock: a deployment launches tasks that are provisioned, pull their images, fetch their
 * secrets, start, and then pass or fail health checks per the revision's behaviour. Failed tasks are
 * replaced; the deployment circuit breaker fails the deployment at ECS's documented threshold and,
 * with rollback on, starts a deployment back to the last COMPLETED revision. Once the new tasks are
 * healthy the old ones drain (deregistration delay) and the deployment COMPLETES. State changes
 * produce the service events and `ECS Deployment State Change` events ECS produces.
 */
import type { Tag } from '@aws-sdk/client-ecs';
import type { TimingModel } from '../../timing-model';
import type { SimulatedEcr } from '../ecr';
import { parseImageUri } from '../ecr';
import type { SimulatedEventBus } from '../event-bus';
import type { IdSource } from '../ids';
import type { SecretFetchOutcome, SimulatedSecretsManager } from '../secrets-manager';
import type { RevisionBehaviour } from '../simulated-account';
import type { ScheduledAction, VirtualClock } from '../virtual-clock';
import type { StoredRevision, TaskDefinitionRegistry } from './task-definitions';

export type DeploymentStatus = 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
export type RolloutState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

export interface SimDeployment {
  readonly id: string;
  status: DeploymentStatus;
  readonly taskDefinitionArn: string;
  desiredCount: number;
  failedTasks: number;
  readonly createdAt: Date;
  updatedAt: Date;
  rolloutState: RolloutState;
  rolloutStateReason: string;
}

export type TaskLastStatus = 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'DEACTIVATING' | 'STOPPED';

export interface SimContainer {
  readonly name: string;
  readonly image: string;
  readonly essential: boolean;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  healthStatus: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';
  exitCode?: number;
  reason?: string;
}

export interface SimTask {
  readonly arn: string;
  readonly id: string;
  readonly serviceName: string;
  readonly deploymentId: string;
  readonly taskDefinitionArn: string;
  readonly behaviour: RevisionBehaviour;
  lastStatus: TaskLastStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  healthStatus: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';
  /** Deregistered from the target group: takes no traffic, stops after the deregistration delay. */
  draining: boolean;
  readonly createdAt: Date;
  pullStartedAt?: Date;
  pullStoppedAt?: Date;
  startedAt?: Date;
  stoppingAt?: Date;
  stoppedAt?: Date;
  stoppedReason?: string;
  stopCode?: 'TaskFailedToStart' | 'EssentialContainerExited' | 'ServiceSchedulerInitiated';
  readonly containers: SimContainer[];
  pending?: ScheduledAction;
}

export interface ServiceEvent {
  readonly id: string;
  readonly createdAt: Date;
  readonly message: string;
}

export interface SimService {
  readonly name: string;
  readonly arn: string;
  readonly clusterArn: string;
  readonly targetGroupArn: string;
  /** The container (and port) the load balancer's target group routes to: the primary one. */
  readonly loadBalancedContainer: { readonly name: string; readonly port?: number };
  readonly createdAt: Date;
  desiredCount: number;
  readonly circuitBreaker: { readonly enable: boolean; readonly rollback: boolean };
  /** PRIMARY first, then ACTIVE ones; INACTIVE ones are dropped, as DescribeServices does. */
  deployments: SimDeployment[];
  /** Newest first, at most 100 (what DescribeServices returns). */
  events: ServiceEvent[];
  tags: Tag[];
  /** The last deployment that reached COMPLETED: where the circuit breaker rolls back to. */
  lastCompleted?: SimDeployment;
  reconcileScheduled?: ScheduledAction;
}

const MAX_SERVICE_EVENTS = 100;

/** ECS's circuit breaker threshold: 0.5 × desired count, at least 3, at most 200 failed tasks. */
function circuitBreakerThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(3, Math.ceil(0.5 * desiredCount)));
}

export interface EngineDependencies {
  readonly clock: VirtualClock;
  readonly timing: TimingModel;
  readonly ids: IdSource;
  readonly bus: SimulatedEventBus;
  readonly ecr: SimulatedEcr;
  readonly secrets: SimulatedSecretsManager;
  readonly taskDefinitions: TaskDefinitionRegistry;
  readonly account: { readonly accountId: string; readonly region: string };
  /** The behaviour of a revision, chosen by the scenario per image. */
  readonly behaviourOf: (revision: StoredRevision) => RevisionBehaviour;
}

export class ServiceEngine {
  readonly services = new Map<string, SimService>();
  readonly tasks: SimTask[] = [];

  constructor(private readonly deps: EngineDependencies) {}

  private seconds(value: number): number {
    return value * 1000;
  }

  addEvent(service: SimService, message: string): void {
    service.events.unshift({
      id: this.deps.ids.uuid(),
      createdAt: this.deps.clock.now(),
      message: `(service ${service.name}) ${message}`,
    });
    service.events.length = Math.min(service.events.length, MAX_SERVICE_EVENTS);
  }

  tasksOf(deploymentId: string): SimTask[] {
    return this.tasks.filter((task) => task.deploymentId === deploymentId);
  }

  private alive(task: SimTask): boolean {
    return task.lastStatus !== 'STOPPED';
  }

  /** Serving traffic: running, healthy, and not deregistered. */
  isServing(task: SimTask): boolean {
    return task.lastStatus === 'RUNNING' && task.healthStatus === 'HEALTHY' && !task.draining;
  }

  private emitDeploymentEvent(
    service: SimService,
    deployment: SimDeployment,
    eventName:
      'SERVICE_DEPLOYMENT_IN_PROGRESS' | 'SERVICE_DEPLOYMENT_COMPLETED' | 'SERVICE_DEPLOYMENT_FAILED',
    reason: string,
  ): void {
    this.deps.bus.emit('aws.ecs', 'ECS Deployment State Change', [service.arn], {
      eventType: eventName === 'SERVICE_DEPLOYMENT_FAILED' ? 'ERROR' : 'INFO',
      eventName,
      deploymentId: deployment.id,
      updatedAt: this.deps.clock
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      reason,
    });
  }

  /**
   * Starts a rolling deployment of `taskDefinitionArn`: it becomes PRIMARY, the previous ones
   * ACTIVE until their tasks have drained.
   */
  startDeployment(
    service: SimService,
    taskDefinitionArn: string,
    options: { readonly deploymentId?: string; readonly rollingBackTo?: SimDeployment } = {},
  ): SimDeployment {
    const now = this.deps.clock.now();
    const id = options.deploymentId ?? this.deps.ids.deploymentId();
    const reason = options.rollingBackTo
      ? `ECS deployment circuit breaker: rolling back to deploymentId ${options.rollingBackTo.id}.`
      : `ECS deployment ${id} in progress.`;
    for (const existing of service.deployments) {
      if (existing.status === 'PRIMARY') {
        existing.status = 'ACTIVE';
        existing.updatedAt = now;
      }
    }
    const deployment: SimDeployment = {
      id,
      status: 'PRIMARY',
      taskDefinitionArn,
      desiredCount: service.desiredCount,
      failedTasks: 0,
      createdAt: now,
      updatedAt: now,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: reason,
    };
    service.deployments.unshift(deployment);
    this.emitDeploymentEvent(service, deployment, 'SERVICE_DEPLOYMENT_IN_PROGRESS', reason);
    this.scheduleReconcile(service);
    return deployment;
  }

  /** Changes how many tasks the service runs; the scheduler launches or drains to match. */
  setDesiredCount(service: SimService, desiredCount: number): void {
    service.desiredCount = desiredCount;
    const primary = service.deployments[0];
    if (primary) primary.desiredCount = desiredCount;
    this.scheduleReconcile(service);
  }

  scheduleReconcile(service: SimService): void {
    if (service.reconcileScheduled) return;
    service.reconcileScheduled = this.deps.clock.schedule(
      this.seconds(this.deps.timing.schedulerLaunchSeconds),
      `ecs scheduler ${service.name}`,
      () => {
        service.reconcileScheduled = undefined;
        this.reconcile(service);
      },
    );
  }

  /** The service scheduler's pass: launch what is missing, drain what is replaced, finish. */
  private reconcile(service: SimService): void {
    const primary = service.deployments[0];
    if (!primary) return;
    const primaryTasks = this.tasksOf(primary.id).filter((task) => this.alive(task) && !task.draining);
    if (primary.rolloutState !== 'FAILED') {
      for (let i = primaryTasks.length; i < primary.desiredCount; i++) this.launchTask(service, primary);
      const excess = primaryTasks.filter((task) => this.isServing(task)).slice(primary.desiredCount);
      for (const task of excess) this.drain(service, task, primary);
    }
    const serving = this.tasksOf(primary.id).filter((task) => this.isServing(task)).length;
    if (serving < primary.desiredCount) return;

    const replaced = service.deployments.slice(1);
    const toRetire = replaced
      .flatMap((deployment) => this.tasksOf(deployment.id))
      .filter((t) => this.alive(t) && !t.draining);
    for (const task of toRetire) this.drain(service, task, primary);
    for (const deployment of replaced) deployment.desiredCount = 0;
    const stillDraining = replaced.some((deployment) =>
      this.tasksOf(deployment.id).some((t) => this.alive(t)),
    );
    if (stillDraining) return;
    for (const deployment of replaced) {
      deployment.status = 'INACTIVE';
      deployment.updatedAt = this.deps.clock.now();
    }
    service.deployments = [primary];
    if (primary.rolloutState === 'IN_PROGRESS') this.complete(service, primary);
  }

  private complete(service: SimService, deployment: SimDeployment): void {
    const reason = `ECS deployment ${deployment.id} completed.`;
    deployment.rolloutState = 'COMPLETED';
    deployment.rolloutStateReason = reason;
    deployment.updatedAt = this.deps.clock.now();
    service.lastCompleted = deployment;
    this.addEvent(service, `(deployment ${deployment.id}) deployment completed.`);
    this.addEvent(service, 'has reached a steady state.');
    this.emitDeploymentEvent(service, deployment, 'SERVICE_DEPLOYMENT_COMPLETED', reason);
  }

  private launchTask(service: SimService, deployment: SimDeployment): void {
    const revision = this.deps.taskDefinitions.findByArn(deployment.taskDefinitionArn);
    if (!revision) throw new Error(`The sandbox lost task definition ${deployment.taskDefinitionArn}.`);
    const task: SimTask = {
      ...this.newTaskIdentity(service),
      serviceName: service.name,
      deploymentId: deployment.id,
      taskDefinitionArn: revision.arn,
      behaviour: this.deps.behaviourOf(revision),
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      healthStatus: 'UNKNOWN',
      draining: false,
      createdAt: this.deps.clock.now(),
      containers: (revision.definition.containerDefinitions ?? []).map((c) => ({
        name: c.name ?? '',
        image: c.image ?? '',
        essential: c.essential ?? true,
        lastStatus: 'PENDING',
        healthStatus: 'UNKNOWN',
      })),
    };
    this.tasks.push(task);
    this.addEvent(service, `has started 1 tasks: (task ${task.id}).`);
    const timing = this.deps.timing;
    this.after(task, timing.provisioningSeconds, 'provisioned', () => {
      task.lastStatus = 'PENDING';
      task.pullStartedAt = this.deps.clock.now();
      this.after(task, timing.imagePullSeconds, 'image pull', () => this.pulled(service, task, revision));
    });
  }

  private after(task: SimTask, seconds: number, step: string, run: () => void): void {
    task.pending = this.deps.clock.schedule(this.seconds(seconds), `task ${task.id} ${step}`, () => {
      task.pending = undefined;
      run();
    });
  }

  private pulled(service: SimService, task: SimTask, revision: StoredRevision): void {
    const missing = task.containers.find((container) => !this.imageExists(container.image));
    if (missing) {
      const ref = missing.image;
      this.stopFailed(service, task, {
        reason: `CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref ${ref}: ${ref}: not found`,
        stopCode: 'TaskFailedToStart',
      });
      return;
    }
    task.pullStoppedAt = this.deps.clock.now();
    this.after(task, this.deps.timing.secretFetchSeconds, 'secret fetch', () => {
      const failed = this.secretFailure(revision);
      if (failed) {
        this.stopFailed(service, task, { reason: failed, stopCode: 'TaskFailedToStart' });
        return;
      }
      this.after(task, this.deps.timing.containerStartSeconds, 'container start', () =>
        this.started(service, task),
      );
    });
  }

  private imageExists(uri: string): boolean {
    const parsed = parseImageUri(uri);
    if (!parsed || parsed.registry !== this.deps.ecr.registry) return false;
    return (
      this.deps.ecr.findImage(parsed.repository, { tag: parsed.tag, digest: parsed.digest }) !== undefined
    );
  }

  private secretFailure(revision: StoredRevision): string | undefined {
    for (const container of revision.definition.containerDefinitions ?? []) {
      for (const secret of container.secrets ?? []) {
        const outcome: SecretFetchOutcome = this.deps.secrets.fetchForTask(secret.valueFrom ?? '');
        if (!outcome.ok) return outcome.reason;
      }
    }
    return undefined;
  }

  private started(service: SimService, task: SimTask): void {
    const timing = this.deps.timing;
    task.lastStatus = 'RUNNING';
    task.startedAt = this.deps.clock.now();
    for (const container of task.containers) container.lastStatus = 'RUNNING';
    this.emitTaskStateChange(task);
    this.addEvent(service, `registered 1 targets in (target-group ${service.targetGroupArn})`);
    const behaviour = task.behaviour;
    switch (behaviour.kind) {
      case 'crash-on-boot':
        this.after(task, timing.crashAfterStartSeconds, 'crash', () => {
          const essential = task.containers.find((c) => c.essential);
          for (const container of task.containers) {
            container.lastStatus = 'STOPPED';
            container.exitCode = container === essential ? behaviour.exitCode : 143;
          }
          this.stopFailed(service, task, {
            reason: 'Essential container in task exited',
            stopCode: 'EssentialContainerExited',
          });
        });
        return;
      case 'fail-health-check':
        this.after(
          task,
          timing.healthCheckStartPeriodSeconds +
            timing.healthCheckRetries * timing.healthCheckIntervalSeconds,
          'health checks failed',
          () => {
            task.healthStatus = 'UNHEALTHY';
            for (const container of task.containers) container.healthStatus = 'UNHEALTHY';
            this.addEvent(
              service,
              `(task ${task.id}) (port ${this.primaryPort(task)}) is unhealthy in (target-group ${service.targetGroupArn}) due to (reason Health checks failed).`,
            );
            for (const container of task.containers) {
              container.lastStatus = 'STOPPED';
              container.exitCode = 143;
            }
            this.stopFailed(service, task, {
              reason: `Task failed ELB health checks in (target-group ${service.targetGroupArn})`,
              stopCode: 'ServiceSchedulerInitiated',
            });
          },
        );
        return;
      case 'healthy':
      case 'not-ready':
        this.after(task, timing.healthyThresholdCount * timing.healthCheckIntervalSeconds, 'healthy', () => {
          task.healthStatus = 'HEALTHY';
          for (const container of task.containers) container.healthStatus = 'HEALTHY';
          this.reconcile(service);
        });
        return;
    }
  }

  private primaryPort(task: SimTask): number {
    const revision = this.deps.taskDefinitions.findByArn(task.taskDefinitionArn);
    return revision?.definition.containerDefinitions?.[0]?.portMappings?.[0]?.containerPort ?? 80;
  }

  private stopFailed(
    service: SimService,
    task: SimTask,
    stop: { readonly reason: string; readonly stopCode: NonNullable<SimTask['stopCode']> },
  ): void {
    const wasRunning = task.lastStatus === 'RUNNING';
    this.markStopped(task, stop.reason, stop.stopCode);
    if (wasRunning) this.addEvent(service, `has stopped 1 running tasks: (task ${task.id}).`);
    const deployment = service.deployments.find((d) => d.id === task.deploymentId);
    if (deployment && deployment.status === 'PRIMARY' && deployment.rolloutState === 'IN_PROGRESS') {
      deployment.failedTasks += 1;
      deployment.updatedAt = this.deps.clock.now();
      if (
        service.circuitBreaker.enable &&
        deployment.failedTasks >= circuitBreakerThreshold(deployment.desiredCount)
      ) {
        this.fail(service, deployment);
        return;
      }
    }
    this.scheduleReconcile(service);
  }

  private markStopped(task: SimTask, reason: string, stopCode: NonNullable<SimTask['stopCode']>): void {
    if (task.pending) this.deps.clock.cancel(task.pending);
    task.pending = undefined;
    const now = this.deps.clock.now();
    task.lastStatus = 'STOPPED';
    task.desiredStatus = 'STOPPED';
    task.stoppingAt ??= now;
    task.stoppedAt = now;
    task.stoppedReason = reason;
    task.stopCode = stopCode;
    for (const container of task.containers) {
      if (container.lastStatus !== 'STOPPED') {
        container.lastStatus = 'STOPPED';
        if (task.startedAt) container.exitCode = 0;
      }
    }
    this.emitTaskStateChange(task);
  }

  /**
   * The `ECS Task State Change` event ECS emits when a task reaches RUNNING or STOPPED (the detail
   * is the task, as DescribeTasks shows it), so a rule can react to a task that failed to start.
   */
  private emitTaskStateChange(task: SimTask): void {
    const times = Object.fromEntries(
      Object.entries({
        createdAt: task.createdAt,
        pullStartedAt: task.pullStartedAt,
        pullStoppedAt: task.pullStoppedAt,
        startedAt: task.startedAt,
        stoppingAt: task.stoppingAt,
        stoppedAt: task.stoppedAt,
      }).flatMap(([name, date]) => (date ? [[name, date.toISOString()]] : [])),
    );
    const clusterArn = this.services.get(task.serviceName)?.clusterArn ?? '';
    this.deps.bus.emit('aws.ecs', 'ECS Task State Change', [task.arn], {
      clusterArn,
      taskArn: task.arn,
      taskDefinitionArn: task.taskDefinitionArn,
      group: `service:${task.serviceName}`,
      startedBy: task.deploymentId,
      launchType: 'FARGATE',
      lastStatus: task.lastStatus,
      desiredStatus: task.desiredStatus,
      ...times,
      ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
      ...(task.stopCode ? { stopCode: task.stopCode } : {}),
      containers: task.containers.map((c) => ({
        containerArn: `${task.arn.replace(':task/', ':container/')}/${c.name}`,
        taskArn: task.arn,
        name: c.name,
        image: c.image,
        lastStatus: c.lastStatus,
        ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      })),
      updatedAt: this.deps.clock.now().toISOString(),
      version: task.lastStatus === 'STOPPED' ? 3 : 2,
    });
  }

  /** Fails the PRIMARY deployment in progress as the circuit breaker does at its threshold. */
  tripCircuitBreaker(service: SimService): boolean {
    const deployment = service.deployments.find(
      (d) => d.status === 'PRIMARY' && d.rolloutState === 'IN_PROGRESS',
    );
    if (!deployment || !service.circuitBreaker.enable) return false;
    this.fail(service, deployment);
    return true;
  }

  private fail(service: SimService, deployment: SimDeployment): void {
    deployment.rolloutState = 'FAILED';
    deployment.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
    deployment.updatedAt = this.deps.clock.now();
    this.addEvent(service, `(deployment ${deployment.id}) deployment failed: tasks failed to start.`);
    this.emitDeploymentEvent(
      service,
      deployment,
      'SERVICE_DEPLOYMENT_FAILED',
      'ECS deployment circuit breaker: task failed to start.',
    );
    const target = service.lastCompleted;
    if (service.circuitBreaker.rollback && target && deployment.status === 'PRIMARY') {
      this.addEvent(service, `rolling back to deployment ${target.id}.`);
      this.startDeployment(service, target.taskDefinitionArn, { rollingBackTo: target });
    }
  }

  /** Deregisters a task from the target group; ECS stops it after the deregistration delay. */
  private drain(service: SimService, task: SimTask, replacedBy: SimDeployment): void {
    const reason = `Scaling activity initiated by (deployment ${replacedBy.id})`;
    if (task.lastStatus !== 'RUNNING') {
      this.markStopped(task, reason, 'ServiceSchedulerInitiated');
      return;
    }
    task.draining = true;
    task.desiredStatus = 'STOPPED';
    task.lastStatus = 'DEACTIVATING';
    task.stoppingAt = this.deps.clock.now();
    this.addEvent(service, `has begun draining connections on 1 tasks.`);
    this.addEvent(service, `deregistered 1 targets in (target-group ${service.targetGroupArn})`);
    this.after(task, this.deps.timing.deregistrationDelaySeconds, 'deregistered', () => {
      this.markStopped(task, reason, 'ServiceSchedulerInitiated');
      this.addEvent(service, `has stopped 1 running tasks: (task ${task.id}).`);
      this.reconcile(service);
    });
  }

  /** A fresh task id and the ARN ECS gives it (the long format, which names the cluster). */
  private newTaskIdentity(service: SimService): { readonly arn: string; readonly id: string } {
    const id = this.deps.ids.hex(32);
    const clusterName = service.clusterArn.split('/').pop();
    return {
      arn: `arn:aws:ecs:${this.deps.account.region}:${this.deps.account.accountId}:task/${clusterName}/${id}`,
      id,
    };
  }

  /** A task already running and healthy when the sandbox starts (the seeded steady state). */
  seedRunningTask(
    service: SimService,
    deployment: SimDeployment,
    revision: StoredRevision,
    since: Date,
  ): void {
    this.tasks.push({
      ...this.newTaskIdentity(service),
      serviceName: service.name,
      deploymentId: deployment.id,
      taskDefinitionArn: revision.arn,
      behaviour: this.deps.behaviourOf(revision),
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      healthStatus: 'HEALTHY',
      draining: false,
      createdAt: since,
      pullStartedAt: since,
      pullStoppedAt: since,
      startedAt: since,
      containers: (revision.definition.containerDefinitions ?? []).map((c) => ({
        name: c.name ?? '',
        image: c.image ?? '',
        essential: c.essential ?? true,
        lastStatus: 'RUNNING',
        healthStatus: 'HEALTHY',
      })),
    });
  }
}
