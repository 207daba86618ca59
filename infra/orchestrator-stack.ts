/**
 * The AFU-9 deployment orchestrator: the state machine from `statemachine/deployment.asl.json`, the
 * Lambda functions its states call, the triggers that start it, the diff build, the notification
 * topic, the wait/ledger table and the alarms. Every environment fact (cluster, services, task
 * family, secrets, repositories, target stacks) comes from the deployment configuration the functions carry.
 */
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Token, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { STATE_MACHINE_OUTPUT_KEY } from '../lambdas/aws/step-functions';
import type { DeployConfig, EnvironmentConfig } from '../lambdas/domain/environments';
import { repositoryDeployConfig } from './deploy-config-file';
import { AsyncInvocationFailures } from './async-invocation-failures';
import { DiffBuild, type InfraSourceLocation } from './diff-build';
import { InfrastructureBuilds } from './infrastructure-builds';
import { HandlerFunctions, HandlerName } from './handler-functions';
import { ApprovalEndpoint } from './approval-endpoint';
import { grantApprovalPermissions } from './approval-permissions';
import { grantHandlerPermissions } from './handler-permissions';
import { acknowledgeWildcardResource } from './nag';
import { NotificationTopic } from './notification-topic';
import { OrchestratorAlarms } from './orchestrator-alarms';
import { DeploymentTriggers } from './deployment-triggers';
import {
  clusterArns,
  infrastructureStackArns,
  repositoryNames,
  serviceArns,
  targetStackArns,
} from './resource-arns';
import { definitionPath } from '../statemachine/definition';
import { STATE_MACHINE_NAME } from '../lambdas/aws/step-functions';
import { DEFAULT_LEDGER_RETENTION_DAYS } from '../lambdas/domain/ledger';

export interface OrchestratorStackProps extends StackProps {
  /**
   * The validated deployment configuration: rules, ARNs and permissions are derived from its
   * environments, and every function is bundled with it. All environments must be in the stack's
   * region (EventBridge rules only see their own region).
   *
   * @default - the repository's `deploy.config.json`
   */
  readonly config?: DeployConfig;
  /**
   * An address subscribed to the notification topic by email.
   *
   * @default - no subscription
   */
  readonly notificationEmail?: string;
  /**
   * ARNs of the roles the AFU-9 task definitions name (task role and execution role): the only
   * roles the update function may pass, and only to ECS tasks.
   *
   * @default - the roles CloudFormation created in each environment's target stack
   *   (`arn:aws:iam::<account>:role/<stackName>-*`, the names CDK gives a stack's roles)
   */
  readonly taskRoleArns?: readonly string[];
  /**
   * Where the AFU-9 infrastructure source zip is that the diff build runs `cdk diff` in.
   *
   * @default - `source/afu9-infra.zip` in the stack's artifacts bucket
   */
  readonly infraSource?: InfraSourceLocation;
  /**
   * The CDK bootstrap qualifier of the account (the diff build assumes its lookup role).
   *
   * @default 'hnb659fds' (the CDK default)
   */
  readonly bootstrapQualifier?: string;
  /**
   * How long function, state machine and build logs are kept.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How long `cdk diff` texts are kept in the artifacts bucket.
   *
   * @default Duration.days(30)
   */
  readonly diffRetention?: Duration;
  /**
   * Days the deployment ledger keeps a deployment record (DynamoDB TTL): set it to the audit period
   * your team needs; records are never deleted sooner.
   *
   * @default 400 (DEFAULT_LEDGER_RETENTION_DAYS: a 13-month audit year plus a margin)
   */
  readonly ledgerRetentionDays?: number;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const QUALIFIER_PATTERN = /^[a-z0-9]{1,10}$/;

function validateProps(
  stack: Stack,
  props: OrchestratorStackProps,
  environments: readonly EnvironmentConfig[],
) {
  if (environments.length === 0) {
    throw new Error('OrchestratorStack needs at least one environment to deploy to. Received: none.');
  }
  if (!Token.isUnresolved(stack.region)) {
    const elsewhere = environments.filter((env) => env.region !== stack.region);
    if (elsewhere.length > 0) {
      throw new Error(
        `Every environment must be in the stack's region ${stack.region} (EventBridge rules only see events of ` +
          `their own region); deploy one orchestrator per region. Received: ${elsewhere.map((env) => `${env.name} in ${env.region}`).join(', ')}.`,
      );
    }
  }
  const noTagPrefix = environments.filter((env) => env.imageTagPrefix.trim() === '');
  if (noTagPrefix.length > 0) {
    throw new Error(
      'Every environment needs an imageTagPrefix: the push rule starts deployments only for tags with a configured ' +
        `prefix. Received an empty prefix for: ${noTagPrefix.map((env) => env.name).join(', ')}.`,
    );
  }
  if (props.notificationEmail !== undefined && !EMAIL_PATTERN.test(props.notificationEmail)) {
    throw new Error(
      `notificationEmail must be one email address, like ops@example.com. Received: "${props.notificationEmail}".`,
    );
  }
  if (props.taskRoleArns !== undefined) {
    const invalid = props.taskRoleArns.filter((arn) => !ROLE_ARN_PATTERN.test(arn));
    if (props.taskRoleArns.length === 0 || invalid.length > 0) {
      throw new Error(
        'taskRoleArns must list the IAM role ARNs of the task role and execution role, like ' +
          `arn:aws:iam::123456789012:role/afu9-task-role. Received: ${JSON.stringify(props.taskRoleArns)}.`,
      );
    }
  }
  if (props.infraSource && (!props.infraSource.bucketName || !props.infraSource.objectKey)) {
    throw new Error(
      'infraSource needs both a bucket name and an object key (the zip of the AFU-9 infrastructure repository). ' +
        `Received: ${JSON.stringify(props.infraSource)}.`,
    );
  }
  if (props.bootstrapQualifier !== undefined && !QUALIFIER_PATTERN.test(props.bootstrapQualifier)) {
    throw new Error(
      `bootstrapQualifier must be 1 to 10 lowercase letters or digits (cdk bootstrap --qualifier). Received: "${props.bootstrapQualifier}".`,
    );
  }
  if (
    props.ledgerRetentionDays !== undefined &&
    (!Number.isInteger(props.ledgerRetentionDays) || props.ledgerRetentionDays < 1)
  ) {
    throw new Error(
      `ledgerRetentionDays must be a whole number of days, at least 1. Received: ${props.ledgerRetentionDays}.`,
    );
  }
  if (props.diffRetention !== undefined && props.diffRetention.toDays() < 1) {
    throw new Error(
      `diffRetention must be at least one day. Received: ${props.diffRetention.toHumanString()}.`,
    );
  }
}

/** The ASL placeholders the state machine's functions fill: `${<Pascal name>FunctionArn}`. */
const functionPlaceholders: Readonly<Record<string, HandlerName>> = {
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
  WatchStackFunctionArn: HandlerName.watchStack,
};

export class OrchestratorStack extends Stack {
  readonly stateMachine: sfn.StateMachine;
  readonly functions: HandlerFunctions;
  readonly table: dynamodb.Table;
  readonly notifications: NotificationTopic;
  readonly diffBuild: DiffBuild;
  /** The synth+diff and deploy builds of infrastructure releases. */
  readonly infrastructureBuilds: InfrastructureBuilds;
  readonly triggers: DeploymentTriggers;
  readonly alarms: OrchestratorAlarms;
  readonly approvals: ApprovalEndpoint;
  /** The functions invoked asynchronously (by EventBridge), each with its on-failure queue. */
  readonly asyncFailures: readonly AsyncInvocationFailures[];

