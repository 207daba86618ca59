/**
 * Recorded approvals: a held diff pauses the workflow on a task token until a person approves or
 * denies it with their IAM identity, or the wait expires (= denied). Pure: what an approval record
 * says, whether a decision may still be taken, what the paused workflow gets back, and how people
 * are told. The adapter in `lambdas/aws/approvals.ts` stores these records in the ledger table.
 *
 * One approval per execution and subject: the image release (`image-release`) or one named stack of
 * an infrastructure release (`stack#<name>`), so one execution may ask several times, once per stack.
 *
 * Items (ledger table):
 *   APPROVAL#<execution ARN>  SUBJECT#<subject key>   one approval: pending until decided or expired
 */
import { z } from 'zod';
import type { Finding } from './workflow-state';

/** What an approval is asked for. */
export type ApprovalSubject =
  { readonly kind: 'image-release' } | { readonly kind: 'stack'; readonly stackName: string };

export function subjectKey(subject: ApprovalSubject): string {
  return subject.kind === 'image-release' ? 'image-release' : `stack#${subject.stackName}`;
}

export function describeSubject(subject: ApprovalSubject): string {
  return subject.kind === 'image-release' ? 'the image release' : `stack ${subject.stackName}`;
}

export const ApprovalKeys = {
  approval: (executionArn: string, subject: ApprovalSubject) => ({
    pk: `APPROVAL#${executionArn}`,
    sk: `SUBJECT#${subjectKey(subject)}`,
  }),
  /** Every approval of one execution (Query on the partition). */
  execution: (executionArn: string) => ({ pk: `APPROVAL#${executionArn}` }),
} as const;

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/**
 * The caller as AWS reports it for a function URL with AuthType AWS_IAM
 * (`requestContext.authorizer.iam`): never typed in by the person.
 */
