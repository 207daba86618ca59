/**
 * The rule that wakes a waiting execution when a task of its deployment stops: exactly which ECS
 * events reach the deployment-event function. Bundling is skipped.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { HandlerName } from '../../infra/handler-functions';
import type { OrchestratorStack } from '../../infra/orchestrator-stack';
import { clusterArns } from '../../infra/resource-arns';
import { environments } from '../../lambdas/domain/environments';
import { functionLogicalId, synthTemplate } from './synth';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

const allEnvironments = Object.values(environments);

describe('DeploymentTriggers: stopped tasks', () => {
  let stack: OrchestratorStack;
  let template: Template;

  beforeAll(() => {
    ({ stack, template } = synthTemplate());
  });

  function taskStoppedRules(): Record<string, unknown>[] {
    return Object.values(
      template.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { 'detail-type': ['ECS Task State Change'] } },
      }) as Resources,
    ).map((rule) => rule.Properties);
  }

  it('GIVEN the configured services WHEN synthesized THEN only their STOPPED tasks in their clusters go to the deployment-event function', () => {
    // Act
    const rules = taskStoppedRules();

    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]!.EventPattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: stack.resolve(clusterArns(stack, allEnvironments)),
        group: ['service:afu9-control-center-staging', 'service:afu9-control-center'],
        lastStatus: ['STOPPED'],
      },
    });
    expect(rules[0]!.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [functionLogicalId(template, HandlerName.deploymentEvent), 'Arn'] },
      }),
    ]);
  });

  it('GIVEN the task-stopped target WHEN synthesized THEN it retries for an hour and parks failures in the dead-letter queue', () => {
    // Prepare
    const [queueId] = Object.keys(template.findResources('AWS::SQS::Queue'));

    // Act
    const [target] = taskStoppedRules()[0]!.Targets as Record<string, unknown>[];

    // Assess
    expect(target).toMatchObject({
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
    });
  });

  it('GIVEN the rule WHEN synthesized THEN EventBridge may invoke the deployment-event function for it', () => {
    // Act
    const [ruleId] = Object.keys(
      template.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { 'detail-type': ['ECS Task State Change'] } },
      }),
    );

    // Assess
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionLogicalId(template, HandlerName.deploymentEvent), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
  });
});
