/**
 * Notify*: records the outcome in the deployment ledger, then publishes the one SNS message an
 * execution ends with. The state machine calls it from every terminal path with the whole state; a
 * notification failure never changes that path's terminal state (the ASL's Catch sees to it), it
 * only fails this step.
 *
 * The ledger comes first, so a failing SNS never loses the outcome: the record is finished, the live
 * pointer moved when the outcome proves a revision, and the service's lock released. A ledger write
 * that fails does not hold the message back; once the message is out, the step fails with
 * NotificationFailed (not retried, so the message is not sent twice) and the notify function's error
 * alarm tells an operator that the ledger missed an outcome.
 *
 * Once the ledger knows what is live (a verified deployment or a completed rollback), the image of
 * every container of that revision is published as its SSM parameter, so a later `cdk deploy` of the
 * ECS stack keeps what runs. A parameter that could not be written is named in the message, and the
 * step then fails the same way (NotificationFailed, the notify error alarm): the outcome still goes out.
 */
import { readApprovals } from '../aws/approvals';
import { publishImageParameters } from '../aws/image-parameters';
import { finishDeploymentRecord, getLive, ledgerTable, releaseServiceLock, setLive } from '../aws/ledger';
import { publishNotification } from '../aws/notifier';
import { describeAwsError } from '../domain/aws-error-kind';
import { displayNameOf, environmentNamed } from '../domain/environments';
import { NotificationFailed } from '../domain/errors';
import { deploymentIdOf, ledgerEnding, type LedgerEnding } from '../domain/ledger';
import { isInfrastructureState, type ReleaseApprovals } from '../domain/infrastructure-notification';
import { composeNotification } from '../domain/notification';
import type { NotificationResult, Outcome } from '../domain/workflow-state';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface NotifyEvent {
  /** `$$.Execution.Id`: the execution ARN, linked from the message. */
  readonly executionId: string;
  readonly outcome: Outcome;
  /** The whole state (`$`); any slot may be missing. */
  readonly state: unknown;
  /** `$$.Execution.StartTime`; without it the duration counts from the service update. */
  readonly startedAt?: string;
}

/** Writes the ending to the ledger; returns what failed (empty when all of it was written). */
async function recordEnding(deps: HandlerDeps, executionId: string, ending: LedgerEnding): Promise<string[]> {
  const table = ledgerTable(deps.settings);
  const { environment } = ending;
  const failures: string[] = [];
  const attempt = async (what: string, write: () => Promise<void>) => {
    try {
      await write();
    } catch (error) {
      deps.logger.error(`Deployment ledger not updated: ${what}`, { error: error as Error });
      failures.push(`${what} (${describeAwsError(error)})`);
    }
  };

  const { record, live } = ending;
  if (record) {
    await attempt(`finishing the record of ${record.deploymentId}`, async () => {
      const finished = await finishDeploymentRecord(deps.clients, table, { environment, ...record });
      if (!finished) {
        deps.logger.warn('No deployment record to finish', { startedAt: record.startedAt });
      }
    });
  }
  if (live) {
    await attempt(`setting ${live.taskDefinitionArn} live`, async () => {
      // A rollback target keeps the version the ledger knew it by.
      const version =
        live.version ??
        (await getLive(deps.clients, table, environment).then((previous) =>
          previous?.taskDefinitionArn === live.taskDefinitionArn ? previous.version : undefined,
        ));
      await setLive(deps.clients, table, {
        environment,
        taskDefinitionArn: live.taskDefinitionArn,
        ...(version !== undefined && { version }),
        deploymentId: deploymentIdOf(executionId),
        provedBy: live.provedBy,
        since: deps.now().toISOString(),
      });
    });
  }
  await attempt('releasing the service lock', async () => {
    const released = await releaseServiceLock(deps.clients, table, { environment, executionId });
    deps.logger.info(released ? 'Service lock released' : 'Service lock not held by this execution');
  });
  return failures;
}

function ledgerProblem(
  deps: HandlerDeps,
  ledgerFailures: readonly string[],
  environment: string | undefined,
): string {
  return (
    `the deployment ledger in table ${deps.settings.tableName} was not updated: ${ledgerFailures.join('; ')}. ` +
    'Check the notify function role (dynamodb:GetItem, PutItem, UpdateItem, DeleteItem on the table) and ' +
    `\`afu9-deploy history --env ${environment ?? '<env>'}\`; a lock left behind is taken over by the next ` +
    'deployment once this execution has ended.'
  );
}

