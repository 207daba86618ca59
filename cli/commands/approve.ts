/**
 * `afu9-deploy approve|deny <execution> --reason "..."`: decides the approval a paused deployment
 * waits for. The decision goes to the orchestrator's approval URL signed with the caller's AWS
 * credentials; the approver recorded is the identity AWS verified, never a name typed here.
 */
import { ExitCode, UsageError, USAGE_ERROR_EXIT, type CliCommand, type CliIo } from '../command';
import { executionArnFor, findStackOutput, StackOutputNotFound } from '../../lambdas/aws/step-functions';
import { MAX_REASON_LENGTH, type ApprovalRecord } from '../../lambdas/domain/approval';
import { APPROVAL_URL_OUTPUT_KEY } from '../../infra/approval-endpoint';
import { awsFlags, awsFlagsUsage, configFlag, configFlagUsage, configFlags, parseFlags } from '../args';
import {
  awsTargetFrom,
  realAwsDeps,
  resolveStateMachineArn,
  type AwsTarget,
  type CliAwsDeps,
} from '../aws-context';
import { exitOnAwsFailure } from '../aws-failure';
import { postSigned, realApprovalClientDeps, type ApprovalClientDeps } from '../approval-client';

type Decision = 'approve' | 'deny';

function usageOf(decision: Decision): string {
  const verb = decision === 'approve' ? 'Approves' : 'Denies';
  return `Usage: afu9-deploy ${decision} <execution-arn | execution-name> --reason "<why>" [--json] [--approval-url <url>] [--state-machine-arn <arn>] [--config <path>] [--profile <p>] [--region <r>]

${verb} the held diff a paused deployment waits for (docs/approvals.md). The request is signed
with your AWS credentials; the approver recorded in the ledger and the final notification is the
IAM identity AWS verified for it. Your role needs the stack's approvers policy (output
ApproversPolicyArn). A decision is recorded once; an expired approval can no longer be decided.

Options:
  --reason <text>           why (required, at most ${MAX_REASON_LENGTH} characters); recorded with your identity
  --json                    print the recorded approval as one JSON document
  --approval-url <url>      the approval URL (default: $AFU9_APPROVAL_URL, then the stack's ApprovalUrl output)
  --state-machine-arn <arn> turns an execution name into its ARN (default: $AFU9_STATE_MACHINE_ARN, then the stack's output)
${configFlagUsage}
${awsFlagsUsage}

Exit codes: 0 the decision was recorded and the execution goes on, 1 refused (already decided,
expired, no approval pending), 2 usage error, 3 AWS unreachable, credentials missing or expired,
or the approval URL refused your identity (access denied).`;
}

export interface DecisionCommandDeps extends CliAwsDeps {
  readonly approvals: ApprovalClientDeps;
}

interface DecisionBody {
  readonly outcome?: string;
  readonly message?: string;
  readonly approval?: ApprovalRecord;
  readonly Message?: string;
}

async function approvalUrl(
  deps: CliAwsDeps,
  target: AwsTarget,
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
) {
  const text =
    flag ??
    env.AFU9_APPROVAL_URL ??
    (await findStackOutput(
      deps.cloudFormation(target),
      APPROVAL_URL_OUTPUT_KEY,
      'pass --approval-url / set AFU9_APPROVAL_URL',
    ));
  try {
    return new URL(text);
  } catch {
    throw new UsageError(
      `The approval URL ${JSON.stringify(text)} is not a URL; give the stack's ApprovalUrl output.`,
    );
  }
}

function describeApproval(approval: ApprovalRecord): string[] {
  return [
    `status:    ${approval.status}`,
    ...(approval.approver
      ? [`approver:  ${approval.approver.arn} (account ${approval.approver.accountId})`]
      : []),
    ...(approval.reason ? [`reason:    ${approval.reason}`] : []),
    ...(approval.decidedAt ? [`decided:   ${approval.decidedAt}`] : []),
    `requested: ${approval.requestedAt}, expires ${approval.expiresAt}`,
  ];
}

