import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  TagResourceCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import { createSimulatedAccount } from '../../../sandbox/account';
import type { SimulatedAccount } from '../../../sandbox/account/simulated-account';
import { afu9TimingModel, secondsUntilHealthy, secondsUntilUnhealthy } from '../../../sandbox/timing-model';
import { advanceUntil, secondsSince } from './support';

const cluster = 'afu9-cluster';
const service = 'afu9-control-center-staging';
const t = afu9TimingModel;
/** From a task launch to its containers running. */
const startSeconds =
  t.provisioningSeconds + t.imagePullSeconds + t.secretFetchSeconds + t.containerStartSeconds;

async function describe1(account: SimulatedAccount): Promise<Service> {
  const result = await account.clients.ecs.send(
    new DescribeServicesCommand({ cluster, services: [service] }),
  );
  return result.services![0]!;
}

/** Registers a copy of the running revision with the primary container on `imageTag`, and deploys it. */
async function deploy(account: SimulatedAccount, imageTag: string, options: { push?: boolean } = {}) {
  const digest =
    options.push === false
      ? `sha256:${'0'.repeat(64)}`
      : account.ecr.pushImage('afu9/control-center', imageTag);
  const running = await account.clients.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: account.ecs.primaryTaskDefinition('staging') }),
  );
  const current = running.taskDefinition!;
  const registered = await account.clients.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: current.family,
      executionRoleArn: current.executionRoleArn,
      taskRoleArn: current.taskRoleArn,
      networkMode: current.networkMode,
      requiresCompatibilities: current.requiresCompatibilities,
      cpu: current.cpu,
      memory: current.memory,
      containerDefinitions: current.containerDefinitions!.map((c) =>
        c.name === 'control-center'
          ? { ...c, image: `123456789012.dkr.ecr.eu-central-1.amazonaws.com/afu9/control-center@${digest}` }
          : c,
      ),
      tags: [{ key: 'afu9:execution-id', value: 'exec-1' }],
    }),
  );
  const updated = await account.clients.ecs.send(
    new UpdateServiceCommand({
      cluster,
      service,
      taskDefinition: registered.taskDefinition!.taskDefinitionArn,
    }),
  );
  const deployment = updated.service!.deployments!.find((d) => d.status === 'PRIMARY')!;
  return {
    previous: current.taskDefinitionArn!,
    next: registered.taskDefinition!.taskDefinitionArn!,
    deploymentId: deployment.id!,
  };
}

function deploymentEvents(account: SimulatedAccount) {
  return account.bus.history
    .filter((e) => e['detail-type'] === 'ECS Deployment State Change')
    .map((e) => ({
      eventName: e.detail.eventName,
      deploymentId: e.detail.deploymentId,
      reason: e.detail.reason,
    }));
}

async function stoppedTasks(account: SimulatedAccount) {
  const listed = await account.clients.ecs.send(
    new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'STOPPED' }),
  );
  if (!listed.taskArns?.length) return [];
  const described = await account.clients.ecs.send(
    new DescribeTasksCommand({ cluster, tasks: listed.taskArns }),
  );
  return described.tasks!;
}