/**
 * Publishes the live revision's images as the environment's SSM parameters; returns what failed. The
 * SDK client already retried throttling and 5xx, so what is left needs an operator.
 */
async function publishLiveImages(
  deps: HandlerDeps,
  environment: string,
  live: NonNullable<LedgerEnding['live']>,
): Promise<readonly string[]> {
  const config = environmentNamed(deps.environments, environment);
  if (!config) return [];
  const { published, failures } = await publishImageParameters(deps.clients, {
    prefix: config.imageParameterPrefix,
    environment,
    taskDefinitionArn: live.taskDefinitionArn,
  });
  deps.logger.info('Image parameters published', { taskDefinitionArn: live.taskDefinitionArn, published });
  for (const failure of failures) deps.logger.error(`Image parameter not published: ${failure}`);
  return failures;
}

/** Why the SSM image parameters may not point at what runs, and what to do. */
function parameterWarning(failures: readonly string[]): string {
  return (
    `the image parameters were NOT all published: ${failures.join('; ')}. Until they are, a \`cdk deploy\` of the ` +
    'ECS stack may put back older images for these containers. Check the notify function role (ssm:PutParameter ' +
    "on the environment's image parameters, ecs:DescribeTaskDefinition, ecr:DescribeImages), then write the " +
    'parameters by hand (`aws ssm put-parameter --overwrite`) or redeploy the live image.'
  );
}

/**
 * An infrastructure release's approvals, one ledger item per held stack: the state keeps only the
 * current stack's decision, and the message names who approved or denied each one and why.
 */
async function releaseApprovals(deps: HandlerDeps, executionId: string): Promise<ReleaseApprovals> {
  try {
    return {
      read: true,
      records: await readApprovals(deps.clients, ledgerTable(deps.settings), executionId),
    };
  } catch (error) {
    deps.logger.error('Approvals not read from the ledger', { error: error as Error });
    return { read: false, problem: describeAwsError(error) };
  }
}

function approvalsProblem(deps: HandlerDeps, problem: string): string {
  return (
    `the release's approvals were not read from table ${deps.settings.tableName} (${problem}), so the message ` +
    "names only the current stack's decision. Check the notify function role (dynamodb:Query on the table); " +
    '`afu9-deploy status <execution>` lists every approval.'
  );
}

export function createNotifyHandler(deps: HandlerDeps) {
  return async (event: NotifyEvent): Promise<NotificationResult> => {
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: event.executionId });
    const now = deps.now();
    const ending = ledgerEnding({
      outcome: event.outcome,
      executionId: event.executionId,
      state: event.state,
      now,
    });
    const ledgerFailures = ending ? await recordEnding(deps, event.executionId, ending) : [];
    const parameterFailures = ending?.live
      ? await publishLiveImages(deps, ending.environment, ending.live)
      : [];

    const approvals = isInfrastructureState(event.state)
      ? await releaseApprovals(deps, event.executionId)
      : undefined;
    const notification = composeNotification({
      outcome: event.outcome,
      executionId: event.executionId,
      state: event.state,
      ...(event.startedAt !== undefined && { startedAt: event.startedAt }),
      now,
      region: deps.settings.region,
      knownEnvironments: Object.keys(deps.environments),
      displayName: displayNameOf(deps.environments),
      ...(approvals && { releaseApprovals: approvals }),
    });
    const sent =
      parameterFailures.length === 0
        ? notification
        : {
            ...notification,
            message: `${notification.message}\n\nWarning: ${parameterWarning(parameterFailures)}`,
          };
    const messageId = await publishNotification(deps.clients, deps.settings.topicArn, sent);
    deps.logger.info('Notification published', {
      outcome: event.outcome,
      environment: notification.attributes.environment,
      subject: notification.subject,
      messageId,
    });
    const problems = [
      ...(ledgerFailures.length > 0 ? [ledgerProblem(deps, ledgerFailures, ending?.environment)] : []),
      ...(parameterFailures.length > 0 ? [parameterWarning(parameterFailures)] : []),
      ...(approvals && !approvals.read ? [approvalsProblem(deps, approvals.problem)] : []),
    ];
    if (problems.length > 0) {
      throw new NotificationFailed(
        `The "${event.outcome}" notification was published (message ${messageId}), but ${problems.join(' And ')}`,
      );
    }
    return { messageId, subject: notification.subject };
  };
}

export const handler = lambdaEntry('notify', createNotifyHandler);
