/**
 * RequestApproval (a `waitForTaskToken` state): records the pending approval of a held diff with its
 * task token in the ledger, and tells people what waits for them, with the findings and the exact
 * commands. It returns at once; the workflow stays paused until decide-approval hands it a decision
 * or the state's timeout (the environment's `approval.expiresAfterSeconds`) expires it. The token is
 * stored only in the ledger: never logged, published or returned.
 */
import { z } from 'zod';
import { publishApprovalNeeded, recordPendingApproval } from '../aws/approvals';
import { ledgerTable } from '../aws/ledger';
import { approvalNeededMessage, pendingApproval, type ApprovalSubject } from '../domain/approval';
import { displayNameOf, environmentNamed } from '../domain/environments';
import { lambdaEntry, type HandlerDeps } from './runtime';

const findingSchema = z.object({
  stack: z.string(),
  resourceType: z.string(),
  logicalId: z.string(),
  path: z.string(),
  change: z.enum(['add', 'modify', 'replace', 'may-replace', 'destroy']),
  rule: z.string(),
  reason: z.string(),
});

const requestApprovalInput = z.object({
  taskToken: z.string().min(1),
  executionId: z.string().min(1),
  environment: z.string().min(1),
  subject: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('image-release') }),
    z.object({ kind: z.literal('stack'), stackName: z.string().min(1) }),
  ]),
  diffGate: z.object({
    verdict: z.enum(['BLOCKED', 'WARN']),
    stacks: z.array(z.string()),
    counts: z.object({ blocking: z.number(), warnings: z.number(), safe: z.number() }),
    blocking: z.array(findingSchema),
    warnings: z.array(findingSchema),
    message: z.string(),
  }),
});
export type RequestApprovalInput = z.input<typeof requestApprovalInput>;

export interface RequestApprovalResult {
  /** `recorded`: this call recorded it and told people; `already-recorded`: a retry found it recorded. */
  readonly action: 'recorded' | 'already-recorded';
  readonly expiresAt: string;
}

export function createRequestApprovalHandler(deps: HandlerDeps) {
  const table = ledgerTable(deps.settings);
  return async (event: RequestApprovalInput): Promise<RequestApprovalResult> => {
    const parsed = requestApprovalInput.safeParse(event);
    if (!parsed.success) {
      throw new Error(
        `RequestApproval got an incomplete input (${z.prettifyError(parsed.error).replace(/\n/g, ' ')}); the ` +
          'workflow definition must pass taskToken ($$.Task.Token), executionId, environment, subject and a held diffGate.',
      );
    }
    const input = parsed.data;
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: input.executionId });
    const environment = environmentNamed(deps.environments, input.environment);
    if (!environment) {
      throw new Error(
        `RequestApproval got environment ${JSON.stringify(input.environment)}, which this stack's configuration ` +
          'does not define, so it cannot know how long the approval may wait. Deploy the stack with that environment.',
      );
    }
    const subject: ApprovalSubject = input.subject;
    const { diffGate } = input;
    const record = pendingApproval({
      executionArn: input.executionId,
      environment: environment.name,
      subject,
      findings: {
        verdict: diffGate.verdict,
        stacks: diffGate.stacks,
        counts: diffGate.counts,
        blocking: diffGate.blocking,
        warnings: diffGate.warnings,
        message: diffGate.message,
      },
      expiresAfterSeconds: environment.approval.expiresAfterSeconds,
      now: deps.now(),
    });
    const action = await recordPendingApproval(deps.clients, table, record, input.taskToken);
    const summary = {
      subject,
      verdict: diffGate.verdict,
      counts: diffGate.counts,
      expiresAt: record.expiresAt,
    };
    if (action === 'already-recorded') {
      deps.logger.info('The approval was recorded by an earlier attempt; people were told then', summary);
      return { action, expiresAt: record.expiresAt };
    }
    const executionName = input.executionId.split(':').at(-1) ?? input.executionId;
    await publishApprovalNeeded(deps.clients, deps.settings.topicArn, {
      ...approvalNeededMessage(record, executionName, displayNameOf(deps.environments)),
      environment: environment.name,
    });
    deps.logger.info('Approval requested; the workflow waits for a decision', summary);
    return { action, expiresAt: record.expiresAt };
  };
}

export const handler = lambdaEntry('request-approval', createRequestApprovalHandler);
