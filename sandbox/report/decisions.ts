/**
 * What each state decided, in a line or a few, for the timeline a person reads: the diff verdict
 * and its findings, the secrets checked, the task definition before and after, each rollout
 * judgement, the smoke checks, the rollback, the SNS subject. Read from the states' real inputs and
 * outputs (the workflow-state contract), never from logs.
 */
import type {
  DeploymentWake,
  DiffBuildResult,
  DiffGateResult,
  Finding,
  NotificationResult,
  ResolveResult,
  RollbackResult,
  RolloutJudgement,
  SmokeResult,
  UpdateResult,
  VerificationResult,
} from '../../lambdas/domain/workflow-state';
import type { Invocation, StateRecord } from '../run/execution';
import type { SimulationDocument } from '../run/result';

/**
 * A WaitFor*Event state that timed out after its TimeoutSecondsPath: the safety-net wake of a long
 * rollout (no event yet; the poll after it checks ECS). The definition catches `States.Timeout`
 * only on these waits, so the error names the wake; it is progress, not a failure.
 */
export function isSafetyNetWake(state: { readonly status: string; readonly error?: string }): boolean {
  return state.status === 'CAUGHT' && state.error === 'States.Timeout';
}

/** The error a state's last attempt ended with (the one its Catch handled), if any. */
export function lastErrorOf(record: StateRecord): string | undefined {
  return (record.invocations.at(-1)?.error ?? record.error)?.Error;
}

/** The status a person reads: Step Functions' own, except a safety-net wake, which only WAITED. */
export function displayStatus(record: StateRecord): string {
  return isSafetyNetWake({ status: record.status, error: lastErrorOf(record) }) ? 'WAITED' : record.status;
}

/**
 * The service's revisions through the run, `shop-api-staging:41 → :42 → :41 (rolled
 * back)`: where it started, the revision the run deployed, where it ended; a later revision of the
 * same family is shortened to `:N`.
 */
export function taskDefinitionPath(
  document: Pick<
    SimulationDocument,
    'taskDefinitionBefore' | 'taskDefinitionDeployed' | 'taskDefinitionAfter' | 'outcome'
  >,
): string {
  const steps = [document.taskDefinitionBefore, document.taskDefinitionDeployed, document.taskDefinitionAfter]
    .filter((arn): arn is string => arn !== null)
    .map(shortTaskDefinition)
    .filter((step, index, all) => index === 0 || step !== all[index - 1]);
  const family = (step: string) => step.slice(0, step.lastIndexOf(':'));
  const path = steps
    .map((step, index) =>
      index > 0 && family(step) === family(steps[0]!) ? step.slice(step.lastIndexOf(':')) : step,
    )
    .join(' → ');
  const notes = [
    ...(steps.length === 1 ? ['unchanged'] : []),
    ...(document.outcome === 'rolled-back' ? ['rolled back'] : []),
    ...(document.outcome === 'rollback-failed' ? ['rollback failed'] : []),
  ];
  if (steps.length === 0) return '(none)';
  return notes.length === 0 ? path : `${path} (${notes.join(', ')})`;
}

/** `arn:aws:ecs:...:task-definition/shop-api:42` → `shop-api:42`. */
export function shortTaskDefinition(arn: string | null | undefined): string {
  if (!arn) return '(none)';
  return arn.includes('task-definition/') ? arn.slice(arn.indexOf('task-definition/') + 16) : arn;
}