describe('simulated ECS rolling deployment', () => {
  let account: SimulatedAccount;
  afterEach(async () => account.close());

  it("completes a healthy rollout at the timing model's times, with the steady-state event and ECS events", async () => {
    // Prepare
    account = await createSimulatedAccount();
    const start = account.clock.nowMillis();

    // Act
    const { next, previous, deploymentId } = await deploy(account, 'stage-abcdef1');
    advanceUntil(account.clock, () =>
      deploymentEvents(account).some((e) => e.eventName === 'SERVICE_DEPLOYMENT_COMPLETED'),
    );

    // Assess
    const completedAfter = t.schedulerLaunchSeconds + secondsUntilHealthy(t) + t.deregistrationDelaySeconds;
    expect(secondsSince(account.clock, start)).toBe(completedAfter + t.eventDeliverySeconds);
    const state = await describe1(account);
    expect(state.deployments).toEqual([
      expect.objectContaining({
        id: deploymentId,
        status: 'PRIMARY',
        taskDefinition: next,
        rolloutState: 'COMPLETED',
        runningCount: 1,
        failedTasks: 0,
      }),
    ]);
    expect(deploymentId).toMatch(/^ecs-svc\/\d{19}$/);
    expect(state.taskDefinition).not.toBe(previous);
    expect(state.events![0]!.message).toBe(`(service ${service}) has reached a steady state.`);
    expect(state.events!.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/has started 1 tasks: \(task [0-9a-f]{32}\)\./),
    );
    expect(deploymentEvents(account)).toEqual([
      {
        eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
        deploymentId,
        reason: `ECS deployment ${deploymentId} in progress.`,
      },
      {
        eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
        deploymentId,
        reason: `ECS deployment ${deploymentId} completed.`,
      },
    ]);
    const completed = account.bus.history.at(-1)!;
    expect(completed).toMatchObject({
      source: 'aws.ecs',
      resources: [state.serviceArn],
      detail: { eventType: 'INFO' },
    });
    expect(account.ecs.servingRevision('staging')?.taskDefinitionArn).toBe(next);
  });

  it('keeps the old revision serving while new tasks start, then drains it', async () => {
    account = await createSimulatedAccount();
    const { previous, next } = await deploy(account, 'stage-abcdef1');

    account.clock.advanceBy((t.schedulerLaunchSeconds + startSeconds) * 1000);
    expect(account.ecs.servingRevision('staging')?.taskDefinitionArn).toBe(previous);
    expect((await describe1(account)).deployments!.map((d) => d.status)).toEqual(['PRIMARY', 'ACTIVE']);

    account.clock.advanceBy(t.healthyThresholdCount * t.healthCheckIntervalSeconds * 1000);
    expect(account.ecs.servingRevision('staging')?.taskDefinitionArn).toBe(next);
  });

  it('fails a crash-on-boot revision by the circuit breaker at exactly 3 failed tasks, and ECS rolls back', async () => {
    account = await createSimulatedAccount({
      behaviours: { 'stage-crash01': { kind: 'crash-on-boot', exitCode: 1 } },
    });
    const start = account.clock.nowMillis();
    const { previous, next, deploymentId } = await deploy(account, 'stage-crash01');

    advanceUntil(account.clock, () =>
      deploymentEvents(account).some((e) => e.eventName === 'SERVICE_DEPLOYMENT_FAILED'),
    );

    const perAttempt = t.schedulerLaunchSeconds + startSeconds + t.crashAfterStartSeconds;
    expect(secondsSince(account.clock, start)).toBe(3 * perAttempt + t.eventDeliverySeconds);
    const failedState = await describe1(account);
    const failed = failedState.deployments!.find((d) => d.id === deploymentId)!;
    expect(failed).toMatchObject({
      rolloutState: 'FAILED',
      failedTasks: 3,
      rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
      taskDefinition: next,
    });
    expect(failedState.events!.map((e) => e.message)).toContain(
      `(service ${service}) (deployment ${deploymentId}) deployment failed: tasks failed to start.`,
    );
    const stopped = await stoppedTasks(account);
    expect(stopped).toHaveLength(3);
    expect(stopped[0]).toMatchObject({
      stoppedReason: 'Essential container in task exited',
      stopCode: 'EssentialContainerExited',
    });
    expect(stopped[0]!.containers!.find((c) => c.name === 'control-center')!.exitCode).toBe(1);

    advanceUntil(
      account.clock,
      () =>
        deploymentEvents(account).filter((e) => e.eventName === 'SERVICE_DEPLOYMENT_COMPLETED').length === 1,
    );
    const rolledBack = await describe1(account);
    const [rollback] = rolledBack.deployments!;
    expect(rolledBack.deployments).toHaveLength(1);
    expect(rollback).toMatchObject({
      status: 'PRIMARY',
      rolloutState: 'COMPLETED',
      taskDefinition: previous,
    });
    expect(rollback!.id).not.toBe(deploymentId);
    expect(deploymentEvents(account).map((e) => e.eventName)).toEqual([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_FAILED',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_COMPLETED',
    ]);
    expect(deploymentEvents(account)[2]!.reason).toMatch(
      /^ECS deployment circuit breaker: rolling back to deploymentId ecs-svc\/\d{19}\.$/,
    );
    expect(rolledBack.events![0]!.message).toBe(`(service ${service}) has reached a steady state.`);
    expect(account.ecs.servingRevision('staging')?.taskDefinitionArn).toBe(previous);
  });

  it('scales the circuit breaker threshold with the desired count and leaves a failed deployment without rollback', async () => {
    account = await createSimulatedAccount({
      services: { staging: { desiredCount: 10, circuitBreakerRollback: false } },
      behaviours: { 'stage-crash01': { kind: 'crash-on-boot', exitCode: 137 } },
    });
    const { deploymentId, previous } = await deploy(account, 'stage-crash01');

    advanceUntil(account.clock, () =>
      deploymentEvents(account).some((e) => e.eventName === 'SERVICE_DEPLOYMENT_FAILED'),
    );
    account.clock.advanceBy(3_600_000);

    const state = await describe1(account);
    expect(state.deployments![0]).toMatchObject({ id: deploymentId, rolloutState: 'FAILED' });
    expect(state.deployments![0]!.failedTasks).toBe(5);
    expect(state.deployments![1]).toMatchObject({
      status: 'ACTIVE',
      taskDefinition: previous,
      runningCount: 10,
    });
    expect(account.ecs.servingRevision('staging')?.taskDefinitionArn).toBe(previous);
  });

  it('stops a task whose image is not in ECR with CannotPullContainerError and emits its task state change', async () => {
    account = await createSimulatedAccount();
    await deploy(account, 'stage-missing', { push: false });

    advanceUntil(account.clock, () =>
      deploymentEvents(account).some((e) => e.eventName === 'SERVICE_DEPLOYMENT_FAILED'),
    );

    const [task] = await stoppedTasks(account);
    expect(task!.stopCode).toBe('TaskFailedToStart');
    expect(task!.stoppedReason).toMatch(
      /^CannotPullContainerError: pull image manifest has been retried \d+ time\(s\): failed to resolve ref .*afu9\/control-center@sha256:0+: .*not found$/,
    );
    const taskEvent = account.bus.history.find(
      (e) => e['detail-type'] === 'ECS Task State Change' && e.resources[0] === task!.taskArn,
    );
    expect(taskEvent).toMatchObject({
      source: 'aws.ecs',
      resources: [task!.taskArn],
      detail: {
        lastStatus: 'STOPPED',
        stopCode: 'TaskFailedToStart',
        group: `service:${service}`,
        stoppedReason: task!.stoppedReason,
      },
    });
  });

  it('stops a task whose secret was deleted with ResourceInitializationError', async () => {
    account = await createSimulatedAccount();
    account.secretsManager.setCondition('afu9/github', { state: 'pending-deletion' });
    await deploy(account, 'stage-abcdef1');

    advanceUntil(account.clock, () =>
      deploymentEvents(account).some((e) => e.eventName === 'SERVICE_DEPLOYMENT_FAILED'),
    );

    const [task] = await stoppedTasks(account);
    expect(task!.stoppedReason).toMatch(
      /^ResourceInitializationError: unable to pull secrets or registry auth: .*afu9\/github-[A-Za-z]{6}.*InvalidRequestException: You can't perform this operation on the secret because it was marked for deletion\.$/,
    );
  });

  it('stops a task that never passes health checks after start period + retries × interval', async () => {
    account = await createSimulatedAccount({
      behaviours: { 'stage-unhealthy': { kind: 'fail-health-check' } },
    });
    const start = account.clock.nowMillis();
    await deploy(account, 'stage-unhealthy');

    const failsAfter = t.schedulerLaunchSeconds + startSeconds + secondsUntilUnhealthy(t);
    account.clock.advanceTo(start + (failsAfter - 1) * 1000);
    expect(await stoppedTasks(account)).toHaveLength(0);
    account.clock.advanceTo(start + failsAfter * 1000);

    expect(secondsUntilUnhealthy(t)).toBe(120 + 5 * 30);
    const [task] = await stoppedTasks(account);
    expect(task!.stoppedReason).toMatch(
      /^Task failed ELB health checks in \(target-group arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup\/staging-tg\/[0-9a-f]{16}\)$/,
    );
  });

  it('withholds a dropped deployment event and delivers a duplicated one twice, the service state unchanged', async () => {
    account = await createSimulatedAccount();
    account.faults.injectEvent({
      eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
      action: 'duplicate',
      seconds: 1,
    });
    account.faults.injectEvent({ eventName: 'SERVICE_DEPLOYMENT_COMPLETED', action: 'drop' });
    const { deploymentId } = await deploy(account, 'stage-abcdef1');

    account.clock.advanceBy(3_600_000);

    expect(deploymentEvents(account).map((e) => e.eventName)).toEqual([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
    ]);
    expect((await describe1(account)).deployments![0]).toMatchObject({
      id: deploymentId,
      rolloutState: 'COMPLETED',
    });
    expect(account.faults.struck).toEqual([
      'event duplicate: ECS Deployment State Change SERVICE_DEPLOYMENT_IN_PROGRESS',
      'event drop: ECS Deployment State Change SERVICE_DEPLOYMENT_COMPLETED',
    ]);
  });

  it('keeps task definition tags, and tags services and revisions on request', async () => {
    account = await createSimulatedAccount();
    const { next } = await deploy(account, 'stage-abcdef1');

    const described = await account.clients.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: next, include: ['TAGS'] }),
    );
    await account.clients.ecs.send(
      new TagResourceCommand({ resourceArn: next, tags: [{ key: 'afu9:outcome', value: 'deployed' }] }),
    );
    const listed = await account.clients.ecs.send(new ListTagsForResourceCommand({ resourceArn: next }));
    const newest = await account.clients.ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: 'afu9-control-center-staging',
        sort: 'DESC',
        maxResults: 1,
      }),
    );

    expect(described.tags).toEqual([{ key: 'afu9:execution-id', value: 'exec-1' }]);
    expect(listed.tags).toEqual([
      { key: 'afu9:execution-id', value: 'exec-1' },
      { key: 'afu9:outcome', value: 'deployed' },
    ]);
    expect(newest.taskDefinitionArns).toEqual([next]);
    expect(next).toMatch(
      /^arn:aws:ecs:eu-central-1:123456789012:task-definition\/afu9-control-center-staging:\d+$/,
    );
  });
});
