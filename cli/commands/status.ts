/** `afu9-deploy status <execution>`: where a real deployment is, and how it ended. */
import { parseArgs } from 'node:util';
import { describeExecution, executionArnFor, historySince } from '../../lambdas/aws/step-functions';
import { realAwsDeps, regionFrom, resolveStateMachineArn, type CliAwsDeps } from '../aws-context';
import { USAGE_ERROR_EXIT, type CliCommand } from '../command';
import { describeHistoryEvent, exitCodeFor } from '../execution-progress';

const usage = `Usage: afu9-deploy status <execution-arn | execution-name> [--json] [--region <r>] [--state-machine-arn <arn>]

Shows one execution of the orchestrator: its status and every state it went through.
A name (as printed by \`afu9-deploy start\`) is turned into an ARN with the state machine ARN.

Exit codes: 0 succeeded, 1 failed / timed out / aborted, 3 still running, 2 usage error.`;

const STILL_RUNNING_EXIT = 3;

export function createStatusCommand(deps: CliAwsDeps): CliCommand {
  return {
    name: 'status',
    summary: 'show a real deployment execution: status and the states it went through',
    usage,
    async run(argv, io) {
      let values: { json?: boolean; region?: string; 'state-machine-arn'?: string };
      let positionals: string[];
      try {
        ({ values, positionals } = parseArgs({
          args: [...argv],
          options: {
            json: { type: 'boolean' },
            region: { type: 'string' },
            'state-machine-arn': { type: 'string' },
          },
          allowPositionals: true,
          strict: true,
        }));
        if (positionals.length !== 1) throw new Error('name exactly one execution (its ARN or its name).');
      } catch (error) {
        io.stderr(`afu9-deploy status: ${(error as Error).message}\n\n${usage}\n`);
        return USAGE_ERROR_EXIT;
      }
      const region = regionFrom(values.region, io.env);
      const target = positionals[0]!;
      const executionArn = target.startsWith('arn:')
        ? target
        : executionArnFor(
            await resolveStateMachineArn(deps, region, values['state-machine-arn'], io.env),
            target,
          );
      const clients = deps.clients(region);
      const execution = await describeExecution(clients, executionArn);
      const startedAt = execution.startDate ?? new Date();
      const lines = (await historySince(clients, executionArn))
        .map((event) => describeHistoryEvent(event, startedAt))
        .filter((line): line is string => Boolean(line));
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
          }) + '\n',
        );
      } else {
        io.stdout(`${executionArn}\nstatus: ${execution.status}\n${lines.join('\n')}\n`);
        if (execution.error) io.stdout(`error: ${execution.error}: ${execution.cause ?? ''}\n`);
      }
      return execution.status === 'RUNNING' ? STILL_RUNNING_EXIT : exitCodeFor(execution.status);
    },
  };
}

export const statusCommand = createStatusCommand(realAwsDeps);