export function formatSeconds(totalSeconds: number): string {
  const seconds = Math.round(totalSeconds);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

function finding(kind: string, f: Finding): string {
  return `${kind} ${f.change} ${f.resourceType} ${f.logicalId}: ${f.reason}`;
}

function describeOutput(stateName: string, invocation: Invocation): string[] {
  const output = invocation.output;
  const seconds = (invocation.endMs - invocation.startMs) / 1000;
  switch (stateName) {
    case 'ResolveRequest': {
      const result = output as ResolveResult;
      if (result.status === 'ignored') return [`ignored: ${result.reason}`];
      if (result.status !== 'accepted') return [`${result.status}: ${result.reason}`];
      const request = result.request;
      if (request.kind === 'rollback') {
        return [
          `roll back ${request.serviceName} (${request.environment})` +
            (request.failedDeploymentId ? ` after ECS deployment ${request.failedDeploymentId} failed` : '') +
            (request.failureReason ? `: ${request.failureReason}` : ''),
        ];
      }
      return [
        `deploy ${request.version} to ${request.serviceName} (${request.environment}), ` +
          `trigger ${request.trigger}, requested by ${request.requestedBy}`,
        ...(request.images.length > 1
          ? [
              `images: ${request.images.map((image) => `${image.container}=${image.digest ?? image.tag}`).join(', ')}`,
            ]
          : []),
      ];
    }
    case 'RunCdkDiff': {
      const build = output as { Build?: DiffBuildResult & { Id?: string; BuildStatus?: string } };
      return [
        `cdk diff in CodeBuild: ${build.Build?.BuildStatus ?? 'unknown'} after ${formatSeconds(seconds)}`,
      ];
    }
    case 'AnalyzeDiff': {
      const gate = output as DiffGateResult;
      const lines = [
        `diff gate ${gate.verdict}: ${gate.counts.blocking} blocking, ${gate.counts.warnings} warnings, ` +
          `${gate.counts.safe} safe` +
          (gate.skipped ? ` (gate skipped: ${gate.skipReason ?? 'no reason'})` : ''),
      ];
      lines.push(...gate.blocking.map((f) => finding('BLOCKING', f)));
      lines.push(...gate.warnings.map((f) => finding('WARN', f)));
      if (!gate.proceed) lines.push(gate.message);
      return lines;
    }
    case 'VerifySecrets': {
      const result = output as VerificationResult;
      const ok = result.checks.filter((c) => c.status === 'OK').length;
      const lines = [
        `${ok}/${result.checks.length} checks OK (secrets, secret keys, images; values never read out)`,
      ];
      for (const check of result.checks.filter((c) => c.status !== 'OK')) {
        lines.push(`${check.status} ${check.subject}${check.detail ? `: ${check.detail}` : ''}`);
      }
      return lines;
    }
    case 'UpdateService': {
      const update = output as UpdateResult;
      return [
        `task definition ${shortTaskDefinition(update.previousTaskDefinitionArn)} → ` +
          `${shortTaskDefinition(update.taskDefinitionArn)}, ECS deployment ${update.deploymentId}`,
      ];
    }
    case 'WaitForDeploymentEvent':
    case 'WaitForRollbackEvent': {
      const wake = output as DeploymentWake;
      return [
        `woken by ${wake.eventName} (${wake.source}) after ${formatSeconds(seconds)}` +
          (wake.reason ? `: ${wake.reason}` : ''),
      ];
    }
    case 'PollStabilization':
    case 'PollRollback': {
      const judgement = output as RolloutJudgement;
      const lines = [
        `${judgement.status === 'IN_PROGRESS' ? 'checked: still rolling out' : judgement.status}: ` +
          `${judgement.reason} (${judgement.runningCount}/${judgement.desiredCount} running)`,
      ];
      for (const task of judgement.stoppedTasks.slice(0, 2))
        lines.push(`stopped task: ${task.stoppedReason}`);
      return lines;
    }
    case 'SmokeTest': {
      const smoke = output as SmokeResult;
      return [
        `smoke test ${smoke.passed ? 'PASSED' : 'FAILED'} against ${smoke.baseUrl}`,
        ...smoke.checks.map((c) =>
          c.status === 'SKIP'
            ? `SKIP ${c.name}: ${c.reason ?? 'does not apply to this deployment'}`
            : `${c.status} ${c.name} ${c.httpStatus ?? '-'} in ${c.latencyMs} ms` +
              (c.attempts > 1 ? `, ${c.attempts} attempts` : '') +
              (c.reason ? `: ${c.reason}` : ''),
        ),
      ];
    }
    case 'Rollback': {
      const rollback = output as RollbackResult;
      return [
        `${rollback.action === 'started' ? 'rolling back' : 'ECS had already rolled back'}: ` +
          `${shortTaskDefinition(rollback.fromTaskDefinitionArn)} → ` +
          `${shortTaskDefinition(rollback.targetTaskDefinitionArn)}, ECS deployment ${rollback.deploymentId}`,
        rollback.reason,
      ];
    }
    default: {
      if (stateName.startsWith('Notify')) {
        const notification = output as NotificationResult;
        return [`SNS: ${notification.subject}`];
      }
      return [];
    }
  }
}

/** The decision lines of one state, from its last call (or why it failed). */
export function describeState(record: StateRecord): string[] {
  const last = record.invocations.at(-1);
  const lines: string[] = [];
  if (record.invocations.length > 1) lines.push(`${record.invocations.length} attempts`);
  if (last?.error) {
    if (isSafetyNetWake({ status: record.status, error: last.error.Error })) {
      lines.push(
        `no event yet after ${formatSeconds((last.endMs - last.startMs) / 1000)}: the safety net checks the rollout`,
      );
    } else {
      lines.push(`${last.error.Error}: ${last.error.Cause}`);
    }
    return lines;
  }
  if (!last) {
    if (record.error) lines.push(`${record.error.Error}: ${record.error.Cause}`);
    return lines;
  }
  try {
    lines.push(...describeOutput(record.name, last));
  } catch {
    // An output of an unexpected shape is shown as it is rather than hidden.
    lines.push(JSON.stringify(last.output));
  }
  return lines;
}
