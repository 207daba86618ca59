/**
 * The sandbox's CloudWatch evaluates the template's alarms from the counts the run produces: an alarm
 * goes to ALARM once per breach and notifies again only after a whole period without one; an alarm it
 * cannot evaluate says why instead of staying quietly OK.
 */
import type { DeployedAlarm } from '../../../sandbox/assembly/cloud-assembly';
import { VirtualClock } from '../../../sandbox/account/virtual-clock';
import { SimulatedCloudWatch, type AlarmNotification } from '../../../sandbox/run/cloudwatch';

const queueName = 'Afu9DeployOrchestrator-DeploymentEventFailuresQueueA286F70C-FBB8813AF591';
const sent = {
  namespace: 'AWS/SQS',
  metricName: 'NumberOfMessagesSent',
  dimensions: { QueueName: queueName },
};

/** As the stack's `...Arrived` alarm: any message sent within a minute. */
function arrivedAlarm(overrides: Partial<DeployedAlarm> = {}): DeployedAlarm {
  return {
    logicalId: 'AlarmsDeploymentEventOnFailureArrivedAB9DC907',
    name: 'Afu9DeployOrchestrator-DeploymentEventOnFailureArrived',
    arn: 'arn:aws:cloudwatch:eu-central-1:123456789012:alarm:Afu9DeployOrchestrator-DeploymentEventOnFailureArrived',
    description: 'New messages arrived (again) in the on-failure queue.',
    alarmActions: ['arn:aws:sns:eu-central-1:123456789012:Afu9DeployOrchestrator-NotificationsTopic'],
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    evaluationPeriods: 1,
    treatMissingData: 'notBreaching',
    single: { metric: sent, statistic: 'Sum', period: 60 },
    ...overrides,
  };
}

function cloudWatch(alarms: readonly DeployedAlarm[]) {
  const clock = new VirtualClock();
  const notified: AlarmNotification[] = [];
  const cloudwatch = new SimulatedCloudWatch(
    alarms,
    clock,
    'eu-central-1',
    '123456789012',
    () => 0,
    (notification) => notified.push(notification),
  );
  return { clock, notified, cloudwatch };
}

describe('SimulatedCloudWatch', () => {
  it('notifies once per breach, and again when messages arrive after a whole quiet period', () => {
    // Arrange
    const { clock, notified, cloudwatch } = cloudWatch([arrivedAlarm()]);

    // Act
    cloudwatch.record(sent);
    clock.advanceBy(30_000);
    cloudwatch.record(sent);
    clock.advanceBy(200_000);
    cloudwatch.record(sent);

    // Assess
    expect(notified).toHaveLength(2);
    expect(JSON.parse(notified[0]!.message)).toMatchObject({
      AlarmName: 'Afu9DeployOrchestrator-DeploymentEventOnFailureArrived',
      NewStateValue: 'ALARM',
      OldStateValue: 'OK',
      StateChangeTime: '2026-11-27T09:00:00.000+0000',
      NewStateReason: expect.stringMatching(
        /^Threshold Crossed: 1 out of the last 1 datapoints \[1\.0 \(27\/11\/26 09:00:00\)\] was greater than or equal to the threshold \(1\.0\)/,
      ),
      Trigger: { MetricName: 'NumberOfMessagesSent', Namespace: 'AWS/SQS', Statistic: 'SUM', Period: 60 },
    });
    expect(notified[0]!.subject).toBe(
      'ALARM: "Afu9DeployOrchestrator-DeploymentEventOnFailureArrived" in EU (Frankfurt)',
    );
    expect(cloudwatch.statuses()).toEqual([
      { name: 'Afu9DeployOrchestrator-DeploymentEventOnFailureArrived', state: 'ALARM', timesInAlarm: 2 },
    ]);
  });

  function notifySumAlarm(expression: string) {
    const errors = { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: 'notify' } };
    const throttles = {
      namespace: 'AWS/Lambda',
      metricName: 'Throttles',
      dimensions: { FunctionName: 'notify' },
    };
    const built = cloudWatch([
      arrivedAlarm({
        threshold: 2,
        queries: [
          { id: 'expr_1', returnData: true, expression },
          { id: 'errors', returnData: false, metric: errors, stat: 'Sum', period: 300 },
          { id: 'throttles', returnData: false, metric: throttles, stat: 'Sum', period: 300 },
        ],
        single: undefined,
      } as Partial<DeployedAlarm>),
    ]);
    return { ...built, errors, throttles };
  }

  it('adds the metrics of a metric-math sum, a FILLed metric without data counting as 0', () => {
    // Arrange
    const { notified, cloudwatch, errors } = notifySumAlarm('FILL(errors, 0) + FILL(throttles, 0)');

    // Act
    cloudwatch.record(errors);
    const afterOne = notified.length;
    cloudwatch.record(errors);

    // Assess
    expect(afterOne).toBe(0);
    expect(notified).toHaveLength(1);
    expect(JSON.parse(notified[0]!.message).Trigger.Metrics).toHaveLength(3);
  });

  it('gives a sum no value while an unFILLed term has no datapoint, so the alarm stays quiet as in AWS', () => {
    // Arrange
    const { notified, cloudwatch, errors, throttles } = notifySumAlarm('errors + throttles');

    // Act
    cloudwatch.record(errors, 5);
    const whileThrottlesQuiet = notified.length;
    cloudwatch.record(throttles, 0);

    // Assess
    expect(whileThrottlesQuiet).toBe(0);
    expect(notified).toHaveLength(1);
  });

  it.each([
    [
      'the sandbox does not produce AWS/States/ExecutionsTimedOut',
      {
        single: {
          metric: { namespace: 'AWS/States', metricName: 'ExecutionsTimedOut', dimensions: {} },
          statistic: 'Sum',
          period: 300,
        },
      },
    ],
    ['statistic p99 is not modelled', { single: { metric: sent, statistic: 'p99', period: 60 } }],
    ['only alarms on one datapoint of one period are modelled', { evaluationPeriods: 3 }],
    ['TreatMissingData breaching is not modelled (only notBreaching)', { treatMissingData: 'breaching' }],
  ] as [string, Partial<DeployedAlarm>][])(
    'does not evaluate an alarm, saying why: %s',
    (reason, overrides) => {
      // Arrange
      const { notified, cloudwatch } = cloudWatch([arrivedAlarm(overrides)]);

      // Act
      cloudwatch.record(sent);

      // Assess
      expect(notified).toEqual([]);
      expect(cloudwatch.statuses()[0]).toMatchObject({ notEvaluated: reason });
    },
  );

  it('does not evaluate a metric-math expression other than a sum', () => {
    // Arrange
    const { cloudwatch } = cloudWatch([
      arrivedAlarm({
        single: undefined,
        queries: [
          { id: 'expr_1', returnData: true, expression: 'FILL(m1, 0) * 2' },
          { id: 'm1', returnData: false, metric: sent, stat: 'Sum', period: 60 },
        ],
      } as Partial<DeployedAlarm>),
    ]);

    // Assess
    expect(cloudwatch.statuses()[0]!.notEvaluated).toBe(
      'only an expression that adds metrics (a + FILL(b, 0) + ...) is modelled',
    );
  });
});
