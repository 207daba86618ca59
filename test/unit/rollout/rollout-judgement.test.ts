import { environments } from '../../support/afu9-config';
import {
  describeTaskStop,
  judgeRollout,
  type DeploymentObservation,
  type RolloutJudgementInput,
  type StoppedTaskObservation,
} from '../../../lambdas/domain/rollout-judgement';
import type { RolloutTarget } from '../../../lambdas/domain/workflow-state';
import {
  NEW_TASK_DEF,
  OLD_DEPLOYMENT,
  OLD_TASK_DEF,
  OTHER_TASK_DEF,
  OUR_DEPLOYMENT,
  ROLLBACK_DEPLOYMENT,
} from './ecs-fixtures';

const target: RolloutTarget = {
  deploymentId: OUR_DEPLOYMENT,
  taskDefinitionArn: NEW_TASK_DEF,
  previousTaskDefinitionArn: OLD_TASK_DEF,
  deadline: '2026-11-27T09:30:00.000Z',
};
const createdAt = '2026-11-27T09:00:00.000Z';

function ours(overrides: Partial<DeploymentObservation> = {}): DeploymentObservation {
  return {
    id: OUR_DEPLOYMENT,
    status: 'PRIMARY',
    taskDefinitionArn: NEW_TASK_DEF,
    rolloutState: 'IN_PROGRESS',
    desiredCount: 1,
    runningCount: 0,
    failedTasks: 0,
    createdAt,
    ...overrides,
  };
}

function old(overrides: Partial<DeploymentObservation> = {}): DeploymentObservation {
  return {
    id: OLD_DEPLOYMENT,
    status: 'ACTIVE',
    taskDefinitionArn: OLD_TASK_DEF,
    rolloutState: 'COMPLETED',
    desiredCount: 1,
    runningCount: 1,
    failedTasks: 0,
    createdAt: '2026-11-20T09:00:00.000Z',
    ...overrides,
  };
}

function stopped(overrides: Partial<StoppedTaskObservation> = {}): StoppedTaskObservation {
  return {
    taskArn: 'arn:aws:ecs:eu-central-1:123456789012:task/afu9-cluster/5b1f0e6a2c9d4e7f8a3b6c1d0e9f2a4b',
    taskDefinitionArn: NEW_TASK_DEF,
    startedBy: OUR_DEPLOYMENT,
    stoppedAt: '2026-11-27T09:01:30.000Z',
    containers: [{ name: 'control-center', essential: true }],
    ...overrides,
  };
}

function judge(
  deployments: DeploymentObservation[],
  options: Partial<Omit<RolloutJudgementInput, 'service'>> & { events?: string[] } = {},
) {
  return judgeRollout({
    service: {
      deployments,
      events: (options.events ?? []).map((message) => ({ message, createdAt: '2026-11-27T09:01:00.000Z' })),
    },
    stoppedTasks: options.stoppedTasks ?? [],
    target: options.target ?? target,
    now: options.now ?? new Date('2026-11-27T09:01:00.000Z'),
    config: options.config ?? environments.staging.rollout,
  });
}