  constructor(scope: Construct, id: string, props: OrchestratorStackProps = {}) {
    super(scope, id, props);
    const config = props.config ?? repositoryDeployConfig();
    const environments = Object.values(config.environments);
    validateProps(this, props, environments);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;

    this.notifications = new NotificationTopic(this, 'Notifications', {
      displayName: config.displayName,
      email: props.notificationEmail,
    });

    // Wait records (token + deployment event) and the deployment ledger; TTL clears both.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.diffBuild = new DiffBuild(this, 'DiffBuild', {
      infraSource: props.infraSource,
      targetStackArns: targetStackArns(this, environments),
      bootstrapQualifier: props.bootstrapQualifier ?? 'hnb659fds',
      diffRetention: props.diffRetention ?? Duration.days(30),
      logRetention,
    });

    this.infrastructureBuilds = new InfrastructureBuilds(this, 'InfrastructureBuilds', {
      sourceBucket: this.diffBuild.sourceBucket,
      sourceKey: this.diffBuild.sourceKey,
      artifactsBucket: this.diffBuild.bucket,
      encryptionKey: this.diffBuild.key,
      stackArns: infrastructureStackArns(this, environments),
      bootstrapQualifier: props.bootstrapQualifier ?? 'hnb659fds',
      assemblyRetention: props.diffRetention ?? Duration.days(30),
      logRetention,
    });

    this.functions = new HandlerFunctions(this, 'Handlers', {
      topicArn: this.notifications.topic.topicArn,
      tableName: this.table.tableName,
      smokeWarmUpSeconds: Math.max(...environments.map((env) => env.smoke.warmUpSeconds)),
      config,
      logRetention,
      ledgerRetentionDays: props.ledgerRetentionDays ?? DEFAULT_LEDGER_RETENTION_DAYS,
    });

    const stateMachineArn = this.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: STATE_MACHINE_NAME,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    grantHandlerPermissions(this.functions, {
      environments,
      table: this.table,
      topic: this.notifications.topic,
      diffBuild: this.diffBuild,
      stateMachineArn,
      executionArns: this.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${STATE_MACHINE_NAME}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      taskRoleArns: props.taskRoleArns ?? defaultTaskRoleArns(this, environments),
    });

    grantApprovalPermissions(this.functions, {
      table: this.table,
      topic: this.notifications.topic,
      stateMachineArn,
    });

    this.stateMachine = this.createStateMachine(logRetention);

