/**
 * The alarms and the policies that let them reach people: which alarms exist, what each watches, and
 * that CloudWatch may publish exactly these alarms to the encrypted topic (the topic policy of
 * `enforceSSL` replaces SNS's default policy, so nothing else allows it). Bundling is skipped.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { HandlerName } from '../../infra/handler-functions';
import type { OrchestratorStack } from '../../infra/orchestrator-stack';
import { functionLogicalId, synthTemplate, type PolicyStatementJson } from './synth';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

interface MetricQuery {
  readonly Expression?: string;
  readonly MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string }[] } };
}

const STACK = 'Afu9DeployOrchestrator';

describe('OrchestratorAlarms', () => {
  let stack: OrchestratorStack;
  let template: Template;
  let resources: Resources;
  const resolve = (value: unknown) => stack.resolve(value);

  beforeAll(() => {
    ({ stack, template } = synthTemplate());
    resources = template.toJSON().Resources as Resources;
  });

  function alarms(): Record<string, Record<string, unknown>> {
    return Object.fromEntries(
      Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources).map((alarm) => [
        (alarm.Properties.AlarmName as string).replace(`${STACK}-`, ''),
        alarm.Properties,
      ]),
    );
  }

  it('GIVEN metrics published only when something happened WHEN an alarm sums them THEN every term is FILLed with 0, so one quiet metric cannot hide another', () => {
    // Act
    const expressions = Object.values(alarms()).flatMap((alarm) =>
      ((alarm.Metrics as MetricQuery[] | undefined) ?? []).flatMap((query) =>
        query.Expression ? [query.Expression] : [],
      ),
    );

    // Assess
    expect(expressions.length).toBeGreaterThanOrEqual(3);
    for (const expression of expressions) {
      expect(expression.split('+').map((term) => term.trim())).toEqual(
        expression.split('+').map(() => expect.stringMatching(/^FILL\([a-zA-Z]\w*, 0\)$/) as unknown),
      );
    }
  });

  function watched(alarm: Record<string, unknown>): string[] {
    if (alarm.MetricName) return [`${alarm.Namespace as string}/${alarm.MetricName as string}`];
    return (alarm.Metrics as MetricQuery[])
      .filter((query) => query.MetricStat)
      .map(({ MetricStat }) => `${MetricStat!.Metric.Namespace}/${MetricStat!.Metric.MetricName}`);
  }

  function topicId(): string {
    return Object.keys(template.findResources('AWS::SNS::Topic'))[0]!;
  }

  function queueIdOf(queue: { node: { defaultChild?: unknown } }): string {
    return stack.getLogicalId(queue.node.defaultChild as never);
  }

  function expectedAlarmArns(): unknown[] {
    return Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources).map((alarm) =>
      resolve(
        `arn:${stack.partition}:cloudwatch:eu-central-1:${stack.account}:alarm:${alarm.Properties.AlarmName as string}`,
      ),
    );
  }

  describe('which alarms exist', () => {
    it('GIVEN the stack WHEN synthesized THEN exactly the alarms that need a person exist, each named after the stack', () => {
      // Act
      const names = Object.keys(alarms()).sort();

      // Assess
      expect(names).toEqual(
        [
          'DeploymentEventErrors',
          'DeploymentEventOnFailure',
          'DeploymentEventOnFailureArrived',
          'ExecutionsAborted',
          'ExecutionsTimedOut',
          'NotifyErrors',
          'TriggerDeliveryFailed',
          'UndeliveredTriggers',
          'UndeliveredTriggersArrived',
        ].sort(),
      );
    });

    it('GIVEN routine outcomes (rejected, blocked, refused, rolled back) WHEN synthesized THEN no alarm watches ExecutionsFailed', () => {
      // Act
      const metrics = Object.values(alarms()).flatMap(watched);

      // Assess
      expect(metrics).not.toContain('AWS/States/ExecutionsFailed');
    });

    it('GIVEN the state machine WHEN synthesized THEN timed-out and aborted executions each raise their own alarm', () => {
      // Prepare
      const stateMachineId = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;

      // Act
      const { ExecutionsTimedOut: timedOut, ExecutionsAborted: aborted } = alarms();

      // Assess
      expect(watched(timedOut!)).toEqual(['AWS/States/ExecutionsTimedOut']);
      expect(watched(aborted!)).toEqual(['AWS/States/ExecutionsAborted']);
      for (const alarm of [timedOut!, aborted!]) {
        expect(alarm).toMatchObject({
          Statistic: 'Sum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId } }],
        });
      }
    });

    it('GIVEN the notifier WHEN synthesized THEN its errors and the invocations Step Functions saw fail raise an alarm', () => {
      // Act
      const { NotifyErrors: notify } = alarms();

      // Assess
      expect(watched(notify!).sort()).toEqual(
        [
          'AWS/Lambda/Errors',
          'AWS/Lambda/Throttles',
          'AWS/States/LambdaFunctionsFailed',
          'AWS/States/LambdaFunctionsTimedOut',
        ].sort(),
      );
      expect(JSON.stringify(notify!.Metrics)).toContain(functionLogicalId(template, HandlerName.notify));
    });

    it('GIVEN the trigger rules WHEN synthesized THEN events EventBridge could not deliver, or not park, raise an alarm, for every rule', () => {
      // Prepare
      const ruleIds = Object.keys(template.findResources('AWS::Events::Rule')).sort();

      // Act
      const { TriggerDeliveryFailed: failed } = alarms();
      const metrics = (failed!.Metrics as MetricQuery[]).filter((query) => query.MetricStat);

      // Assess
      expect(new Set(metrics.map((query) => query.MetricStat!.Metric.MetricName))).toEqual(
        new Set(['FailedInvocations', 'InvocationsFailedToBeSentToDlq']),
      );
      const rulesWatched = [
        ...new Set(
          metrics.map(
            (query) =>
              (query.MetricStat!.Metric.Dimensions as unknown as { Value: { Ref: string } }[])[0]!.Value.Ref,
          ),
        ),
      ].sort();
      expect(rulesWatched).toEqual(ruleIds);
    });

    it.each([
      ['UndeliveredTriggers', 'the trigger dead-letter queue'],
      ['DeploymentEventOnFailure', "deployment-event's on-failure queue"],
    ])(
      'GIVEN %s (%s) WHEN a message waits THEN an alarm is raised, and every later arrival raises it again',
      (name) => {
        // Prepare
        const queue =
          name === 'UndeliveredTriggers' ? stack.triggers.deadLetterQueue : stack.asyncFailures[0]!.queue;
        const all = alarms();

        // Act
        const waiting = all[name]!;
        const arrived = all[`${name}Arrived`]!;

        // Assess
        expect(waiting).toMatchObject({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Statistic: 'Maximum',
          Threshold: 1,
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueIdOf(queue), 'QueueName'] } }],
        });
        // One-minute sums of new messages: a quiet minute returns it to OK, so the next arrival is a
        // new OK -> ALARM transition, which is what notifies.
        expect(arrived).toMatchObject({
          Namespace: 'AWS/SQS',
          MetricName: 'NumberOfMessagesSent',
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueIdOf(queue), 'QueueName'] } }],
        });
      },
    );

    it('GIVEN the asynchronously invoked deployment-event function WHEN synthesized THEN its errors and lost on-failure records raise an alarm', () => {
      // Act
      const { DeploymentEventErrors: errors } = alarms();

      // Assess
      expect(watched(errors!).sort()).toEqual([
        'AWS/Lambda/DestinationDeliveryFailures',
        'AWS/Lambda/Errors',
      ]);
      expect(JSON.stringify(errors!.Metrics)).toContain(
        functionLogicalId(template, HandlerName.deploymentEvent),
      );
    });

    it('GIVEN every alarm WHEN synthesized THEN it notifies the topic, and missing data never raises it', () => {
      // Act
      const all = Object.values(alarms());

      // Assess
      for (const alarm of all) {
        expect(alarm.AlarmActions).toEqual([{ Ref: topicId() }]);
        expect(alarm.TreatMissingData).toBe('notBreaching');
      }
    });
  });

  describe('who may publish', () => {
    function topicPolicyStatements(): PolicyStatementJson[] {
      const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy') as Resources);
      return (policy!.Properties.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement;
    }

    function keyPolicyStatements(): (PolicyStatementJson & { Principal: unknown })[] {
      const [key] = Object.values(template.findResources('AWS::KMS::Key') as Resources);
      return (key!.Properties.KeyPolicy as { Statement: (PolicyStatementJson & { Principal: unknown })[] })
        .Statement;
    }

    it('GIVEN the TLS-only topic policy WHEN synthesized THEN it also lets CloudWatch publish, only for this account and these alarms', () => {
      // Act
      const allows = topicPolicyStatements().filter((statement) => statement.Effect === 'Allow');

      // Assess
      expect(allows).toEqual([
        expect.objectContaining({
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: { Ref: topicId() },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': expectedAlarmArns() },
          },
        }),
      ]);
      expect(topicPolicyStatements()).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });

    it('GIVEN the topic key WHEN synthesized THEN CloudWatch may use it for these alarms only, and no other service principal may', () => {
      // Act
      const servicePrincipals = keyPolicyStatements().filter(
        (statement) =>
          typeof statement.Principal === 'object' && 'Service' in (statement.Principal as object),
      );

      // Assess
      expect(servicePrincipals).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': expectedAlarmArns() },
          },
        }),
      ]);
      expect(JSON.stringify(keyPolicyStatements())).not.toContain('events.amazonaws.com');
    });

    it('GIVEN nothing else publishing as a service WHEN synthesized THEN no rule targets the topic (the dropped EventBridge key grant had no user)', () => {
      // Act
      const targets = Object.values(resources)
        .filter((resource) => resource.Type === 'AWS::Events::Rule')
        .flatMap((rule) => rule.Properties.Targets as { Arn: unknown }[]);

      // Assess
      expect(targets.map((target) => target.Arn)).not.toContainEqual({ Ref: topicId() });
    });
  });
});