describe('judgeRollout', () => {
  describe('success needs THIS deployment primary, completed, fully running, on the new revision', () => {
    it('is COMPLETED when all four hold', () => {
      const result = judge([ours({ rolloutState: 'COMPLETED', runningCount: 1 })]);
      expect(result.status).toBe('COMPLETED');
      expect(result.reason).toContain('afu9-control-center:43');
      expect(result.nextCheckSeconds).toBe(0);
    });

    it('stays IN_PROGRESS while running is below desired even when ECS says COMPLETED', () => {
      const result = judge([ours({ rolloutState: 'COMPLETED', runningCount: 1, desiredCount: 2 })]);
      expect(result.status).toBe('IN_PROGRESS');
    });

    it('stays IN_PROGRESS when ECS gives no rollout state (never success on absent data)', () => {
      const result = judge([ours({ rolloutState: undefined, runningCount: 1 })]);
      expect(result.status).toBe('IN_PROGRESS');
    });

    it('is FAILED, not COMPLETED, when our deployment id runs another task definition', () => {
      const result = judge([
        ours({ rolloutState: 'COMPLETED', runningCount: 1, taskDefinitionArn: OTHER_TASK_DEF }),
      ]);
      expect(result.status).toBe('FAILED');
      expect(result.reason).toContain('afu9-control-center:44');
    });
  });

  describe('the false success after an ECS rollback', () => {
    it('is ROLLED_BACK_BY_ECS when ours failed and the stable primary runs the previous revision', () => {
      const result = judge(
        [
          old({ id: ROLLBACK_DEPLOYMENT, status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: 1 }),
          ours({
            status: 'ACTIVE',
            rolloutState: 'FAILED',
            rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
          }),
        ],
        { events: ['(service afu9-control-center-staging) has reached a steady state.'] },
      );
      expect(result.status).toBe('ROLLED_BACK_BY_ECS');
      expect(result.reason).toContain('OLD revision');
      expect(result.reason).toContain('circuit breaker');
      expect(result.rolloutStateReason).toBe('ECS deployment circuit breaker: tasks failed to start.');
    });

    it('is ROLLED_BACK_BY_ECS when ours is no longer listed and the primary runs the previous revision', () => {
      const result = judge([old({ status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: 1 })]);
      expect(result.status).toBe('ROLLED_BACK_BY_ECS');
      expect(result.reason).toContain('no longer listed');
    });
  });

  describe('failure and replacement', () => {
    it('is FAILED when the circuit breaker failed our primary deployment (rollback off)', () => {
      const result = judge([
        ours({
          rolloutState: 'FAILED',
          rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
        }),
      ]);
      expect(result.status).toBe('FAILED');
      expect(result.reason).toContain('circuit breaker: tasks failed to start');
    });

    it('is REPLACED when another deployment with another task definition became primary', () => {
      const result = judge([
        { ...ours({ id: 'ecs-svc/5555555555555555555', taskDefinitionArn: OTHER_TASK_DEF }) },
        ours({ status: 'ACTIVE' }),
      ]);
      expect(result.status).toBe('REPLACED');
      expect(result.reason).toContain('ecs-svc/5555555555555555555');
    });

    it('is REPLACED when ours is gone and a primary on another revision took over', () => {
      const result = judge([ours({ id: 'ecs-svc/5555555555555555555', taskDefinitionArn: OTHER_TASK_DEF })]);
      expect(result.status).toBe('REPLACED');
    });

    it('is REPLACED when a different deployment id redeployed our revision (cannot judge ours)', () => {
      const result = judge([
        ours({ id: 'ecs-svc/5555555555555555555', rolloutState: 'COMPLETED', runningCount: 1 }),
      ]);
      expect(result.status).toBe('REPLACED');
    });

    it('is REPLACED, not ROLLED_BACK_BY_ECS, when the previous revision is unknown', () => {
      const result = judge([old({ status: 'PRIMARY' })], {
        target: { ...target, previousTaskDefinitionArn: undefined },
      });
      expect(result.status).toBe('REPLACED');
    });

    it('is FAILED when ECS lists neither ours nor any primary', () => {
      expect(judge([]).status).toBe('FAILED');
    });
  });

  describe('fail fast on stops that will not heal', () => {
    it.each([
      [
        'CannotPullContainerError',
        'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref',
      ],
      [
        'ResourceInitializationError',
        'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed',
      ],
    ])('is FAILED at once on %s, long before the circuit breaker', (_name, stoppedReason) => {
      const result = judge([ours({ failedTasks: 1 }), old()], {
        stoppedTasks: [stopped({ stoppedReason, stopCode: 'TaskFailedToStart' })],
      });
      expect(result.status).toBe('FAILED');
      expect(result.reason).toContain(stoppedReason.slice(0, 40));
      expect(result.reason).toContain("instead of waiting for ECS's circuit breaker");
      expect(result.stoppedTasks).toHaveLength(1);
    });

    it('matches a non-healing reason reported on a container, not only on the task', () => {
      const result = judge([ours()], {
        stoppedTasks: [
          stopped({
            stoppedReason: 'Task failed to start',
            containers: [
              { name: 'control-center', essential: true, reason: 'CannotPullContainerError: ref not found' },
            ],
          }),
        ],
      });
      expect(result.status).toBe('FAILED');
    });

    it('is FAILED when the essential container exited non-zero, naming container and exit code', () => {
      const result = judge([ours()], {
        stoppedTasks: [
          stopped({
            stopCode: 'EssentialContainerExited',
            stoppedReason: 'Essential container in task exited',
            containers: [
              { name: 'control-center', essential: true, exitCode: 1 },
              { name: 'mcp-github', essential: false, exitCode: 143 },
            ],
          }),
        ],
      });
      expect(result.status).toBe('FAILED');
      expect(result.reason).toContain('essential container control-center exited with code 1');
      expect(result.stoppedTasks[0]!.containers).toEqual([
        { name: 'control-center', exitCode: 1 },
        { name: 'mcp-github', exitCode: 143 },
      ]);
    });

    it('does not fail fast when only a non-essential container exited non-zero', () => {
      const result = judge([ours()], {
        stoppedTasks: [
          stopped({
            stopCode: 'EssentialContainerExited',
            stoppedReason: 'Essential container in task exited',
            containers: [
              { name: 'control-center', essential: true, exitCode: 0 },
              { name: 'mcp-github', essential: false, exitCode: 2 },
            ],
          }),
        ],
      });
      expect(result.status).toBe('IN_PROGRESS');
    });

    it('does not fail fast when ECS killed the task for failed health checks (exit 137 is not a crash)', () => {
      const result = judge([ours()], {
        stoppedTasks: [
          stopped({
            stopCode: 'ServiceSchedulerInitiated',
            stoppedReason: 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:...)',
            containers: [{ name: 'control-center', essential: true, exitCode: 137 }],
          }),
        ],
      });
      expect(result.status).toBe('IN_PROGRESS');
      expect(result.stoppedTasks[0]!.stoppedReason).toContain('ELB health checks');
    });

    it('does not fail fast on an essential exit when the environment turned that rule off', () => {
      const result = judge([ours()], {
        config: { ...environments.staging.rollout, failFastOnEssentialExit: false },
        stoppedTasks: [
          stopped({
            stopCode: 'EssentialContainerExited',
            containers: [{ name: 'control-center', essential: true, exitCode: 1 }],
          }),
        ],
      });
      expect(result.status).toBe('IN_PROGRESS');
    });

    it('ignores stops of other revisions and of other deployments', () => {
      const result = judge([ours()], {
        stoppedTasks: [
          stopped({ taskDefinitionArn: OLD_TASK_DEF, stoppedReason: 'CannotPullContainerError: old' }),
          stopped({ startedBy: OLD_DEPLOYMENT, stoppedReason: 'CannotPullContainerError: other deployment' }),
        ],
      });
      expect(result.status).toBe('IN_PROGRESS');
      expect(result.stoppedTasks).toEqual([]);
    });

    it('lets a finished verdict win over a stop (ECS already said how it ended)', () => {
      const result = judge([ours({ rolloutState: 'COMPLETED', runningCount: 1 })], {
        stoppedTasks: [stopped({ stoppedReason: 'CannotPullContainerError: transient registry hiccup' })],
      });
      expect(result.status).toBe('COMPLETED');
    });
  });

  describe('timeout', () => {
    it('is TIMED_OUT once the deadline passed without a finish', () => {
      const result = judge([ours({ runningCount: 0, failedTasks: 2 })], {
        now: new Date('2026-11-27T09:30:01.000Z'),
      });
      expect(result.status).toBe('TIMED_OUT');
      expect(result.reason).toContain('did not finish by 2026-11-27T09:30:00.000Z');
      expect(result.reason).toContain('2 failed so far');
    });

    it('still reports COMPLETED when the finish is seen after the deadline', () => {
      const result = judge([ours({ rolloutState: 'COMPLETED', runningCount: 1 })], {
        now: new Date('2026-11-27T09:31:00.000Z'),
      });
      expect(result.status).toBe('COMPLETED');
    });

    it('counts an unreadable deadline as passed (fail closed)', () => {
      const result = judge([ours()], { target: { ...target, deadline: 'soon' } });
      expect(result.status).toBe('TIMED_OUT');
      expect(result.reason).toContain('no readable deadline');
    });
  });

  describe('what a person gets', () => {
    it('carries the five newest service events, newest first', () => {
      const events = Array.from({ length: 8 }, (_, i) => `event ${i}`);
      const result = judge([ours()], { events });
      expect(result.recentEvents).toEqual(events.slice(0, 5).map((e) => `2026-11-27T09:01:00.000Z ${e}`));
    });

    it('keeps at most five stopped tasks, newest first, with long reasons clipped', () => {
      const tasks = Array.from({ length: 7 }, (_, i) =>
        stopped({
          taskArn: `arn:aws:ecs:eu-central-1:123456789012:task/afu9-cluster/t${i}`,
          stoppedAt: `2026-11-27T09:0${i}:00.000Z`,
          stoppedReason: `Task failed ELB health checks ${'x'.repeat(400)}`,
        }),
      );
      const result = judge([ours()], { stoppedTasks: tasks });
      expect(result.stoppedTasks.map((t) => t.taskArn.slice(-2))).toEqual(['t6', 't5', 't4', 't3', 't2']);
      expect(result.stoppedTasks[0]!.stoppedReason.length).toBeLessThanOrEqual(300);
    });

    it('asks to look again soon early in the rollout and less often later', () => {
      const early = judge([ours()], { now: new Date('2026-11-27T09:01:00.000Z') });
      const late = judge([ours()], { now: new Date('2026-11-27T09:05:00.000Z') });
      expect(early.nextCheckSeconds).toBe(45);
      expect(late.nextCheckSeconds).toBe(environments.staging.rollout.safetyNetPollSeconds);
    });

    it('never asks to look later than just after the deadline', () => {
      const result = judge([ours()], { now: new Date('2026-11-27T09:29:30.000Z') });
      expect(result.nextCheckSeconds).toBe(31);
    });
  });
});

