/**
 * The approvals part of `afu9-deploy status`: what a paused execution waits for (the findings, the
 * deadline, the commands that decide it) and who decided the approvals it had. Read from the
 * ledger; a person without read access to the table still gets the rest of the status.
 */
import { readApprovals } from '../lambdas/aws/approvals';
import type { AwsClients } from '../lambdas/aws/clients';
import { describeFinding } from '../lambdas/domain/cdk-diff';
import { decisionCommands, describeSubject, type ApprovalRecord } from '../lambdas/domain/approval';
import { describeAwsError } from '../lambdas/domain/aws-error-kind';

export type ApprovalsRead =
  | { readonly read: true; readonly approvals: readonly ApprovalRecord[] }
  | { readonly read: false; readonly problem: string };

export async function readExecutionApprovals(
  clients: Pick<AwsClients, 'dynamodb'>,
  findTableName: () => Promise<string>,
  executionArn: string,
): Promise<ApprovalsRead> {
  let tableName: string;
  try {
    tableName = await findTableName();
  } catch (error) {
    return { read: false, problem: `the ledger table is unknown (${(error as Error).message})` };
  }
  try {
    return { read: true, approvals: await readApprovals(clients, { tableName }, executionArn) };
  } catch (error) {
    return {
      read: false,
      problem: `could not read approvals from table ${tableName} (${describeAwsError(error)}); pass --table or ask for dynamodb:Query on it`,
    };
  }
}

/** Lines for a person: a pending approval in full, decided ones in one line each. */
export function approvalLines(approvals: ApprovalsRead, executionName: string): string[] {
  if (!approvals.read) return [`approvals: ${approvals.problem}`];
  return approvals.approvals.flatMap((approval) => {
    const subject = describeSubject(approval.subject);
    if (approval.status !== 'pending') {
      const who = approval.approver ? ` by ${approval.approver.arn}` : '';
      return [
        `approval of ${subject}: ${approval.status.toUpperCase()}${who} at ${approval.decidedAt ?? '?'}: ${approval.reason ?? ''}`,
      ];
    }
    const { findings } = approval;
    return [
      `approval of ${subject}: PENDING since ${approval.requestedAt}, expires ${approval.expiresAt}`,
      `  ${findings.verdict}: ${findings.counts.blocking} blocking, ${findings.counts.warnings} warnings, ${findings.counts.safe} safe`,
      ...findings.blocking.map((finding) => `  BLOCKING ${describeFinding(finding)}: ${finding.reason}`),
      ...findings.warnings.map((finding) => `  WARNING ${describeFinding(finding)}: ${finding.reason}`),
      '  decide with:',
      ...decisionCommands(executionName).map((command) => `    ${command}`),
    ];
  });
}
