/**
 * ExpireApproval: RequestApproval's wait timed out (`States.Timeout`), so nobody decided in time.
 * Records the approval as expired (= denied) unless a decision got in first, and returns the
 * decision the workflow routes on: always `expired`, since Step Functions no longer waits for any
 * other (a decision that raced the timeout is recorded as expired by decide-approval too).
 */
import { z } from 'zod';
import { readApproval, recordDecision } from '../aws/approvals';
import { ledgerTable } from '../aws/ledger';
import { decisionOf, expiredApproval, type ApprovalDecision, type ApprovalSubject } from '../domain/approval';
import { lambdaEntry, type HandlerDeps } from './runtime';

const expireApprovalInput = z.object({
  executionId: z.string().min(1),
  subject: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('image-release') }),
    z.object({ kind: z.literal('stack'), stackName: z.string().min(1) }),
  ]),
});
export type ExpireApprovalInput = z.input<typeof expireApprovalInput>;

export function createExpireApprovalHandler(deps: HandlerDeps) {
  const table = ledgerTable(deps.settings);
  return async (event: ExpireApprovalInput): Promise<ApprovalDecision> => {
    const parsed = expireApprovalInput.safeParse(event);
    if (!parsed.success) {
      throw new Error(
        `ExpireApproval got an incomplete input (${z.prettifyError(parsed.error).replace(/\n/g, ' ')}); the ` +
          'workflow definition must pass executionId and subject.',
      );
    }
    const { executionId } = parsed.data;
    const subject: ApprovalSubject = parsed.data.subject;
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId });
    const now = deps.now();
    const record = await readApproval(deps.clients, table, executionId, subject);
    if (!record) {
      // RequestApproval never recorded it (it failed before), yet the wait ended: nothing to expire.
      deps.logger.warn('No approval was recorded for this wait; it ends as expired', { subject });
      return {
        decision: 'expired',
        reason: 'The approval wait ended before an approval was recorded; nobody could decide.',
        decidedAt: now.toISOString(),
      };
    }
    const expired = expiredApproval(record, now);
    const recorded = record.status === 'pending' && (await recordDecision(deps.clients, table, expired));
    deps.logger.warn('Approval expired: nobody decided in time', {
      subject,
      expiresAt: record.expiresAt,
      recordedNow: recorded,
      statusBefore: record.status,
    });
    return decisionOf(expired);
  };
}

export const handler = lambdaEntry('expire-approval', createExpireApprovalHandler);