describe('describeTaskStop (the reason a TASK_STOPPED wake-up carries)', () => {
  it('gives the stop reason and code when no container ran', () => {
    const line = describeTaskStop({
      stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s): not found',
      stopCode: 'TaskFailedToStart',
      containers: [{ name: 'control-center' }],
    });

    expect(line).toBe(
      'CannotPullContainerError: pull image manifest has been retried 5 time(s): not found (TaskFailedToStart)',
    );
  });

  it('names each container that exited non-zero or gave a reason, never one that exited 0', () => {
    const line = describeTaskStop({
      stoppedReason: 'Essential container in task exited',
      stopCode: 'EssentialContainerExited',
      containers: [
        { name: 'control-center', exitCode: 1 },
        { name: 'mcp-github', exitCode: 0 },
        { name: 'mcp-deploy', reason: 'OutOfMemoryError: Container killed due to memory usage' },
      ],
    });

    expect(line).toBe(
      'Essential container in task exited (EssentialContainerExited); container control-center exited with ' +
        'code 1; container mcp-deploy: OutOfMemoryError: Container killed due to memory usage',
    );
  });

  it('says so when ECS gave no reason, and stays short', () => {
    expect(describeTaskStop({ containers: [] })).toBe('no reason given');
    expect(describeTaskStop({ stoppedReason: 'x'.repeat(1000), containers: [] }).length).toBe(300);
  });
});