/** The exit code an answer of the approval URL means (see the usage text). */
function exitFor(status: number): number {
  if (status === 200) return ExitCode.ok;
  if (status === 404 || status === 409) return ExitCode.failed;
  if (status === 400) return ExitCode.usage;
  // 403 is Lambda refusing the caller's identity; 5xx is the service or the function failing.
  return ExitCode.awsUnavailable;
}

export function createDecisionCommand(decision: Decision, deps: DecisionCommandDeps): CliCommand {
  const usage = usageOf(decision);
  return {
    name: decision,
    summary:
      decision === 'approve'
        ? 'approve the held diff a paused deployment waits for (your IAM identity is recorded)'
        : 'deny the held diff a paused deployment waits for (your IAM identity is recorded)',
    usage,
    async run(argv, io: CliIo) {
      let values: {
        reason?: string;
        json?: boolean;
        region?: string;
        profile?: string;
        config?: string;
        'approval-url'?: string;
        'state-machine-arn'?: string;
      };
      let name: string;
      try {
        const parsed = parseFlags(
          argv,
          {
            reason: { type: 'string' },
            json: { type: 'boolean' },
            'approval-url': { type: 'string' },
            'state-machine-arn': { type: 'string' },
            ...configFlags,
            ...awsFlags,
          },
          { allowPositionals: true },
        );
        values = parsed.values;
        if (parsed.positionals.length !== 1)
          throw new UsageError('name exactly one execution (its ARN or its name).');
        name = parsed.positionals[0]!;
        const reason = values.reason?.trim();
        if (!reason) throw new UsageError(`--reason "<why>" is required: it is recorded with your identity.`);
        if (reason.length > MAX_REASON_LENGTH) {
          throw new UsageError(`--reason is ${reason.length} characters; keep it to ${MAX_REASON_LENGTH}.`);
        }
        const [configured] = Object.values(configFlag(values.config).environments);
        values = { ...values, reason, region: values.region ?? configured?.region };
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        io.stderr(`afu9-deploy ${decision}: ${error.message}\n\n${usage}\n`);
        return USAGE_ERROR_EXIT;
      }
      const target = awsTargetFrom(values, io.env);
      try {
        return await exitOnAwsFailure(io, { command: decision, json: values.json }, target, async () => {
          const url = await approvalUrl(deps, target, values['approval-url'], io.env);
          const executionArn = name.startsWith('arn:')
            ? name
            : executionArnFor(
                await resolveStateMachineArn(deps, target, values['state-machine-arn'], io.env),
                name,
              );
          const answer = await postSigned(deps.approvals, target, url, {
            executionArn,
            decision,
            reason: values.reason,
          });
          const body = (
            typeof answer.body === 'object' && answer.body !== null ? answer.body : {}
          ) as DecisionBody;
          const message =
            answer.status === 403 && body.message === undefined
              ? `The approval URL refused your identity (HTTP 403 ${body.Message ?? 'Forbidden'}): your role needs the stack's ` +
                'approvers policy (output ApproversPolicyArn: lambda:InvokeFunctionUrl and lambda:InvokeFunction on the approval function).'
              : (body.message ??
                `The approval URL answered HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
          if (values.json) {
            io.stdout(
              JSON.stringify({
                executionArn,
                decision,
                httpStatus: answer.status,
                outcome: body.outcome ?? 'refused',
                message,
                ...(body.approval ? { approval: body.approval } : {}),
              }) + '\n',
            );
          } else {
            const lines = [message, ...(body.approval ? describeApproval(body.approval) : [])];
            (answer.status === 200 ? io.stdout : io.stderr)(`${lines.join('\n')}\n`);
          }
          return exitFor(answer.status);
        });
      } catch (error) {
        if (error instanceof UsageError || error instanceof StackOutputNotFound) {
          io.stderr(`afu9-deploy ${decision}: ${error.message}\n`);
          return error instanceof UsageError ? USAGE_ERROR_EXIT : ExitCode.awsUnavailable;
        }
        throw error;
      }
    },
  };
}

const realDeps: DecisionCommandDeps = { ...realAwsDeps, approvals: realApprovalClientDeps };

export const approveCommand = createDecisionCommand('approve', realDeps);
