/**
 * Completes the workflow's wait for a deployment exactly once. Two writers may try (the event handler
 * and the register step, whichever sees both the token and a signal that has not woken the execution
 * yet); the conditional claim in the wait record lets one of them through, and only that one calls
 * SendTaskSuccess.
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { AwsErrorKind, classifyAwsError } from '../domain/aws-error-kind';
import { RolloutFailed, TransientAwsError } from '../domain/errors';
import type { DeploymentWake } from '../domain/workflow-state';
import type { AwsClients } from './clients';
import { claimTokenCompletion, releaseTokenClaim, type DeliveredSignals } from './deployment-table';

/**
 * Step Functions' answers meaning the wait is over without us: it timed out (the safety-net poll took
 * over), the execution ended, or the token is not one Step Functions knows.
 */
const EXECUTION_MOVED_ON = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export type WaitCompletion =
  /** This call claimed the token and Step Functions accepted the wake-up. */
  | { readonly outcome: 'delivered' }
  /** Someone else had claimed the token already (the other writer), or the signal woke it before. */
  | { readonly outcome: 'already-completed' }
  /** The wait had already ended (claim given back); `why` is Step Functions' answer. */
  | { readonly outcome: 'execution-moved-on'; readonly why: string };

export async function completeWaitOnce(
  clients: Pick<AwsClients, 'dynamodb' | 'sfn'>,
  tableName: string,
  input: {
    deploymentId: string;
    taskToken: string;
    /** What this wake-up delivers, to which execution. */
    woken: DeliveredSignals;
    wake: DeploymentWake;
    now: Date;
  },
): Promise<WaitCompletion> {
  const claimed = await claimTokenCompletion(clients, tableName, input);
  if (!claimed) return { outcome: 'already-completed' };
  try {
    await clients.sfn.send(
      new SendTaskSuccessCommand({ taskToken: input.taskToken, output: JSON.stringify(input.wake) }),
    );
    return { outcome: 'delivered' };
  } catch (error) {
    // The claim means "the workflow got its wake-up"; give it back whenever that did not happen, so a
    // retried event or the next wait can still deliver. Should giving it back fail, the wait's
    // safety-net poll still ends the wait, only later.
    await releaseTokenClaim(clients, tableName, { ...input, claimedAt: input.now }).catch(() => undefined);
    const name = (error as { name?: string })?.name ?? 'Error';
    const message = (error as { message?: string })?.message ?? String(error);
    if (EXECUTION_MOVED_ON.has(name)) return { outcome: 'execution-moved-on', why: `${name}: ${message}` };
    if (classifyAwsError(error) === AwsErrorKind.transient) {
      throw new TransientAwsError(
        `Step Functions SendTaskSuccess for deployment ${input.deploymentId} failed (${name}: ${message}); ` +
          'retrying may help.',
        { cause: error },
      );
    }
    throw new RolloutFailed(
      `Could not wake the workflow waiting for deployment ${input.deploymentId} (${name}: ${message}). ` +
        "Check that the function may call states:SendTaskSuccess; the wait's safety-net poll takes over meanwhile.",
      { cause: error },
    );
  }
}
