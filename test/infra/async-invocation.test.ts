/**
 * Asynchronous invocations: EventBridge hands an event to Lambda and is done; Lambda then retries a
 * function error twice and parks what still fails in the function's on-failure queue. Every function
 * an EventBridge rule targets must say so in the template. Bundling is skipped.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AsyncInvocationFailures } from '../../infra/async-invocation-failures';
import { HandlerName } from '../../infra/handler-functions';
import type { OrchestratorStack } from '../../infra/orchestrator-stack';
import { actionsOf, functionLogicalId, resourcesOf, statementsOfFunction, synthTemplate } from './synth';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

describe('Asynchronously invoked functions', () => {
  let stack: OrchestratorStack;
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    ({ stack, template } = synthTemplate());
    resources = template.toJSON().Resources as Resources;
  });

  /** Functions a rule invokes: EventBridge always invokes Lambda targets asynchronously. */
  function ruleTargetFunctionIds(): string[] {
    const functionIds = new Set(
      Object.entries(resources)
        .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
        .map(([id]) => id),
    );
    const targets = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::Events::Rule')
      .flatMap((rule) => rule.Properties.Targets as { Arn: { 'Fn::GetAtt'?: [string, string] } }[]);
    return [
      ...new Set(
        targets
          .map((target) => target.Arn['Fn::GetAtt']?.[0])
          .filter((id): id is string => id !== undefined && functionIds.has(id)),
      ),
    ];
  }

  function invokeConfigOf(functionId: string): Record<string, unknown> | undefined {
    return Object.values(resources).find(
      (resource) =>
        resource.Type === 'AWS::Lambda::EventInvokeConfig' &&
        JSON.stringify(resource.Properties.FunctionName) === JSON.stringify({ Ref: functionId }),
    )?.Properties;
  }

  it('GIVEN the rules WHEN synthesized THEN deployment-event is the only function they invoke', () => {
    // Assess
    expect(ruleTargetFunctionIds()).toEqual([functionLogicalId(template, HandlerName.deploymentEvent)]);
  });

  it('GIVEN every function a rule invokes WHEN synthesized THEN its template states two retries, an event age and an on-failure queue', () => {
    // Act
    const configs = ruleTargetFunctionIds().map((id) => [id, invokeConfigOf(id)] as const);

    // Assess
    expect(configs.length).toBeGreaterThan(0);
    for (const [, config] of configs) {
      expect(config).toMatchObject({
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } },
      });
      const [queueId] = (
        config!.DestinationConfig as { OnFailure: { Destination: { 'Fn::GetAtt': [string] } } }
      ).OnFailure.Destination['Fn::GetAtt'];
      expect(resources[queueId]!.Type).toBe('AWS::SQS::Queue');
    }
  });

  it('GIVEN the on-failure queue WHEN synthesized THEN it is encrypted, keeps records 14 days and refuses requests without TLS', () => {
    // Prepare
    const queueId = stack.getLogicalId(stack.asyncFailures[0]!.queue.node.defaultChild as never);

    // Act
    const queue = resources[queueId]!.Properties;
    const policy = Object.values(resources).find(
      (resource) =>
        resource.Type === 'AWS::SQS::QueuePolicy' &&
        JSON.stringify(resource.Properties.Queues) === JSON.stringify([{ Ref: queueId }]),
    );

    // Assess
    expect(queue).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    expect(JSON.stringify(policy?.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it('GIVEN the on-failure destination WHEN synthesized THEN the function role may send to that queue (Lambda sends with it), and to no other', () => {
    // Prepare
    const queueId = stack.getLogicalId(stack.asyncFailures[0]!.queue.node.defaultChild as never);

    // Act
    const sends = statementsOfFunction(template, HandlerName.deploymentEvent).filter((statement) =>
      actionsOf(statement).includes('sqs:SendMessage'),
    );

    // Assess
    expect(sends).toHaveLength(1);
    expect(resourcesOf(sends[0]!)).toEqual([{ 'Fn::GetAtt': [queueId, 'Arn'] }]);
  });

  it('GIVEN the queues a person redrives from WHEN synthesized THEN the stack outputs their URLs', () => {
    // Act
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    // Assess
    expect(outputs.TriggerDeadLetterQueueUrl!.Value).toEqual({
      Ref: stack.getLogicalId(stack.triggers.deadLetterQueue.node.defaultChild as never),
    });
    expect(outputs.DeploymentEventFailuresQueueUrl!.Value).toEqual({
      Ref: stack.getLogicalId(stack.asyncFailures[0]!.queue.node.defaultChild as never),
    });
  });

  it('GIVEN an event age beyond what Lambda keeps WHEN the destination is configured THEN it is refused with the limits', () => {
    // Prepare
    const scratch = new Stack();
    const fn = new lambda.Function(scratch, 'Fn', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });

    // Act
    const configure = () =>
      new AsyncInvocationFailures(scratch, 'Failures', { function: fn, maxEventAge: Duration.hours(7) });

    // Assess
    expect(configure).toThrow(/maxEventAge must be between 1 minute and 6 hours .*Received: 7 hours/);
  });
});
