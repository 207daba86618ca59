/**
 * What each function may do, and nothing more: every statement here answers an AWS call its handler
 * makes (the infra tests read those calls from the handlers' code and compare). Resources come from the
 * deployment configuration, so only the configured cluster, services, task families, secrets and repositories
 * are reachable.
 */
import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { EnvironmentConfig } from '../lambdas/domain/environments';
import { RevisionTag } from '../lambdas/domain/task-definition';
import type { DiffBuild } from './diff-build';
import { HandlerName, type HandlerFunctions } from './handler-functions';
import { acknowledgeWildcardAction, acknowledgeWildcardResource } from './nag';
import {
  clusterArns,
  imageParameterArns,
  infrastructureStackArns,
  rdsManagedSecretArns,
  repositoryArns,
  secretArns,
  secretKeyArns,
  secretsManagerEndpoints,
  serviceArns,
  taskDefinitionFamilyArns,
} from './resource-arns';

export interface HandlerPermissionsProps {
  readonly environments: readonly EnvironmentConfig[];
  readonly table: dynamodb.ITable;
  readonly topic: sns.ITopic;
  readonly diffBuild: DiffBuild;
  /** Built from the state machine's name, not referenced: the state machine references the functions. */
  readonly stateMachineArn: string;
  /** Every execution of the state machine (`execution:<name>:*`), built the same way. */
  readonly executionArns: string;
  /** The task role and execution role the task definitions name (`iam:PassRole` targets). */
  readonly taskRoleArns: readonly string[];
}

function allow(actions: string[], resources: string[], conditions?: iam.PolicyStatementProps['conditions']) {
  return new iam.PolicyStatement({ actions, resources, conditions });
}

