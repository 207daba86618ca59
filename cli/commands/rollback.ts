/**
 * `afu9-deploy rollback --env <name>`: asks the orchestrator to return the service to its last good
 * revision. It is a preset of `start` with `action: "rollback"`: the state machine plans, refuses or
 * runs the rollback, waits for it, and notifies, exactly as for a failed deployment.
 */
import { parseArgs } from 'node:util';
import type { StartDeploymentInput } from '../../lambdas/domain/workflow-state';
import { realAwsDeps, type CliAwsDeps } from '../aws-context';
import { USAGE_ERROR_EXIT, type CliCommand } from '../command';
import { startAndMaybeFollow } from './start';

const usage = `Usage: afu9-deploy rollback --env <environment> --reason <text> [--follow] [--json] [--region <r>] [--state-machine-arn <arn>]

Returns the service to its last good revision through the orchestrator (same as \`start\` with an input of
{"environment": <env>, "action": "rollback"}). Production needs --allow-production.

Exit codes: 0 started (or rolled back, with --follow), 1 refused or failed, 2 usage error.`;

export function createRollbackCommand(deps: CliAwsDeps): CliCommand {
  return {
    name: 'rollback',
    summary: 'return a service to its last good revision through the real orchestrator',
    usage,
    async run(argv, io) {
      let values: {
        env?: string;
        reason?: string;
        follow?: boolean;
        json?: boolean;
        region?: string;
        'allow-production'?: boolean;
        'requested-by'?: string;
        'state-machine-arn'?: string;
      };
      try {
        ({ values } = parseArgs({
          args: [...argv],
          options: {
            env: { type: 'string' },
            reason: { type: 'string' },
            follow: { type: 'boolean' },
            json: { type: 'boolean' },
            region: { type: 'string' },
            'allow-production': { type: 'boolean' },
            'requested-by': { type: 'string' },
            'state-machine-arn': { type: 'string' },
          },
          strict: true,
        }));
        if (!values.env) throw new Error('--env is required (staging or production).');
        if (!values.reason?.trim())
          throw new Error('--reason "<why>" is required: it goes into the notification.');
      } catch (error) {
        io.stderr(`afu9-deploy rollback: ${(error as Error).message}\n\n${usage}\n`);
        return USAGE_ERROR_EXIT;
      }
      const input: StartDeploymentInput = {
        environment: values.env,
        action: 'rollback',
        reason: values.reason,
        ...(values['allow-production'] && { allowProduction: true }),
        requestedBy: values['requested-by'] ?? io.env.USER ?? 'afu9-deploy',
      };
      return startAndMaybeFollow(deps, io, input, {
        follow: values.follow,
        json: values.json,
        region: values.region,
        stateMachineArn: values['state-machine-arn'],
      });
    },
  };
}

export const rollbackCommand = createRollbackCommand(realAwsDeps);
