/** `afu9-deploy status <execution>`: where a real deployment is, and how it ended. */
import { describeExecution, executionArnFor, historySince } from '../../lambdas/aws/step-functions';
import { awsFlags, awsFlagsUsage, configFlag, configFlagUsage, configFlags, parseFlags } from '../args';
import { approvalLines, readExecutionApprovals } from '../approval-status';
import {
  awsTargetFrom,
  realAwsDeps,
  resolveStateMachineArn,
  resolveTableName,
  type CliAwsDeps,
} from '../aws-context';
import type { Environments } from '../../lambdas/domain/environments';
import { exitOnAwsFailure } from '../aws-failure';
import { UsageError, USAGE_ERROR_EXIT, type CliCommand } from '../command';
import { exitCodeFor, timelineOf } from '../execution-progress';
import {
  describeBuild,
  describeStacks,
  infrastructureStatusLines,
  releaseStacksOf,
  runningBuildId,
  type InfrastructureStatus,
} from '../infrastructure-status';

const usage = `Usage: afu9-deploy status <execution-arn | execution-name> [--json] [--state-machine-arn <arn>] [--table <name>] [--config <path>] [--profile <p>] [--region <r>]

Shows one execution of the orchestrator: its status and every state it went through, in the
rehearsal's timeline format. A name (as printed by \`afu9-deploy start\`) is turned into an ARN with
the state machine ARN. An execution paused for an approval shows the findings it waits on and the
commands that decide it; decided approvals show who decided, when and why (from the ledger table:
--table, else $AFU9_DEPLOYMENT_TABLE, else the stack's output). For an infrastructure release it adds
the build a state is waiting on (its phase and log link) and each requested stack's CloudFormation
status now.

Options:
${configFlagUsage}
                            (its region is where the orchestrator runs, unless --region says otherwise)
${awsFlagsUsage}

Exit codes: 0 succeeded, 1 failed / timed out / aborted, 2 usage error, 3 AWS unreachable or
credentials missing, expired or denied, 4 still running.`;

/** Outside the shared 0-3: neither success nor failure yet. */
const STILL_RUNNING_EXIT = 4;

export function createStatusCommand(deps: CliAwsDeps): CliCommand {
  return {
    name: 'status',
    summary: 'show a real deployment execution: status and the states it went through',
    usage,
    readsConfiguration: () => true,
    async run(argv, io) {
      let values: {
        json?: boolean;
        region?: string;
        profile?: string;
        config?: string;
        'state-machine-arn'?: string;
        table?: string;
      };
      let positionals: string[];
      let environments: Environments;
      try {
        ({ values, positionals } = parseFlags(
          argv,
          {
            json: { type: 'boolean' },
            'state-machine-arn': { type: 'string' },
            table: { type: 'string' },
            ...configFlags,
            ...awsFlags,
          },
          { allowPositionals: true },
        ));
        if (positionals.length !== 1) {
          throw new UsageError('name exactly one execution (its ARN or its name).');
        }
        // Every environment of a configuration shares one region: the orchestrator's.
        environments = configFlag(values.config).environments;
        const [configured] = Object.values(environments);
        values = { ...values, region: values.region ?? configured?.region };
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        io.stderr(`afu9-deploy status: ${error.message}\n\n${usage}\n`);
        return USAGE_ERROR_EXIT;
      }
      const target = awsTargetFrom(values, io.env);
      const name = positionals[0]!;
      return exitOnAwsFailure(io, { command: 'status', json: values.json }, target, async () => {
        const executionArn = name.startsWith('arn:')
          ? name
          : executionArnFor(
              await resolveStateMachineArn(deps, target, values['state-machine-arn'], io.env),
              name,
            );
        const clients = deps.clients(target);
        const execution = await describeExecution(clients, executionArn);
        const events = await historySince(clients, executionArn);
        const lines = timelineOf(executionArn, execution.startDate ?? new Date(), events);
        const approvals = await readExecutionApprovals(
          clients,
          () => resolveTableName(deps, target, values.table, io.env),
          executionArn,
        );
        const stacks = releaseStacksOf(execution.input, environments);
        let infrastructure: InfrastructureStatus | undefined;
        if (stacks) {
          const buildId = execution.status === 'RUNNING' ? runningBuildId(events) : undefined;
          const build = buildId ? await describeBuild(deps.codeBuild(target), buildId) : undefined;
          infrastructure = {
            ...(build && { build }),
            stacks: await describeStacks(clients.cloudformation, stacks),
          };
        }
        if (values.json) {
          io.stdout(
            JSON.stringify({
              executionArn,
              status: execution.status,
              startDate: execution.startDate?.toISOString(),
              stopDate: execution.stopDate?.toISOString(),
              error: execution.error,
              cause: execution.cause,
              timeline: lines,
              ...(approvals.read
                ? { approvals: approvals.approvals }
                : { approvalsProblem: approvals.problem }),
              ...(infrastructure && { infrastructure }),
            }) + '\n',
          );
        } else {
          io.stdout(`${executionArn}\nstatus: ${execution.status}\n${lines.join('\n')}\n`);
          if (infrastructure) io.stdout(`${infrastructureStatusLines(infrastructure).join('\n')}\n`);
          if (execution.error) io.stdout(`error: ${execution.error}: ${execution.cause ?? ''}\n`);
          const decisions = approvalLines(approvals, executionArn.split(':').at(-1) ?? executionArn);
          if (decisions.length > 0) io.stdout(`${decisions.join('\n')}\n`);
        }
        return execution.status === 'RUNNING' ? STILL_RUNNING_EXIT : exitCodeFor(execution.status);
      });
    },
  };
}

export const statusCommand = createStatusCommand(realAwsDeps);
