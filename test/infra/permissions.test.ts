/**
 * Least privilege, as granted: what each role may do, on which resources, under which conditions.
 * Bundling is skipped (permissions do not depend on the code assets).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HandlerName } from '../../infra/handler-functions';
import type { OrchestratorStack } from '../../infra/orchestrator-stack';
import { environments } from '../support/afu9-config';
import {
  actionsOf,
  buildApp,
  resourcesOf,
  roleOf,
  statementsOfFunction,
  statementsOfRole,
  synthTemplate,
  type PolicyStatementJson,
} from './synth';
import { awsCallsOfHandler } from './sdk-calls';

const allEnvironments = Object.values(environments);

/** What every function gets to run at all: its own log group, and X-Ray segments. */
const RUNTIME_ACTIONS = new Set([
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
]);

/**
 * The AWS calls each handler makes, as IAM actions (the test below reads them from the code, so
 * this table cannot drift from it). Anything more is excess privilege; anything less fails in AWS.
 */
const expectedActions: Record<HandlerName, string[]> = {
  [HandlerName.resolveRequest]: [
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'ecr:DescribeImages',
    'states:DescribeExecution',
  ],
  [HandlerName.analyzeDiff]: ['s3:GetObject'],
  [HandlerName.verifySecrets]: [
    'ecr:DescribeImages',
    'ecs:DescribeServices',
    'ecs:DescribeTaskDefinition',
    'kms:Decrypt',
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetSecretValue',
  ],
  [HandlerName.updateService]: [
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'ecs:DescribeServices',
    'ecs:DescribeTaskDefinition',
    'ecs:RegisterTaskDefinition',
    'ecs:TagResource',
    'ecs:UpdateService',
    'iam:PassRole',
  ],
  [HandlerName.registerWait]: [
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'ecs:DescribeServices',
    'states:SendTaskSuccess',
  ],
  [HandlerName.pollStabilization]: [
    'ecs:DescribeServices',
    'ecs:DescribeTaskDefinition',
    'ecs:DescribeTasks',
    'ecs:ListTasks',
  ],
  [HandlerName.smokeTest]: ['ecs:DescribeTaskDefinition', 'ecs:DescribeTasks', 'ecs:ListTasks'],
  [HandlerName.rollback]: ['dynamodb:GetItem', 'dynamodb:Query', 'ecs:DescribeServices', 'ecs:UpdateService'],
  [HandlerName.notify]: [
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
    'ecr:DescribeImages',
    'ecs:DescribeTaskDefinition',
    'kms:Decrypt',
    'kms:GenerateDataKey*',
    'sns:Publish',
    'ssm:PutParameter',
  ],
  [HandlerName.deploymentEvent]: ['dynamodb:UpdateItem', 'states:SendTaskSuccess'],
  [HandlerName.requestApproval]: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'kms:Decrypt',
    'kms:GenerateDataKey*',
    'sns:Publish',
  ],
  [HandlerName.expireApproval]: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  [HandlerName.decideApproval]: ['dynamodb:Query', 'dynamodb:UpdateItem', 'states:SendTaskSuccess'],
  [HandlerName.watchStack]: [
    'cloudformation:DescribeStackEvents',
    'cloudformation:DescribeStacks',
    'ecs:DescribeServices',
  ],
};

/**
 * What a call needs beyond its own action: tag-on-create and the task's roles, the topic's key, and
 * the customer managed key a secret may be encrypted with (Secrets Manager decrypts as the caller).
 */
const impliedActions: Record<string, string[]> = {
  'ecs:RegisterTaskDefinition': ['ecs:TagResource', 'iam:PassRole'],
  'sns:Publish': ['kms:Decrypt', 'kms:GenerateDataKey*'],
  'secretsmanager:GetSecretValue': ['kms:Decrypt'],
};

/**
 * What Lambda itself does with a function's role rather than the code: an asynchronously invoked
 * function's role sends the failed event to its on-failure queue (the destination's grant).
 */
const lambdaDeliveryActions: Partial<Record<HandlerName, string[]>> = {
  [HandlerName.deploymentEvent]: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
};

function grantedActions(statements: PolicyStatementJson[]): string[] {
  return [...new Set(statements.flatMap(actionsOf).filter((action) => !RUNTIME_ACTIONS.has(action)))].sort();
}

function statementsFor(statements: PolicyStatementJson[], action: string): PolicyStatementJson[] {
  return statements.filter((statement) => actionsOf(statement).includes(action));
}