    // People approve or deny a held diff through this URL, with their IAM identity (docs/approvals.md).
    this.approvals = new ApprovalEndpoint(this, 'Approvals', {
      decideFunction: this.functions.get(HandlerName.decideApproval),
    });

    this.triggers = new DeploymentTriggers(this, 'Triggers', {
      stateMachine: this.stateMachine,
      deploymentEventFunction: this.functions.get(HandlerName.deploymentEvent),
      repositoryNames: repositoryNames(environments),
      imageTagPrefixes: [...new Set(environments.map((env) => env.imageTagPrefix))],
      serviceArns: serviceArns(this, environments),
      clusterArns: clusterArns(this, environments),
      serviceNames: [...new Set(environments.map((env) => env.serviceName))],
    });

    // Past an hour a wake-up is stale: the waiting execution has woken through its safety-net poll.
    this.asyncFailures = [
      new AsyncInvocationFailures(this, 'DeploymentEventFailures', {
        function: this.functions.get(HandlerName.deploymentEvent),
        maxEventAge: Duration.hours(1),
      }),
    ];

    this.alarms = new OrchestratorAlarms(this, 'Alarms', {
      stateMachine: this.stateMachine,
      rules: this.triggers.rules,
      deadLetterQueue: this.triggers.deadLetterQueue,
      notifyFunction: this.functions.get(HandlerName.notify),
      asyncFailures: this.asyncFailures,
      notifications: this.notifications,
    });

    new CfnOutput(this, STATE_MACHINE_OUTPUT_KEY, {
      value: this.stateMachine.stateMachineArn,
      description: 'Start a deployment: aws stepfunctions start-execution --state-machine-arn <this>',
    });
    new CfnOutput(this, 'TopicArn', { value: this.notifications.topic.topicArn });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'DiffBucketName', { value: this.diffBuild.bucket.bucketName });
    // The queues a person reads and redrives from when their alarms fire (docs/stack.md).
    new CfnOutput(this, 'TriggerDeadLetterQueueUrl', { value: this.triggers.deadLetterQueue.queueUrl });
    for (const failures of this.asyncFailures) {
      new CfnOutput(this, `${failures.function.node.id}FailuresQueueUrl`, { value: failures.queue.queueUrl });
    }
  }

  /**
   * Execution data stays out of the logs (`includeExecutionData: false`): payloads carry task
   * tokens, which complete a waiting execution for anyone holding one, and deployment details that
   * need not live in a second place; the execution history keeps them behind Step Functions' own
   * permissions. The overall deployment timeout is `TimeoutSeconds` in the ASL itself.
   */
  private createStateMachine(logRetention: logs.RetentionDays): sfn.StateMachine {
    const substitutions: Record<string, string> = {
      DiffProjectName: this.diffBuild.project.projectName,
      InfraDiffProjectName: this.infrastructureBuilds.synthDiffProject.projectName,
      InfraDeployProjectName: this.infrastructureBuilds.deployProject.projectName,
      DiffBucketName: this.diffBuild.bucket.bucketName,
    };
    for (const [placeholder, name] of Object.entries(functionPlaceholders)) {
      substitutions[placeholder] = this.functions.get(name).functionArn;
    }

    const stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: STATE_MACHINE_NAME,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(definitionPath),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'StateMachineLogs', {
          // The vendedlogs prefix keeps the log group's resource policy within its size limit.
          logGroupName: `/aws/vendedlogs/states/${STATE_MACHINE_NAME}`,
          retention: logRetention,
          removalPolicy: RemovalPolicy.RETAIN,
        }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });

    for (const name of Object.values(functionPlaceholders)) {
      const fn = this.functions.get(name);
      fn.grantInvoke(stateMachine);
      acknowledgeWildcardResource(
        stateMachine.role,
        `${fn.functionArn}:*`,
        `grantInvoke also covers versions and aliases of the ${name} function (and no other function).`,
      );
    }
    acknowledgeWildcardResource(
      stateMachine.role,
      '*',
      'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs delivery ' +
        '(logs:CreateLogDelivery and friends) have no resource-level permissions.',
    );
    // What the `codebuild:startBuild.sync` integration needs: the build calls, and the managed
    // EventBridge rule through which Step Functions learns that the build finished.
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'],
        resources: [
          this.diffBuild.project.projectArn,
          this.infrastructureBuilds.synthDiffProject.projectArn,
          this.infrastructureBuilds.deployProject.projectArn,
        ],
      }),
    );
    stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          this.formatArn({ service: 'events', resource: 'rule', resourceName: SYNC_CODEBUILD_RULE_NAME }),
        ],
      }),
    );
    return stateMachine;
  }
}

/** The EventBridge rule Step Functions manages for `.sync` CodeBuild tasks (AWS documentation name). */
export const SYNC_CODEBUILD_RULE_NAME = 'StepFunctionsGetEventForCodeBuildStartBuildRule';

function defaultTaskRoleArns(stack: Stack, environments: readonly EnvironmentConfig[]): string[] {
  return [...new Set(environments.map((env) => env.stackName))].map((stackName) =>
    stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${stackName}-*` }),
  );
}
