/**
 * `start` and `rollback` judge their request with the ResolveRequest Lambda's own rules
 * (lambdas/domain/request-validation.ts) before any AWS call, so a request the orchestrator would
 * refuse is refused here, with the same reason, and nothing is started.
 */
import type { Environments } from '../lambdas/domain/environments';
import { DeploymentRejected } from '../lambdas/domain/errors';
import { executionNameFor } from '../lambdas/domain/execution-name';
import { resolveTrigger } from '../lambdas/domain/request-validation';
import { parseTriggerInput } from '../lambdas/domain/trigger-events';
import type { DeploymentRequest, StartDeploymentInput } from '../lambdas/domain/workflow-state';

export type RequestCheck =
  | { readonly status: 'accepted'; readonly request: DeploymentRequest; readonly executionName: string }
  /** The rules refuse it: the orchestrator would end the execution as `rejected`. */
  | { readonly status: 'refused'; readonly reason: string; readonly executionName: string };

export function checkRequest(
  input: StartDeploymentInput,
  environments: Environments,
  now: Date,
): RequestCheck {
  const executionName = executionNameFor(input, now);
  try {
    const result = resolveTrigger(parseTriggerInput(input), { environments, executionName });
    if (result.status === 'ignored') return { status: 'refused', reason: result.reason, executionName };
    return { status: 'accepted', request: result.request, executionName };
  } catch (error) {
    if (error instanceof DeploymentRejected) {
      return { status: 'refused', reason: error.message, executionName };
    }
    throw error;
  }
}
