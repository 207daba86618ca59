/**
 * The orchestrator stack as `cdk synth` builds it, functions bundled for real: every resource and
 * property the deployment relies on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HandlerName } from '../../infra/handler-functions';
import type { OrchestratorStack } from '../../infra/orchestrator-stack';
import { repositoryNames, serviceArns } from '../../infra/resource-arns';
import { environments } from '../support/afu9-config';
import { placeholders } from '../../statemachine/definition';
import { functionLogicalId, synthTemplate } from './synth';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const allEnvironments = Object.values(environments);

function onlyResource(
  template: Template,
  type: string,
  props: Record<string, unknown> = {},
): [string, Record<string, unknown>] {
  const found = Object.entries(template.findResources(type, { Properties: props }) as Resources);
  expect(found).toHaveLength(1);
  return [found[0]![0], found[0]![1].Properties];
}

/** The image release's diff build (the infrastructure release's builds are projects of their own). */
const DIFF_PROJECT = { Description: Match.stringLikeRegexp('^Runs `cdk diff`') };

describe('OrchestratorStack', () => {
  let app: App;
  let stack: OrchestratorStack;
  let template: Template;
  let assemblyDirectory: string;

  beforeAll(() => {
    ({ app, stack, template } = synthTemplate({ bundle: true }));
    assemblyDirectory = app.synth().directory;
  });

  describe('functions', () => {
    it.each(Object.values(HandlerName))(
      'GIVEN the handler %s WHEN synthesized THEN it is an arm64 nodejs24.x function with tracing, its settings and source maps',
      (name) => {
        // Act
        const [, props] = onlyResource(template, 'AWS::Lambda::Function', {
          Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: name }) },
        });

        // Assess
        expect(props).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
          Environment: {
            Variables: {
              TOPIC_ARN: { Ref: onlyResource(template, 'AWS::SNS::Topic')[0] },
              DEPLOYMENT_TABLE: { Ref: onlyResource(template, 'AWS::DynamoDB::Table')[0] },
              NODE_OPTIONS: '--enable-source-maps',
            },
          },
        });
      },
    );

    it('GIVEN every function WHEN synthesized THEN each logs to its own log group kept for three months', () => {
      // Act
      const functions = Object.values(template.findResources('AWS::Lambda::Function') as Resources);
      const logGroupIds = functions.map(
        (fn) => (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref,
      );

      // Assess
      expect(new Set(logGroupIds).size).toBe(Object.values(HandlerName).length);
      const logGroups = template.toJSON().Resources as Resources;
      for (const id of logGroupIds) {
        expect(logGroups[id]).toMatchObject({
          Type: 'AWS::Logs::LogGroup',
          Properties: { RetentionInDays: 90 },
        });
      }
    });

    it('GIVEN the smoke test warm-up window WHEN synthesized THEN its function outlasts it and the others stay short', () => {
      // Prepare
      const warmUp = Math.max(...allEnvironments.map((env) => env.smoke.warmUpSeconds));

      // Act
      const timeouts = Object.fromEntries(
        Object.values(HandlerName).map((name) => {
          const resources = template.toJSON().Resources as Resources;
          return [name, resources[functionLogicalId(template, name)]!.Properties.Timeout as number];
        }),
      );

      // Assess
      expect(timeouts[HandlerName.smokeTest]).toBeGreaterThan(warmUp);
      for (const name of Object.values(HandlerName).filter((n) => n !== HandlerName.smokeTest)) {
        expect(timeouts[name]).toBeLessThanOrEqual(60);
      }
    });

    it.each(Object.values(HandlerName))(
      'GIVEN the bundled %s function WHEN its asset is read THEN it is minified, has a source map and carries its own SDK',
      (name) => {
        // Prepare
        const resources = template.toJSON().Resources as Resources;
        const code = resources[functionLogicalId(template, name)]!.Properties.Code as { S3Key: string };
        const assetDirectory = join(assemblyDirectory, `asset.${code.S3Key.replace(/\.zip$/, '')}`);

        // Act
        const bundle = readFileSync(join(assetDirectory, 'index.js'), 'utf8');

        // Assess
        expect(existsSync(join(assetDirectory, 'index.js.map'))).toBe(true);
        // Minified: a few very long lines (the rest are template literals that keep their newlines).
        expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(1000);
        // The clients are inside the bundle, not required from the runtime's copy at start-up.
        expect(/require\("@aws-sdk\/(client-|lib-)/.test(bundle)).toBe(false);
        expect(bundle.includes('name:"@aws-sdk/client-')).toBe(true);
      },
    );
  });

  describe('state machine', () => {
    it('GIVEN the ASL file WHEN synthesized THEN a STANDARD state machine logs ALL events without execution data and traces with X-Ray', () => {
      // Act
      const [, props] = onlyResource(template, 'AWS::StepFunctions::StateMachine');

      // Assess
      expect(props).toMatchObject({
        StateMachineType: 'STANDARD',
        StateMachineName: 'Afu9Deployment',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      });
      expect(props.DefinitionS3Location).toBeDefined();
    });

    it('GIVEN the placeholders of the ASL file WHEN synthesized THEN each has exactly one substitution, and no other exists', () => {
      // Act
      const [, props] = onlyResource(template, 'AWS::StepFunctions::StateMachine');
      const substitutions = props.DefinitionSubstitutions as Record<string, unknown>;

      // Assess
      expect(Object.keys(substitutions).sort()).toEqual([...placeholders].sort());
    });

    it('GIVEN the function placeholders WHEN synthesized THEN each names the ARN of its own handler', () => {
      // Prepare
      const expected: Record<string, HandlerName> = {
        ResolveRequestFunctionArn: HandlerName.resolveRequest,
        AnalyzeDiffFunctionArn: HandlerName.analyzeDiff,
        VerifySecretsFunctionArn: HandlerName.verifySecrets,
        UpdateServiceFunctionArn: HandlerName.updateService,
        RegisterWaitFunctionArn: HandlerName.registerWait,
        PollStabilizationFunctionArn: HandlerName.pollStabilization,
        SmokeTestFunctionArn: HandlerName.smokeTest,
        RollbackFunctionArn: HandlerName.rollback,
        NotifyFunctionArn: HandlerName.notify,
        RequestApprovalFunctionArn: HandlerName.requestApproval,
        ExpireApprovalFunctionArn: HandlerName.expireApproval,
      };

      // Act
      const [, props] = onlyResource(template, 'AWS::StepFunctions::StateMachine');
      const substitutions = props.DefinitionSubstitutions as Record<string, unknown>;

      // Assess
      for (const [placeholder, name] of Object.entries(expected)) {
        expect(substitutions[placeholder]).toEqual({
          'Fn::GetAtt': [functionLogicalId(template, name), 'Arn'],
        });
      }
      expect(substitutions.DiffProjectName).toEqual({
        Ref: onlyResource(template, 'AWS::CodeBuild::Project', DIFF_PROJECT)[0],
      });
      expect(substitutions.DiffBucketName).toEqual({
        Ref: stack.getLogicalId(stack.diffBuild.bucket.node.defaultChild as never),
      });
    });
  });

  describe('notification topic', () => {
    it('GIVEN the topic WHEN synthesized THEN it is encrypted with a rotating customer managed key that CloudWatch may use', () => {
      // Act
      const keyId = stack.getLogicalId(stack.notifications.key.node.defaultChild as never);
      const key = (template.toJSON().Resources as Resources)[keyId]!.Properties;
      const [, topic] = onlyResource(template, 'AWS::SNS::Topic');

      // Assess
      expect(topic.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      expect(key.EnableKeyRotation).toBe(true);
      expect(JSON.stringify(key.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
    });

    it('GIVEN the topic WHEN synthesized THEN its policy refuses every request that is not TLS', () => {
      // Assess
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('GIVEN no notificationEmail context WHEN synthesized THEN the topic has no subscription', () => {
      // Assess
      template.resourceCountIs('AWS::SNS::Subscription', 0);
    });
  });

  describe('table', () => {
    it('GIVEN the wait records and ledger WHEN synthesized THEN the table has pk/sk strings, TTL on expiresAt, on-demand billing, PITR and encryption', () => {
      // Assess
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    });
  });

  describe('triggers', () => {
    function ruleWithPattern(pattern: Record<string, unknown>): Record<string, unknown> {
      const [, props] = onlyResource(template, 'AWS::Events::Rule', { EventPattern: Match.exact(pattern) });
      return props;
    }

    it('GIVEN the configured repositories WHEN synthesized THEN successful pushes to exactly those start the state machine with the event as input', () => {
      // Act
      const rule = ruleWithPattern({
        source: ['aws.ecr'],
        'detail-type': ['ECR Image Action'],
        detail: {
          'action-type': ['PUSH'],
          result: ['SUCCESS'],
          'repository-name': repositoryNames(allEnvironments),
          'image-tag': [{ prefix: 'stage-' }, { prefix: 'prod-' }],
        },
      });

      // Assess
      const [target] = rule.Targets as Record<string, unknown>[];
      expect(target).toMatchObject({
        Arn: { Ref: onlyResource(template, 'AWS::StepFunctions::StateMachine')[0] },
      });
      expect(target).not.toHaveProperty('Input');
      expect(target).not.toHaveProperty('InputTransformer');
    });

    it('GIVEN the configured services WHEN synthesized THEN their failed deployments start the state machine', () => {
      // Act
      const rule = ruleWithPattern({
        source: ['aws.ecs'],
        'detail-type': ['ECS Deployment State Change'],
        resources: stack.resolve(serviceArns(stack, allEnvironments)),
        detail: { eventName: ['SERVICE_DEPLOYMENT_FAILED'] },
      });

      // Assess
      expect((rule.Targets as Record<string, unknown>[])[0]).toMatchObject({
        Arn: { Ref: onlyResource(template, 'AWS::StepFunctions::StateMachine')[0] },
      });
    });

    it('GIVEN the configured services WHEN synthesized THEN their completed or failed deployments go to the deployment-event function', () => {
      // Act
      const rule = ruleWithPattern({
        source: ['aws.ecs'],
        'detail-type': ['ECS Deployment State Change'],
        resources: stack.resolve(serviceArns(stack, allEnvironments)),
        detail: { eventName: ['SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_DEPLOYMENT_FAILED'] },
      });

      // Assess
      expect((rule.Targets as Record<string, unknown>[])[0]).toMatchObject({
        Arn: { 'Fn::GetAtt': [functionLogicalId(template, HandlerName.deploymentEvent), 'Arn'] },
      });
    });

    it('GIVEN every rule target WHEN synthesized THEN it retries delivery and parks failures in the encrypted dead-letter queue', () => {
      // Prepare
      const queueId = stack.getLogicalId(stack.triggers.deadLetterQueue.node.defaultChild as never);
      const queue = (template.toJSON().Resources as Resources)[queueId]!.Properties;

      // Act
      const targets = Object.values(template.findResources('AWS::Events::Rule') as Resources).flatMap(
        (rule) => rule.Properties.Targets as Record<string, unknown>[],
      );

      // Assess
      expect(targets).toHaveLength(4);
      for (const target of targets) {
        expect(target).toMatchObject({
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
          RetryPolicy: {
            MaximumRetryAttempts: expect.any(Number),
            MaximumEventAgeInSeconds: expect.any(Number),
          },
        });
      }
      expect(queue.SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });
  });

  describe('diff build', () => {
    it('GIVEN the artifacts bucket WHEN synthesized THEN it is encrypted, private, TLS-only, logged, and expires diffs after 30 days', () => {
      // Prepare
      const bucketId = stack.getLogicalId(stack.diffBuild.bucket.node.defaultChild as never);
      const logsId = stack.getLogicalId(stack.diffBuild.accessLogsBucket.node.defaultChild as never);
      const resources = template.toJSON().Resources as Resources;

      // Act
      const bucket = resources[bucketId]!.Properties;

      // Assess
      expect(bucket).toMatchObject({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: logsId } },
      });
      expect((bucket.LifecycleConfiguration as { Rules: unknown[] }).Rules).toContainEqual(
        expect.objectContaining({ Prefix: 'diffs/', ExpirationInDays: 30, Status: 'Enabled' }),
      );
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('GIVEN the CodeBuild project WHEN synthesized THEN it runs cdk diff for the requested stack and image and uploads all it printed', () => {
      // Act
      const [, project] = onlyResource(template, 'AWS::CodeBuild::Project', DIFF_PROJECT);
      const source = project.Source as { Type: string; BuildSpec: string; Location: unknown };

      // Assess
      expect(source.Type).toBe('S3');
      expect(JSON.stringify(source.Location)).toContain('/source/afu9-infra.zip');
      expect(source.BuildSpec).toContain('npm ci --ignore-scripts');
      expect(source.BuildSpec).toContain(
        'npx --no-install cdk diff \\"$STACK_NAME\\" -c imageTag=\\"$IMAGE_TAG\\" -c images=\\"$IMAGES_CONTEXT\\" --exclusively --no-change-set --no-notices 2>&1 | tee cdk-diff.txt',
      );
      expect(source.BuildSpec).toContain('CDK_DIFF_EXIT_CODE=${PIPESTATUS[0]}');
      expect(source.BuildSpec).toContain('aws s3 cp cdk-diff.txt \\"s3://$DIFF_BUCKET/$DIFF_OBJECT_KEY\\"');
      expect(project).toMatchObject({
        EncryptionKey: {
          'Fn::GetAtt': [stack.getLogicalId(stack.diffBuild.key.node.defaultChild as never), 'Arn'],
        },
        Environment: {
          EnvironmentVariables: expect.arrayContaining([
            expect.objectContaining({
              Name: 'DIFF_BUCKET',
              Value: { Ref: stack.getLogicalId(stack.diffBuild.bucket.node.defaultChild as never) },
            }),
          ]),
        },
      });
    });
  });

  it('GIVEN the stack WHEN synthesized THEN it outputs what the CLI and operators read', () => {
    // Act
    const outputs = template.toJSON().Outputs as Record<string, unknown>;

    // Assess
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['StateMachineArn', 'TopicArn', 'TableName', 'DiffBucketName']),
    );
    template.hasOutput('StateMachineArn', {
      Value: { Ref: onlyResource(template, 'AWS::StepFunctions::StateMachine')[0] },
    });
  });

  it('GIVEN the AwsSolutions pack WHEN it checks the app THEN nothing is left unacknowledged', () => {
    // Act
    const report = new AwsSolutionsChecks().validateScope(app);

    // Assess
    expect(report.violations.map((violation) => `${violation.severity} ${violation.ruleName}`)).toEqual([]);
  });
});
