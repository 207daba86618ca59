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
 */
import { finishDeploymentRecord, getLive, ledgerTable, releaseServiceLock, setLive } from '../aws/ledger';
import { publishNotification } from '../aws/notifier';
import { describeAwsError } from '../domain/aws-error-kind';
import { NotificationFailed } from '../domain/errors';
import { deploymentIdOf, ledgerEnding, type LedgerEnding } from '../domain/ledger';
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

    const notification = composeNotification({
      outcome: event.outcome,
      executionId: event.executionId,
      state: event.state,
      ...(event.startedAt !== undefined && { startedAt: event.startedAt }),
      now,
      region: deps.settings.region,
      knownEnvironments: Object.keys(deps.environments),
    });
    const messageId = await publishNotification(deps.clients, deps.settings.topicArn, notification);
    deps.logger.info('Notification published', {
      outcome: event.outcome,
      environment: notification.attributes.environment,
      subject: notification.subject,
      messageId,
    });
    if (ledgerFailures.length > 0) {
      throw new NotificationFailed(
        `The "${event.outcome}" notification was published (message ${messageId}), but the deployment ledger in ` +
          `table ${deps.settings.tableName} was not updated: ${ledgerFailures.join('; ')}. ` +
          'Check the notify function role (dynamodb:GetItem, PutItem, UpdateItem, DeleteItem on the table) and ' +
          `\`afu9-deploy history --env ${ending?.environment ?? '<env>'}\`; a lock left behind is taken over by the next ` +
          'deployment once this execution has ended.',
      );
    }
    return { messageId, subject: notification.subject };
  };
}

export const handler = lambdaEntry('notify', createNotifyHandler);
