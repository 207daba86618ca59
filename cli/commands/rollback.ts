/**
 * `afu9-deploy rollback --env <name>`: asks the orchestrator to return the service to its last good
 * revision. It is a preset of `start` with `action: "rollback"`: the state machine plans, refuses or
 * runs the rollback, waits for it, and notifies, exactly as for a failed deployment.
 */
import type { StartDeploymentInput } from '../../lambdas/domain/workflow-state';
import {
  awsFlags,
  awsFlagsUsage,
  configFlag,
  configFlagUsage,
  configFlags,
  environmentFlag,
  parseFlags,
} from '../args';
import { awsTargetFrom, realAwsDeps, type CliAwsDeps } from '../aws-context';
import { exitOnAwsFailure } from '../aws-failure';
import { UsageError, USAGE_ERROR_EXIT, type CliCommand } from '../command';
import { checkRequest } from '../request-check';
import { reportRefusal, startAndMaybeFollow } from './start';

const usage = `Usage: afu9-deploy rollback --env <environment> --reason <text> [--follow] [--json] [--state-machine-arn <arn>] [--profile <p>] [--region <r>]

Returns the service to its last good revision through the orchestrator (same as \`start\` with an input of
{"environment": <env>, "action": "rollback"}). Production needs --allow-production.

Options:
${configFlagUsage}
${awsFlagsUsage}

Exit codes: 0 started (or rolled back, with --follow), 1 refused or failed, 2 usage error,
3 AWS unreachable or credentials missing, expired or denied.`;

function parseRollbackFlags(argv: readonly string[]) {
  const { values } = parseFlags(argv, {
    env: { type: 'string' },
    reason: { type: 'string' },
    follow: { type: 'boolean' },
    json: { type: 'boolean' },
    'allow-production': { type: 'boolean' },
    'requested-by': { type: 'string' },
    'state-machine-arn': { type: 'string' },
    ...configFlags,
    ...awsFlags,
  });
  const config = configFlag(values.config);
  const { name: environment, region } = environmentFlag(values.env, config);
  if (!values.reason?.trim())
    throw new UsageError('--reason "<why>" is required: it goes into the notification.');
  // Without --region, the region the environment (and so the orchestrator) lives in.
  return { ...values, environment, config, region: values.region ?? region };
}

export function createRollbackCommand(deps: CliAwsDeps): CliCommand {
  return {
    name: 'rollback',
    summary: 'return a service to its last good revision through the real orchestrator',
    usage,
    readsConfiguration: () => true,
    async run(argv, io) {
      let values: ReturnType<typeof parseRollbackFlags>;
      try {
        values = parseRollbackFlags(argv);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        io.stderr(`afu9-deploy rollback: ${error.message}\n\n${usage}\n`);
        return USAGE_ERROR_EXIT;
      }
      const input: StartDeploymentInput = {
        environment: values.environment,
        action: 'rollback',
        reason: values.reason,
        ...(values['allow-production'] && { allowProduction: true }),
        requestedBy: values['requested-by'] ?? io.env.USER ?? 'afu9-deploy',
      };
      const check = checkRequest(input, values.config.environments, deps.now());
      if (check.status === 'refused') {
        return reportRefusal(io, 'rollback', check.reason, values.json === true);
      }
      const target = awsTargetFrom(values, io.env);
      return exitOnAwsFailure(io, { command: 'rollback', json: values.json }, target, () =>
        startAndMaybeFollow(deps, io, input, check.executionName, {
          follow: values.follow,
          json: values.json,
          target,
          stateMachineArn: values['state-machine-arn'],
        }),
      );
    },
  };
}

export const rollbackCommand = createRollbackCommand(realAwsDeps);
