import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { timelineOf } from '../../../cli/execution-progress';
import type { StateRecord } from '../../../sandbox/run/execution';
import { stateTimelineLines } from '../../../sandbox/report/timeline';
import { stagingRequest, taskDefinitionArn } from '../deploy/fixtures';

const EXECUTION_ARN =
  'arn:aws:states:eu-central-1:111122223333:execution:Afu9Deployment:staging-stage-3f9c2ab';
const START = new Date('2026-11-27T10:15:30.000Z');
const at = (seconds: number) => new Date(START.getTime() + seconds * 1000);

const update = {
  previousTaskDefinitionArn: taskDefinitionArn(41),
  taskDefinitionArn: taskDefinitionArn(43),
  deploymentId: 'ecs-svc/8908553106305568470',
  startedAt: at(95).toISOString(),
  deadline: at(95 + 1800).toISOString(),
};

/**
 * A history as Step Functions records it for this state machine: Task states whose Resource is a
 * function ARN log LambdaFunction* events with the function's own result; a Choice logs only its
 * entry and exit; an uncaught failure ends with ExecutionFailed and no StateExited.
 */
function history(): HistoryEvent[] {
  let id = 0;
  const event = (seconds: number, fields: Omit<HistoryEvent, 'id' | 'timestamp'>): HistoryEvent => ({
    id: ++id,
    previousEventId: id - 1,
    timestamp: at(seconds),
    ...fields,
  });
  const lambdaState = (name: string, from: number, to: number, result: unknown): HistoryEvent[] => [
    event(from, { type: 'TaskStateEntered', stateEnteredEventDetails: { name, input: '{}' } }),
    event(from, {
      type: 'LambdaFunctionScheduled',
      lambdaFunctionScheduledEventDetails: {
        resource: `arn:aws:lambda:eu-central-1:111122223333:function:${name}`,
        input: '{}',
      },
    }),
    event(from, { type: 'LambdaFunctionStarted' }),
    event(to, {
      type: 'LambdaFunctionSucceeded',
      lambdaFunctionSucceededEventDetails: { output: JSON.stringify(result) },
    }),
    event(to, { type: 'TaskStateExited', stateExitedEventDetails: { name, output: '{}' } }),
  ];
  return [
    event(0, {
      type: 'ExecutionStarted',
      executionStartedEventDetails: {
        input: JSON.stringify({ environment: 'staging', imageTag: 'stage-3f9c2ab', requestedBy: 'dana' }),
        roleArn: 'arn:aws:iam::111122223333:role/Afu9DeploymentRole',
      },
    }),
    ...lambdaState('ResolveRequest', 0, 1, { status: 'accepted', request: stagingRequest() }),
    event(1, { type: 'ChoiceStateEntered', stateEnteredEventDetails: { name: 'RouteRequest', input: '{}' } }),
    event(1, { type: 'ChoiceStateExited', stateExitedEventDetails: { name: 'RouteRequest', output: '{}' } }),
    ...lambdaState('UpdateService', 93, 95, update),
    event(95, {
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: 'PollStabilization', input: '{}' },
    }),
    event(95, {
      type: 'LambdaFunctionScheduled',
      lambdaFunctionScheduledEventDetails: {
        resource: 'arn:aws:lambda:eu-central-1:111122223333:function:PollStabilization',
      },
    }),
    event(96, {
      type: 'LambdaFunctionFailed',
      lambdaFunctionFailedEventDetails: {
        error: 'RolloutFailed',
        cause: 'Task stopped: Essential container exited',
      },
    }),
    event(96, {
      type: 'ExecutionFailed',
      executionFailedEventDetails: {
        error: 'RolloutFailed',
        cause: 'Task stopped: Essential container exited',
      },
    }),
  ];
}

describe('the timeline of a real execution', () => {
  it('prints each state as the rehearsal does: elapsed time, name, status and what it decided', () => {
    // Act
    const lines = timelineOf(EXECUTION_ARN, START, history());

    // Assess
    expect(lines).toEqual([
      '+00:00:00  execution staging-stage-3f9c2ab  started by dana',
      expect.stringMatching(
        /^\+00:00:01 {2}ResolveRequest {12}SUCCEEDED deploy stage-4d5e6f7 to afu9-control-center-staging \(staging\)/,
      ),
      '+00:01:35  UpdateService             SUCCEEDED task definition afu9-control-center:41 → afu9-control-center:43, ECS deployment ecs-svc/8908553106305568470',
      '+00:01:36  PollStabilization         FAILED    RolloutFailed: Task stopped: Essential container exited',
      '+00:01:36  execution ended           FAILED in state PollStabilization: RolloutFailed Task stopped: Essential container exited',
    ]);
  });

  it('uses the very line formatter of the rehearsal, so the two cannot drift apart', () => {
    // Prepare: the rehearsal's record of the same UpdateService call
    const record: StateRecord = {
      name: 'UpdateService',
      type: 'Task',
      status: 'SUCCEEDED',
      enteredAtMs: 93_000,
      leftAtMs: 95_000,
      invocations: [
        { stateName: 'UpdateService', startMs: 93_000, endMs: 95_000, input: {}, output: update },
      ],
      input: {},
    };

    // Act
    const rehearsal = stateTimelineLines(record, 95_000);
    const real = timelineOf(EXECUTION_ARN, START, history());

    // Assess
    expect(real).toContain(rehearsal[0]);
  });

  it('shows a wait that timed out and was caught as the safety-net poll, as the rehearsal does', () => {
    // Prepare
    const events: HistoryEvent[] = [
      { id: 1, type: 'ExecutionStarted', timestamp: at(0), executionStartedEventDetails: { input: '{}' } },
      {
        id: 2,
        type: 'TaskStateEntered',
        timestamp: at(100),
        stateEnteredEventDetails: { name: 'WaitForDeploymentEvent' },
      },
      {
        id: 3,
        type: 'TaskScheduled',
        timestamp: at(100),
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke.waitForTaskToken',
          region: 'eu-central-1',
          parameters: '{}',
        },
      },
      {
        id: 4,
        type: 'TaskTimedOut',
        timestamp: at(700),
        taskTimedOutEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke.waitForTaskToken',
          error: 'States.Timeout',
          cause: 'no event in 600 s',
        },
      },
      {
        id: 5,
        type: 'TaskStateExited',
        timestamp: at(700),
        stateExitedEventDetails: { name: 'WaitForDeploymentEvent', output: '{}' },
      },
    ];

    // Act
    const lines = timelineOf(EXECUTION_ARN, START, events);

    // Assess
    expect(lines[1]).toBe(
      '+00:11:40  WaitForDeploymentEvent    WAITED    no event yet after 10 min 00 s: the safety net checks the rollout',
    );
  });
});