export function grantHandlerPermissions(functions: HandlerFunctions, props: HandlerPermissionsProps): void {
  const stack = Stack.of(functions);
  const services = serviceArns(stack, props.environments);
  const clusters = clusterArns(stack, props.environments);
  const families = taskDefinitionFamilyArns(stack, props.environments);
  const tasks = props.environments.map((env) =>
    stack.formatArn({
      service: 'ecs',
      region: env.region,
      resource: 'task',
      resourceName: `${env.clusterName}/*`,
    }),
  );
  const fn = (name: HandlerName) => functions.get(name);

  const describeServices = allow(['ecs:DescribeServices'], services);
  // DescribeTaskDefinition and RegisterTaskDefinition support no resource-level permissions (Service
  // Authorization Reference); only registration can be narrowed, by its tags.
  const readTaskDefinitions = allow(['ecs:DescribeTaskDefinition'], ['*']);
  const updateServices = allow(['ecs:UpdateService'], services, {
    ArnLike: { 'ecs:task-definition': families },
  });

  // The deployment ledger's conditional writes: image claims, the service lock, the records.
  const ledgerItemActions = [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ];

  // ResolveRequest: enters the request in the ledger; a claim or lock held by an execution that is
  // no longer running is taken over, so it may look at this state machine's executions.
  const resolveRequest = fn(HandlerName.resolveRequest);
  props.table.grant(resolveRequest, ...ledgerItemActions);
  resolveRequest.addToRolePolicy(allow(['states:DescribeExecution'], [props.executionArns]));
  // The digest of an image started by tag, so the exactly-once claim names what will run.
  resolveRequest.addToRolePolicy(allow(['ecr:DescribeImages'], repositoryArns(stack, props.environments)));
  acknowledgeWildcardResource(
    resolveRequest.role!,
    props.executionArns,
    "Executions are named per deployment; the pattern covers only this state machine's executions (read-only).",
  );

  props.diffBuild.grantReadDiffs(fn(HandlerName.analyzeDiff));

  // VerifySecrets checks every secret the running task definition names, not only the configured
  // ones: the RDS-managed database secret (named by RDS, `rds!…`) too, and any of them may be
  // encrypted with a customer managed key, which Secrets Manager uses on the caller's behalf.
  const verifySecrets = fn(HandlerName.verifySecrets);
  const configuredSecrets = secretArns(stack, props.environments);
  const rdsSecrets = rdsManagedSecretArns(stack, props.environments);
  const readSecret = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
  verifySecrets.addToRolePolicy(allow(readSecret, configuredSecrets));
  verifySecrets.addToRolePolicy(allow(readSecret, rdsSecrets));
  const secretKeys = secretKeyArns(stack, props.environments);
  verifySecrets.addToRolePolicy(
    allow(['kms:Decrypt'], secretKeys, {
      StringEquals: { 'kms:ViaService': secretsManagerEndpoints(props.environments) },
      // Secrets Manager names the secret in the encryption context of every data key it decrypts.
      StringLike: { 'kms:EncryptionContext:SecretARN': [...configuredSecrets, ...rdsSecrets] },
    }),
  );
  for (const arn of rdsSecrets) {
    acknowledgeWildcardResource(
      verifySecrets.role!,
      arn,
      'RDS names the secrets it manages itself (rds!db-<id>, rds!cluster-<id>); read-only, this account and region.',
    );
  }
  for (const arn of secretKeys) {
    acknowledgeWildcardResource(
      verifySecrets.role!,
      arn,
      "A secret's customer managed key is chosen by whoever created the secret; Decrypt is allowed only through " +
        'Secrets Manager (kms:ViaService) and only for the secrets the function may read (SecretARN context).',
    );
  }
  verifySecrets.addToRolePolicy(allow(['ecr:DescribeImages'], repositoryArns(stack, props.environments)));
  // Which secrets the running task definition names.
  verifySecrets.addToRolePolicy(describeServices);
  verifySecrets.addToRolePolicy(allow(['ecs:DescribeTaskDefinition'], ['*']));

  acknowledgeWildcardResource(
    verifySecrets.role!,
    '*',
    'ECS DescribeTaskDefinition has no resource-level permissions (it reads which secrets the task names).',
  );

  const acknowledgeTaskDefinitionCalls = (name: HandlerName) =>
    acknowledgeWildcardResource(
      fn(name).role!,
      '*',
      'ECS DescribeTaskDefinition and RegisterTaskDefinition have no resource-level ' +
        'permissions; registration is conditioned on the execution tag, and the service update on the task family.',
    );

  const updateService = fn(HandlerName.updateService);
  // The registered revision is written to the execution's deployment record before the service update.
  props.table.grant(updateService, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
  updateService.addToRolePolicy(describeServices);
  updateService.addToRolePolicy(readTaskDefinitions);
  updateService.addToRolePolicy(
    allow(['ecs:RegisterTaskDefinition'], ['*'], {
      // Only revisions that say which execution registered them (the rollback finds them by it).
      Null: { [`aws:RequestTag/${RevisionTag.executionId}`]: 'false' },
    }),
  );
  updateService.addToRolePolicy(
    allow(['ecs:TagResource'], families, { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } }),
  );
  updateService.addToRolePolicy(updateServices);
  updateService.addToRolePolicy(
    allow(['iam:PassRole'], [...props.taskRoleArns], {
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    }),
  );
  acknowledgeTaskDefinitionCalls(HandlerName.updateService);
  for (const family of families) {
    acknowledgeWildcardResource(
      updateService.role!,
      family,
      'Every revision of the AFU-9 task family (each deployment registers a new one), and only when the tag is ' +
        'applied by RegisterTaskDefinition itself.',
    );
  }
  for (const roleArn of props.taskRoleArns.filter((arn) => arn.includes('*'))) {
    acknowledgeWildcardResource(
      updateService.role!,
      roleArn,
      'No task role ARNs were configured (context taskRoleArns), so the roles CloudFormation created in the ' +
        'target stack are passable, only to ECS tasks (iam:PassedToService). Set taskRoleArns to narrow it.',
    );
  }

  const pollStabilization = fn(HandlerName.pollStabilization);
  pollStabilization.addToRolePolicy(describeServices);
  pollStabilization.addToRolePolicy(
    allow(['ecs:ListTasks'], ['*'], { ArnEquals: { 'ecs:cluster': clusters } }),
  );
  pollStabilization.addToRolePolicy(
    allow(['ecs:DescribeTasks'], tasks, { ArnEquals: { 'ecs:cluster': clusters } }),
  );
  pollStabilization.addToRolePolicy(allow(['ecs:DescribeTaskDefinition'], ['*']));
  acknowledgeTaskDefinitionCalls(HandlerName.pollStabilization);
  for (const taskPattern of tasks) {
    acknowledgeWildcardResource(
      pollStabilization.role!,
      taskPattern,
      'Task ids are assigned by ECS at launch; the pattern and the ecs:cluster condition keep it to the AFU-9 cluster.',
    );
  }

  // SmokeTest reads the containers' own health: which containers of the new revision define a health
  // check, and how ECS reports them in the service's running tasks. Read-only, the configured clusters.
  const smokeTest = fn(HandlerName.smokeTest);
  smokeTest.addToRolePolicy(allow(['ecs:ListTasks'], ['*'], { ArnEquals: { 'ecs:cluster': clusters } }));
  smokeTest.addToRolePolicy(allow(['ecs:DescribeTasks'], tasks, { ArnEquals: { 'ecs:cluster': clusters } }));
  smokeTest.addToRolePolicy(allow(['ecs:DescribeTaskDefinition'], ['*']));
  acknowledgeTaskDefinitionCalls(HandlerName.smokeTest);
  for (const taskPattern of tasks) {
    acknowledgeWildcardResource(
      smokeTest.role!,
      taskPattern,
      'Task ids are assigned by ECS at launch; the pattern and the ecs:cluster condition keep it to the AFU-9 cluster.',
    );
  }

  const rollback = fn(HandlerName.rollback);
  rollback.addToRolePolicy(describeServices);
  rollback.addToRolePolicy(updateServices);
  // The ledger names the revision this execution registered, and the last known good revision when no
  // update was recorded: the live pointer after an ECS failure event, the recent deployment records
  // for a rollback a person asked for.
  props.table.grant(rollback, 'dynamodb:GetItem', 'dynamodb:Query');

  // Notify finishes the ledger record, moves the live pointer and releases the lock, then publishes.
  const notify = fn(HandlerName.notify);
  props.table.grant(notify, ...ledgerItemActions);
  // An infrastructure release's message names who approved or denied each held stack: the
  // execution's approval items (one partition).
  props.table.grant(notify, 'dynamodb:Query');
  // It then publishes the live revision's images as the environment's SSM parameters (the ECS stack
  // reads them): the revision's containers, the digest of an image it names by tag, and the writes.
  notify.addToRolePolicy(allow(['ssm:PutParameter'], imageParameterArns(stack, props.environments)));
  notify.addToRolePolicy(allow(['ecs:DescribeTaskDefinition'], ['*']));
  notify.addToRolePolicy(allow(['ecr:DescribeImages'], repositoryArns(stack, props.environments)));
  acknowledgeWildcardResource(
    notify.role!,
    '*',
    'ECS DescribeTaskDefinition has no resource-level permissions (it reads which images the live revision runs).',
  );
  for (const arn of imageParameterArns(stack, props.environments)) {
    acknowledgeWildcardResource(
      notify.role!,
      arn,
      "One parameter per container of the environment's task definition (`<container>/image`), written only " +
        "after a verified deployment or a completed rollback; nothing outside the environment's path.",
    );
  }
  props.topic.grantPublish(notify);
  acknowledgeWildcardAction(
    notify.role!,
    'kms:GenerateDataKey*',
    'Publishing to the KMS-encrypted topic needs a data key from the topic key; the grant is on that one key.',
  );

  // The two halves of the wait: each stores its part of the wait record, and whichever comes
  // second claims the record and completes the execution's task token (success only: a failed
  // deployment is a successful wake-up that the poll then judges).
  const completeWait = allow(['states:SendTaskSuccess'], [props.stateMachineArn]);
  const registerWait = fn(HandlerName.registerWait);
  props.table.grant(registerWait, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
  registerWait.addToRolePolicy(completeWait);
  // Whether the deployment already finished before the wait began.
  registerWait.addToRolePolicy(describeServices);

  const deploymentEvent = fn(HandlerName.deploymentEvent);
  props.table.grant(deploymentEvent, 'dynamodb:UpdateItem');
  deploymentEvent.addToRolePolicy(completeWait);

  // WatchStack reads what CloudFormation says of the configured infrastructure stacks (read-only),
  // and the service's deployments before and after, to find the ECS deployment a stack update started.
  const watchStack = fn(HandlerName.watchStack);
  const infrastructureStacks = infrastructureStackArns(stack, props.environments);
  if (infrastructureStacks.length > 0) {
    watchStack.addToRolePolicy(
      allow(['cloudformation:DescribeStacks', 'cloudformation:DescribeStackEvents'], infrastructureStacks),
    );
  }
  watchStack.addToRolePolicy(describeServices);
  for (const arn of infrastructureStacks) {
    acknowledgeWildcardResource(
      watchStack.role!,
      arn,
      'A CloudFormation stack ARN ends in an id assigned at creation; the stack name is fixed, and the actions are read-only.',
    );
  }
}
