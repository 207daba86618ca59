/**
 * ResolveRequest: the execution input (a start input, an ECR push event or an ECS deployment event)
 * becomes one validated DeploymentRequest, or `ignored` with a reason. Refusals throw
 * DeploymentRejected, which the state machine turns into a `rejected` notification.
 */
import { getWaitRecord } from '../aws/deployment-table';
import { AwsErrorKind, classifyAwsError } from '../domain/aws-error-kind';
import { DeploymentError, DeploymentRejected, TransientAwsError } from '../domain/errors';
import { resolveTrigger } from '../domain/request-validation';
import { parseTriggerInput } from '../domain/trigger-events';
import { Trigger, type DeploymentRequest, type ResolveResult } from '../domain/workflow-state';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface ResolveRequestEvent {
  /** `$$.Execution.Id`: the execution ARN. */
  readonly executionId: string;
  readonly executionName: string;
  /** The execution input as it was sent (`$`). */
  readonly input: unknown;
}

/**
 * A failed ECS deployment that an execution is watching is that execution's to roll back; a
 * second, event-started rollback would fight it.
 */
async function unlessWatched(deps: HandlerDeps, request: DeploymentRequest): Promise<ResolveResult> {
  const deploymentId = request.failedDeploymentId!;
  try {
    const record = await getWaitRecord(deps.clients, deps.settings.tableName, deploymentId);
    if (record?.executionId) {
      return {
        status: 'ignored',
        reason: `ECS deployment ${deploymentId} failed; handled by execution ${record.executionId}.`,
      };
    }
    return { status: 'accepted', request };
  } catch (error) {
    if (classifyAwsError(error) === AwsErrorKind.transient) {
      throw new TransientAwsError(
        `DynamoDB is throttling or failing while reading the wait record of ${deploymentId}; the state machine retries.`,
        { cause: error },
      );
    }
    throw new DeploymentRejected(
      `Could not tell whether an execution already handles the failed ECS deployment ${deploymentId} ` +
        `(reading table ${deps.settings.tableName} failed). Check the function's DynamoDB permissions, ` +
        `then roll back by hand with {"environment": "${request.environment}", "action": "rollback"} if needed.`,
      { cause: error },
    );
  }
}

export function createResolveRequestHandler(deps: HandlerDeps) {
  return async (event: ResolveRequestEvent): Promise<ResolveResult> => {
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: event.executionId });
    try {
      const trigger = parseTriggerInput(event.input);
      let result = resolveTrigger(trigger, {
        environments: deps.environments,
        executionName: event.executionName,
      });
      if (result.status === 'accepted' && result.request.trigger === Trigger.ecsDeploymentFailed) {
        deps.logger.appendKeys({ deploymentId: result.request.failedDeploymentId });
        result = await unlessWatched(deps, result.request);
      }
      if (result.status === 'ignored') {
        deps.logger.info('Trigger ignored', { trigger: trigger.kind, reason: result.reason });
      } else {
        const { kind, environment, version, deploymentKey, requestedBy } = result.request;
        deps.logger.info('Request accepted', { kind, environment, version, deploymentKey, requestedBy });
      }
      return result;
    } catch (error) {
      if (error instanceof DeploymentError) {
        deps.logger.warn('Request not resolved', { errorName: error.name, reason: error.message });
      }
      throw error;
    }
  };
}

export const handler = lambdaEntry('resolve-request', createResolveRequestHandler);
