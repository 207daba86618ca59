/**
 * decide-approval, behind a Lambda function URL with AuthType AWS_IAM: a person's `afu9-deploy
 * approve|deny` (a SigV4-signed POST). The approver is the caller AWS verified and put in
 * `requestContext.authorizer.iam`, never a field of the body. The decision is recorded once (a
 * conditional write: a second caller learns who decided first), then handed to the paused workflow
 * with SendTaskSuccess. A decision after the deadline, or after Step Functions stopped waiting, is
 * refused and the approval recorded as expired.
 *
 * Responses (JSON): 200 recorded; 400 malformed request; 403 no verified caller; 404 no approval
 * was requested for that execution; 409 refused (already decided, expired); 503 the workflow could
 * not be told for a reason that may pass (the decision was withdrawn: decide again).
 */
import { z } from 'zod';
import { readDecidableApproval, recordDecision, resumeWorkflow, withdrawDecision } from '../aws/approvals';
import { ledgerTable } from '../aws/ledger';
import {
  approverFromFunctionUrl,
  decidedApproval,
  decisionRefusal,
  decisionRequestSchema,
  describeSubject,
  expiredApproval,
  type ApprovalRecord,
} from '../domain/approval';
import { describeAwsError } from '../domain/aws-error-kind';
import { lambdaEntry, type HandlerDeps } from './runtime';

/** The parts of a function URL request (payload format 2.0) this function reads. */
export interface FunctionUrlRequest {
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: {
    readonly http?: { readonly method?: string };
    readonly authorizer?: { readonly iam?: unknown };
  };
}

export interface FunctionUrlResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The response body: what happened, in words, and the approval as recorded (never its token). */
export interface DecisionResponse {
  readonly outcome: 'recorded' | 'refused' | 'invalid' | 'unavailable';
  readonly message: string;
  readonly approval?: ApprovalRecord;
}

function respond(statusCode: number, body: DecisionResponse): FunctionUrlResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function requestBody(event: FunctionUrlRequest): unknown {
  const text = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  return JSON.parse(text) as unknown;
}

export function createDecideApprovalHandler(deps: HandlerDeps) {
  const table = ledgerTable(deps.settings);
  const { logger } = deps;
  return async (event: FunctionUrlRequest): Promise<FunctionUrlResponse> => {
    logger.resetKeys();
    const approver = approverFromFunctionUrl(event.requestContext?.authorizer?.iam);
    if (!approver) {
      // Fail closed: without AWS's word on the caller, nobody could be recorded as the approver.
      logger.error(
        'Refused a decision without a verified IAM caller: the function URL must use AuthType AWS_IAM',
      );
      return respond(403, {
        outcome: 'invalid',
        message:
          'This request carries no IAM identity verified by AWS, so no approver can be recorded. The function URL ' +
          'must use AuthType AWS_IAM; send the request with afu9-deploy approve|deny (SigV4-signed).',
      });
    }
    if (event.requestContext?.http?.method !== 'POST') {
      return respond(400, { outcome: 'invalid', message: 'Send the decision as a POST with a JSON body.' });
    }
    let request;
    try {
      request = decisionRequestSchema.parse(requestBody(event));
    } catch (error) {
      const detail = error instanceof z.ZodError ? z.prettifyError(error).replace(/\n/g, ' ') : 'not JSON';
      return respond(400, {
        outcome: 'invalid',
        message: `The decision request is malformed (${detail}). Expected {"executionArn", "decision": "approve"|"deny", "reason"}.`,
      });
    }
    logger.appendKeys({ executionId: request.executionArn, approver: approver.arn });
    const stored = await readDecidableApproval(deps.clients, table, request.executionArn);
    if (!stored) {
      return respond(404, {
        outcome: 'refused',
        message: `Execution ${request.executionArn} has not asked for an approval (no held diff is waiting). Check the execution name with afu9-deploy status.`,
      });
    }
    const now = deps.now();
    const refusal = decisionRefusal(stored.record, now);
    if (refusal) {
      const approval =
        refusal.kind === 'expired' && stored.record.status === 'pending'
          ? await expire(stored.record, now)
          : stored.record;
      logger.info('Decision refused', { kind: refusal.kind, status: approval.status });
      return respond(409, { outcome: 'refused', message: refusal.message, approval });
    }
    const decided = decidedApproval(stored.record, {
      approve: request.decision === 'approve',
      reason: request.reason,
      approver,
      now,
    });
    if (!(await recordDecision(deps.clients, table, decided))) {
      const latest = (await readDecidableApproval(deps.clients, table, request.executionArn))?.record;
      const message =
        (latest && decisionRefusal(latest, now)?.message) ??
        `Someone else decided ${describeSubject(stored.record.subject)} at the same moment; run afu9-deploy status to see who.`;
      return respond(409, { outcome: 'refused', message, ...(latest ? { approval: latest } : {}) });
    }
    let resumption;
    try {
      resumption = await resumeWorkflow(deps.clients, stored.taskToken, decided);
    } catch (error) {
      // Not told, for a reason that may pass (throttling, a missing grant): give the decision back.
      await withdrawDecision(deps.clients, table, decided);
      logger.error('The workflow could not be told; the decision was withdrawn', {
        error: describeAwsError(error),
      });
      return respond(503, {
        outcome: 'unavailable',
        message:
          `The decision could not be handed to the paused workflow (${describeAwsError(error)}), so it was not recorded. ` +
          'Decide again in a moment; if it keeps failing, the decide-approval function may lack states:SendTaskSuccess.',
      });
    }
    if (!resumption.resumed) {
      await withdrawDecision(deps.clients, table, decided);
      const expired = await expire(stored.record, now);
      logger.warn('Step Functions no longer waits for this approval', { why: resumption.why });
      return respond(409, {
        outcome: 'refused',
        message: `The execution no longer waits for this approval (${resumption.why}): it expired or ended. Nothing was deployed on this decision.`,
        approval: expired,
      });
    }
    logger.info('Decision recorded and handed to the workflow', {
      decision: decided.status,
      subject: decided.subject,
    });
    return respond(200, {
      outcome: 'recorded',
      message: `${decided.status === 'approved' ? 'Approved' : 'Denied'} ${describeSubject(decided.subject)} as ${approver.arn}; the execution goes on.`,
      approval: decided,
    });
  };

  /** Records a pending approval as expired; returns what the ledger then says. */
  async function expire(record: ApprovalRecord, now: Date): Promise<ApprovalRecord> {
    const expired = expiredApproval(record, now);
    return (await recordDecision(deps.clients, table, expired)) ? expired : record;
  }
}

export const handler = lambdaEntry('decide-approval', createDecideApprovalHandler);