export interface Approver {
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` or `arn:aws:iam::<account>:user/<name>`. */
  readonly arn: string;
  readonly accountId: string;
  readonly userId: string;
}

/** The findings a person decides on, as the approval keeps them (capped lists, full counts). */
export interface ApprovalFindings {
  readonly verdict: 'BLOCKED' | 'WARN';
  readonly stacks: readonly string[];
  readonly counts: { readonly blocking: number; readonly warnings: number; readonly safe: number };
  readonly blocking: readonly Finding[];
  readonly warnings: readonly Finding[];
  readonly message: string;
}

/** One approval as the ledger keeps it; the task token is stored beside it, never part of it. */
export interface ApprovalRecord {
  readonly executionArn: string;
  readonly environment: string;
  readonly subject: ApprovalSubject;
  readonly findings: ApprovalFindings;
  readonly requestedAt: string;
  /** When the wait ends: unanswered by then, the approval is expired (= denied). */
  readonly expiresAt: string;
  readonly status: ApprovalStatus;
  readonly approver?: Approver;
  readonly reason?: string;
  readonly decidedAt?: string;
}

/**
 * What the RequestApproval state returns into `$.approval` (SendTaskSuccess output, or the
 * ExpireApproval state's result): the ApproveOrDeny Choice goes on only for `approved`.
 */
export interface ApprovalDecision {
  readonly decision: 'approved' | 'denied' | 'expired';
  readonly reason: string;
  /** Absent for `expired`: nobody decided. */
  readonly approver?: Approver;
  readonly decidedAt: string;
}

/** The pending approval RequestApproval records. */
export function pendingApproval(input: {
  readonly executionArn: string;
  readonly environment: string;
  readonly subject: ApprovalSubject;
  readonly findings: ApprovalFindings;
  readonly expiresAfterSeconds: number;
  readonly now: Date;
}): ApprovalRecord {
  return {
    executionArn: input.executionArn,
    environment: input.environment,
    subject: input.subject,
    findings: input.findings,
    requestedAt: input.now.toISOString(),
    expiresAt: new Date(input.now.getTime() + input.expiresAfterSeconds * 1000).toISOString(),
    status: 'pending',
  };
}

/** Why a decision can no longer be taken, in words for the person who tried. */
export interface DecisionRefusal {
  readonly kind: 'already-decided' | 'expired';
  readonly message: string;
}

function decidedBy(record: ApprovalRecord): string {
  const who = record.approver ? ` by ${record.approver.arn}` : '';
  const why = record.reason ? ` (reason: ${record.reason})` : '';
  return `${record.status}${who} at ${record.decidedAt ?? 'an unrecorded time'}${why}`;
}

/** Undefined when the approval still waits for a decision at `now`; else why not. */
export function decisionRefusal(record: ApprovalRecord, now: Date): DecisionRefusal | undefined {
  const subject = describeSubject(record.subject);
  if (record.status === 'expired') {
    return {
      kind: 'expired',
      message: `The approval of ${subject} expired at ${record.decidedAt ?? record.expiresAt}: the execution ended without deploying it. Start it again to get a new approval.`,
    };
  }
  if (record.status !== 'pending') {
    return {
      kind: 'already-decided',
      message: `The approval of ${subject} was already decided: ${decidedBy(record)}. A decision is recorded once.`,
    };
  }
  if (now.getTime() >= Date.parse(record.expiresAt)) {
    return {
      kind: 'expired',
      message: `The approval of ${subject} expired at ${record.expiresAt}: the execution ends without deploying it. Start it again to get a new approval.`,
    };
  }
  return undefined;
}

/** The record of a decision a person took. */
export function decidedApproval(
  record: ApprovalRecord,
  decision: {
    readonly approve: boolean;
    readonly reason: string;
    readonly approver: Approver;
    readonly now: Date;
  },
): ApprovalRecord {
  return {
    ...record,
    status: decision.approve ? 'approved' : 'denied',
    approver: decision.approver,
    reason: decision.reason,
    decidedAt: decision.now.toISOString(),
  };
}

/** The record of an approval nobody decided in time. */
export function expiredApproval(record: ApprovalRecord, now: Date): ApprovalRecord {
  return {
    ...record,
    status: 'expired',
    reason: `No one approved or denied ${describeSubject(record.subject)} by ${record.expiresAt}.`,
    decidedAt: now.toISOString(),
  };
}

/** What the paused workflow gets back (the SendTaskSuccess output). */
export function decisionOf(record: ApprovalRecord): ApprovalDecision {
  if (record.status === 'pending') {
    throw new Error('A pending approval has no decision yet; record one before resuming the workflow.');
  }
  return {
    decision: record.status,
    reason: record.reason ?? '',
    ...(record.approver ? { approver: record.approver } : {}),
    decidedAt: record.decidedAt ?? '',
  };
}

/** Longest reason kept: it goes into notifications, whose lines are clipped anyway. */
export const MAX_REASON_LENGTH = 1000;

/** The body a person's `approve` / `deny` sends to the decide-approval function URL. */
export const decisionRequestSchema = z.strictObject({
  executionArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/,
      'expected a Step Functions execution ARN',
    ),
  decision: z.enum(['approve', 'deny']),
  reason: z
    .string()
    .trim()
    .min(1, 'say why: the reason is recorded with your identity')
    .max(MAX_REASON_LENGTH, `expected at most ${MAX_REASON_LENGTH} characters`),
});
export type DecisionRequest = z.infer<typeof decisionRequestSchema>;

/** `requestContext.authorizer.iam` of a function URL request with AuthType AWS_IAM (the fields read). */
const functionUrlIamSchema = z.object({
  userArn: z.string().regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+$/),
  accountId: z.string().regex(/^\d{12}$/),
  userId: z.string().min(1),
});

/**
 * The caller AWS verified, or undefined when the request carries none (a function URL whose
 * AuthType is not AWS_IAM): then nobody can be recorded, and the decision must be refused.
 */
export function approverFromFunctionUrl(iam: unknown): Approver | undefined {
  const parsed = functionUrlIamSchema.safeParse(iam);
  if (!parsed.success) return undefined;
  return { arn: parsed.data.userArn, accountId: parsed.data.accountId, userId: parsed.data.userId };
}

/** The commands that decide this execution's pending approval. */
export function decisionCommands(executionName: string): readonly string[] {
  return [
    `afu9-deploy approve ${executionName} --reason "<why this may be deployed>"`,
    `afu9-deploy deny ${executionName} --reason "<why not>"`,
  ];
}

/** SNS subjects are shorter than 100 characters. */
const SUBJECT_MAX = 99;

function findingLine(label: string, finding: Finding): string {
  const where = finding.path ? `${finding.stack}/${finding.path}` : finding.stack;
  return `  ${label} ${finding.resourceType} ${where} (${finding.logicalId}) ${finding.change}: ${finding.reason}`;
}

/** The "approval needed" notification: the findings, the deadline and the exact commands. */
/** What waits, and what an unanswered approval leaves undeployed, for the subject. */
function pauseWords(
  record: ApprovalRecord,
  executionName: string,
): { readonly paused: string; readonly unanswered: string } {
  const { verdict } = record.findings;
  if (record.subject.kind === 'stack') {
    const { stackName } = record.subject;
    return {
      paused:
        `Infrastructure release ${executionName} to ${record.environment} is paused before ${stackName} is deployed: ` +
        `its diff is ${verdict} and needs a person. The stacks before it are deployed.`,
      unanswered: `it expires as denied, and ${stackName} and the stacks after it are not deployed`,
    };
  }
  return {
    paused: `Deployment ${executionName} to ${record.environment} is paused before any change: its diff is ${verdict} and needs a person.`,
    unanswered: 'it expires as denied and nothing is deployed',
  };
}

export function approvalNeededMessage(
  record: ApprovalRecord,
  executionName: string,
  /** The configuration's `displayName`, opening the subject as the outcome notifications do. */
  displayName: string,
): { readonly subject: string; readonly message: string } {
  const { findings } = record;
  const { paused, unanswered } = pauseWords(record, executionName);
  const subject = `[${displayName} ${record.environment}] APPROVAL NEEDED: ${findings.verdict} diff of ${describeSubject(record.subject)}`;
  const more = (shown: number, total: number) => (total > shown ? [`  ... and ${total - shown} more`] : []);
  // SNS subjects are ASCII without control characters, and shorter than 100 characters.
  const ascii = subject.replace(/[^\x20-\x7E]/g, '?');
  return {
    subject: ascii.length > SUBJECT_MAX ? `${ascii.slice(0, SUBJECT_MAX - 3)}...` : ascii,
    message: [
      paused,
      `Execution: ${record.executionArn}`,
      `Stacks: ${findings.stacks.join(', ') || 'none named'}`,
      `Findings: ${findings.counts.blocking} blocking, ${findings.counts.warnings} warnings, ${findings.counts.safe} safe.`,
      ...findings.blocking.map((finding) => findingLine('BLOCKING', finding)),
      ...more(findings.blocking.length, findings.counts.blocking),
      ...findings.warnings.map((finding) => findingLine('WARNING', finding)),
      ...more(findings.warnings.length, findings.counts.warnings),
      '',
      `Decide by ${record.expiresAt} (unanswered, ${unanswered}):`,
      ...decisionCommands(executionName).map((command) => `  ${command}`),
      'Your IAM identity (as AWS reports it) and your reason are recorded in the ledger and the final notification.',
    ].join('\n'),
  };
}

/** One line for notifications, the ledger's reasons and `status`: who decided what, and why. */
export function describeDecision(decision: ApprovalDecision): string {
  if (decision.decision === 'expired') return `Approval expired at ${decision.decidedAt}: ${decision.reason}`;
  const who = decision.approver?.arn ?? 'an unrecorded caller';
  return `${decision.decision === 'approved' ? 'Approved' : 'Denied'} by ${who} at ${decision.decidedAt}, reason: ${decision.reason}`;
}