describe('OrchestratorStack permissions', () => {
  let stack: OrchestratorStack;
  let template: Template;
  const resolve = (value: unknown) => stack.resolve(value);

  beforeAll(() => {
    ({ stack, template } = synthTemplate());
  });

  it.each(Object.values(HandlerName))(
    'GIVEN the %s handler WHEN synthesized THEN its role grants exactly the calls its code makes',
    (name) => {
      // Act
      const granted = grantedActions(statementsOfFunction(template, name));

      // Assess
      expect(granted).toEqual([...expectedActions[name], ...(lambdaDeliveryActions[name] ?? [])].sort());
    },
  );

  it.each(Object.values(HandlerName))(
    'GIVEN the %s handler code WHEN its AWS calls are read from it THEN they are exactly the actions expected above',
    (name) => {
      // Act
      const calls = awsCallsOfHandler(name);
      const needed = [...new Set([...calls, ...calls.flatMap((call) => impliedActions[call] ?? [])])].sort();

      // Assess
      expect(needed).toEqual([...expectedActions[name]].sort());
    },
  );

  describe('secrets the running task definition names', () => {
    const configuredSecretArns = () =>
      [...new Set(allEnvironments.flatMap((env) => env.secrets.map((secret) => secret.name)))].flatMap(
        (name) =>
          [`${name}-??????`, name].map((resourceName) =>
            resolve(
              `arn:${stack.partition}:secretsmanager:eu-central-1:${stack.account}:secret:${resourceName}`,
            ),
          ),
      );
    const rdsSecretArn = () =>
      resolve(`arn:${stack.partition}:secretsmanager:eu-central-1:${stack.account}:secret:rds!*`);

    function secretStatements(): PolicyStatementJson[] {
      return Object.values(HandlerName).flatMap((name) =>
        statementsOfFunction(template, name).filter((statement) =>
          actionsOf(statement).some((action) => action.startsWith('secretsmanager:')),
        ),
      );
    }

    it('GIVEN the configured secrets WHEN synthesized THEN one statement names exactly them (with the random suffix, and bare for a secret that does not exist), with no wildcard but the suffix', () => {
      // Act
      const configured = secretStatements().filter(
        (statement) => !JSON.stringify(resourcesOf(statement)).includes('rds!'),
      );

      // Assess
      expect(configured).toHaveLength(1);
      expect(resourcesOf(configured[0]!)).toEqual(configuredSecretArns());
      expect(
        JSON.stringify(
          resourcesOf(configured[0]!)
            .map(String)
            .map((arn) => arn.replace('-??????', '')),
        ),
      ).not.toContain('*');
    });

    it('GIVEN an RDS-managed secret in the task definition WHEN synthesized THEN verify-secrets may read rds!… secrets of this account and region, and nothing else may', () => {
      // Act
      const rds = secretStatements().filter((statement) =>
        JSON.stringify(resourcesOf(statement)).includes('rds!'),
      );
      const holders = Object.values(HandlerName).filter((name) =>
        JSON.stringify(statementsOfFunction(template, name)).includes('secret:rds!'),
      );

      // Assess
      expect(holders).toEqual([HandlerName.verifySecrets]);
      expect(rds).toHaveLength(1);
      expect(actionsOf(rds[0]!).sort()).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ]);
      expect(resourcesOf(rds[0]!)).toEqual([rdsSecretArn()]);
    });

    it('GIVEN a secret encrypted with a customer managed key WHEN synthesized THEN verify-secrets may decrypt only through Secrets Manager and only for the secrets it may read', () => {
      // Act
      const decrypts = statementsFor(
        statementsOfFunction(template, HandlerName.verifySecrets),
        'kms:Decrypt',
      );

      // Assess
      expect(decrypts).toHaveLength(1);
      expect(actionsOf(decrypts[0]!)).toEqual(['kms:Decrypt']);
      expect(resourcesOf(decrypts[0]!)).toEqual([
        resolve(`arn:${stack.partition}:kms:eu-central-1:${stack.account}:key/*`),
      ]);
      expect(decrypts[0]!.Condition).toEqual({
        StringEquals: { 'kms:ViaService': ['secretsmanager.eu-central-1.amazonaws.com'] },
        StringLike: { 'kms:EncryptionContext:SecretARN': [...configuredSecretArns(), rdsSecretArn()] },
      });
    });
  });

  it('GIVEN the task roles WHEN synthesized THEN they may only be passed to ECS tasks', () => {
    // Act
    const [passRole, ...others] = statementsFor(
      statementsOfFunction(template, HandlerName.updateService),
      'iam:PassRole',
    );

    // Assess
    expect(others).toHaveLength(0);
    expect(passRole!.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
    expect(resourcesOf(passRole!)).not.toContain('*');
  });

  it("GIVEN the configured services WHEN synthesized THEN UpdateService names exactly them and only revisions of the environments' task families", () => {
    // Prepare
    const services = resolve(
      allEnvironments.map((env) =>
        stack.formatArn({
          service: 'ecs',
          region: env.region,
          resource: 'service',
          resourceName: `${env.clusterName}/${env.serviceName}`,
        }),
      ),
    );
    const families = resolve(
      ['afu9-control-center-staging:*', 'afu9-control-center:*'].map((resourceName) =>
        stack.formatArn({
          service: 'ecs',
          region: 'eu-central-1',
          resource: 'task-definition',
          resourceName,
        }),
      ),
    );

    // Act
    const statements = [HandlerName.updateService, HandlerName.rollback].flatMap((name) =>
      statementsFor(statementsOfFunction(template, name), 'ecs:UpdateService'),
    );

    // Assess
    expect(statements).toHaveLength(2);
    for (const statement of statements) {
      expect(resourcesOf(statement)).toEqual(services);
      expect(statement.Condition).toEqual({ ArnLike: { 'ecs:task-definition': families } });
    }
  });

  it('GIVEN task definitions WHEN synthesized THEN registration requires the execution tag and tagging is only part of registration', () => {
    // Act
    const statements = statementsOfFunction(template, HandlerName.updateService);
    const [register] = statementsFor(statements, 'ecs:RegisterTaskDefinition');
    const [tag] = statementsFor(statements, 'ecs:TagResource');

    // Assess
    expect(register!.Condition).toEqual({ Null: { 'aws:RequestTag/afu9:execution-id': 'false' } });
    expect(tag!.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } });
    expect(resourcesOf(tag!)).not.toContain('*');
  });

  it('GIVEN the cluster WHEN synthesized THEN task listing and description are held to it', () => {
    // Prepare
    const cluster = resolve(
      stack.formatArn({
        service: 'ecs',
        region: 'eu-central-1',
        resource: 'cluster',
        resourceName: 'afu9-cluster',
      }),
    );

    // Act
    const statements = statementsOfFunction(template, HandlerName.pollStabilization);

    // Assess
    for (const action of ['ecs:ListTasks', 'ecs:DescribeTasks']) {
      const [statement] = statementsFor(statements, action);
      expect(statement!.Condition).toEqual({ ArnEquals: { 'ecs:cluster': [cluster] } });
    }
  });

  it('GIVEN the configured repositories WHEN synthesized THEN image lookups name exactly them', () => {
    // Act
    const [statement] = statementsFor(
      statementsOfFunction(template, HandlerName.verifySecrets),
      'ecr:DescribeImages',
    );

    // Assess
    expect(JSON.stringify(resourcesOf(statement!))).toContain('repository/afu9/control-center');
    expect(resourcesOf(statement!)).toHaveLength(4);
  });

  it("GIVEN the environments WHEN synthesized THEN only notify may write image parameters, exactly below each environment's path", () => {
    // Act
    const writers = Object.values(HandlerName).filter(
      (name) => statementsFor(statementsOfFunction(template, name), 'ssm:PutParameter').length > 0,
    );
    const [statement] = statementsFor(statementsOfFunction(template, HandlerName.notify), 'ssm:PutParameter');

    // Assess
    expect(writers).toEqual([HandlerName.notify]);
    expect(actionsOf(statement!)).toEqual(['ssm:PutParameter']);
    expect(JSON.stringify(resourcesOf(statement!))).toContain(':parameter/deploy/staging/*');
    expect(JSON.stringify(resourcesOf(statement!))).toContain(':parameter/deploy/production/*');
    expect(resourcesOf(statement!)).toHaveLength(allEnvironments.length);
    expect(statement!.Condition).toBeUndefined();
  });

  it('GIVEN the wait halves WHEN synthesized THEN only they may complete task tokens, and only of this state machine', () => {
    // Act
    const holders = Object.values(HandlerName).filter(
      (name) => statementsFor(statementsOfFunction(template, name), 'states:SendTaskSuccess').length > 0,
    );
    const [statement] = statementsFor(
      statementsOfFunction(template, HandlerName.deploymentEvent),
      'states:SendTaskSuccess',
    );

    // Assess
    expect(holders.sort()).toEqual(
      [HandlerName.deploymentEvent, HandlerName.registerWait, HandlerName.decideApproval].sort(),
    );
    expect(JSON.stringify(resourcesOf(statement!))).toContain(':stateMachine:Afu9Deployment');
  });

  it('GIVEN the state machine role WHEN synthesized THEN it invokes the twelve workflow functions (never decide-approval) and runs the three builds through the managed rule', () => {
    // Act
    const statements = statementsOfRole(template, roleOf(template, 'AWS::StepFunctions::StateMachine'));
    const invoked = statementsFor(statements, 'lambda:InvokeFunction').flatMap(resourcesOf);
    const [build] = statementsFor(statements, 'codebuild:StartBuild');
    const [rule] = statementsFor(statements, 'events:PutRule');

    // Assess
    expect(invoked).toHaveLength(12 * 2);
    expect(JSON.stringify(invoked)).not.toContain('DeploymentEvent');
    // Only a person's signed request decides an approval; the workflow cannot decide its own.
    expect(JSON.stringify(invoked)).not.toContain('DecideApproval');
    expect(actionsOf(build!).sort()).toEqual([
      'codebuild:BatchGetBuilds',
      'codebuild:StartBuild',
      'codebuild:StopBuild',
    ]);
    // The image release's diff build, and the infrastructure release's synth+diff and deploy builds.
    expect(resourcesOf(build!)).toHaveLength(3);
    expect(actionsOf(rule!).sort()).toEqual(['events:DescribeRule', 'events:PutRule', 'events:PutTargets']);
    expect(JSON.stringify(resourcesOf(rule!))).toContain(
      'rule/StepFunctionsGetEventForCodeBuildStartBuildRule',
    );
  });

  it('GIVEN the diff build role WHEN synthesized THEN it writes only diff texts, reads only the target stacks and may assume only the lookup role', () => {
    // Act
    const statements = statementsOfRole(template, roleOf(template, 'AWS::CodeBuild::Project'));
    const [put] = statementsFor(statements, 's3:PutObject');
    const [readStacks] = statementsFor(statements, 'cloudformation:GetTemplate');
    const [assume] = statementsFor(statements, 'sts:AssumeRole');

    // Assess
    expect(JSON.stringify(resourcesOf(put!))).toMatch(/\/diffs\/\*"\]/);
    expect(actionsOf(readStacks!).every((action) => /^cloudformation:(Describe|Get)/.test(action))).toBe(
      true,
    );
    expect(JSON.stringify(resourcesOf(readStacks!))).toContain('stack/Afu9EcsStack/*');
    expect(JSON.stringify(resourcesOf(assume!))).toContain('role/cdk-hnb659fds-lookup-role-');
    expect(
      statements
        .flatMap(actionsOf)
        .filter((action) =>
          /^(ecs|iam|secretsmanager|cloudformation:(Create|Update|Delete|Execute))/.test(action),
        ),
    ).toEqual([]);
  });

  it('GIVEN taskRoleArns in context WHEN synthesized THEN exactly those roles are passable', () => {
    // Prepare
    const roles = [
      'arn:aws:iam::123456789012:role/afu9-task',
      'arn:aws:iam::123456789012:role/afu9-execution',
    ];

    // Act
    const { template: narrowed } = synthTemplate({ context: { taskRoleArns: roles.join(',') } });
    const [passRole] = statementsFor(
      statementsOfFunction(narrowed, HandlerName.updateService),
      'iam:PassRole',
    );

    // Assess
    expect(resourcesOf(passRole!)).toEqual(roles);
  });

  it('GIVEN a wildcard permission nobody acknowledged WHEN the AwsSolutions pack checks the app THEN it reports an error', () => {
    // Prepare
    const { app, stack: fresh } = buildApp();
    fresh.functions
      .get(HandlerName.smokeTest)
      .addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::some-bucket/*'] }),
      );

    // Act
    const report = new AwsSolutionsChecks().validateScope(app);

    // Assess
    expect(report.violations).toEqual([
      expect.objectContaining({
        ruleName: 'AwsSolutions-IAM5[Resource::arn:aws:s3:::some-bucket/*]',
        severity: 'error',
      }),
    ]);
  });
});
