/**
 * The rules' event patterns: which ECR pushes start an execution, and which stopped tasks wake a
 * waiting one (exactly which ECS events reach the deployment-event function). Bundling is skipped.
 */
import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { HandlerName } from '../../infra/handler-functions';
import { OrchestratorStack } from '../../infra/orchestrator-stack';
import { clusterArns, repositoryNames } from '../../infra/resource-arns';
import { environments } from '../support/afu9-config';
import { functionLogicalId, synthTemplate } from './synth';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

const allEnvironments = Object.values(environments);

let stack: OrchestratorStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthTemplate());
});

describe('DeploymentTriggers: image pushes', () => {
  it('GIVEN the configured tag prefixes WHEN synthesized THEN only successful pushes of a tag with one of them start an execution', () => {
    // Act
    const rules = Object.values(
      template.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { source: ['aws.ecr'] } },
      }) as Resources,
    );

    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties.EventPattern).toEqual({
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: {
        'action-type': ['PUSH'],
        result: ['SUCCESS'],
        'repository-name': repositoryNames(allEnvironments),
        // Untagged child manifests and attestations carry no image-tag, so they match no prefix.
        'image-tag': [{ prefix: 'stage-' }, { prefix: 'prod-' }],
      },
    });
  });

  it('GIVEN an environment without a tag prefix WHEN the stack is built THEN it refuses, naming the environment', () => {
    // Prepare
    const untagged = { ...environments.staging, imageTagPrefix: '' };

    // Act
    const build = () =>
      new OrchestratorStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Untagged', {
        env: { region: 'eu-central-1' },
        config: {
          displayName: 'AFU-9',
          environments: { staging: untagged, production: environments.production },
        },
      });

    // Assess
    expect(build).toThrow(/needs an imageTagPrefix.*Received an empty prefix for: staging\./);
  });
});

describe('DeploymentTriggers: stopped tasks', () => {
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
    const queueId = stack.getLogicalId(stack.triggers.deadLetterQueue.node.defaultChild as never);

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
