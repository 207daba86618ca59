/**
 * AnalyzeDiff: judges the `cdk diff` output the RunCdkDiff job wrote (an S3 object, or small inline
 * text) and returns a compact `DiffGateResult` for `$.diffGate`. `proceed` is false on ERROR, on
 * BLOCKED, and on WARN where the environment's approval policy says `warn: "approve"`; BLOCKED and such
 * a WARN set `approvalRequired`, and the workflow pauses for a person's recorded approval.
 * An unreadable diff (missing object, no permission) is an ERROR verdict, not an exception, so the
 * workflow stops through NotifyBlocked with the reason; throttling surfaces as TransientAwsError.
 */
import {
  decide,
  judgeDiff,
  parseCdkDiff,
  toDiffGateResult,
  type DiffJudgement,
  type GatePolicy,
} from '../domain/cdk-diff';
import { environmentNamed } from '../domain/environments';
import type { DiffGateResult } from '../domain/workflow-state';
import { readDiffObject } from '../aws/diff-store';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface AnalyzeDiffEvent {
  readonly executionId: string;
  /** The request's environment (`$.request.environment`): its approval policy decides whether a WARN stops. */
  readonly environment?: string;
  readonly bucket?: string;
  readonly key?: string;
  /** The diff itself, for small diffs passed inline instead of through S3. */
  readonly text?: string;
}

function errorJudgement(problem: string): DiffJudgement {
  return { verdict: 'ERROR', stacks: [], blocking: [], warnings: [], safe: [], message: `ERROR: ${problem}` };
}

/** Reads and judges the diff the event points at; an unreadable diff is an ERROR judgement. */
async function judgeEvent(event: AnalyzeDiffEvent, { clients, logger }: HandlerDeps): Promise<DiffJudgement> {
  if (typeof event.text === 'string') return judgeDiff(parseCdkDiff(event.text));
  if (!event.bucket || !event.key) {
    return errorJudgement(
      'AnalyzeDiff got neither `text` nor `bucket` and `key`: the state machine must pass the diff location ' +
        '(bucket ${DiffBucketName}, key diffs/<execution name>.txt). Check the AnalyzeDiff Parameters.',
    );
  }
  const object = await readDiffObject(clients, { bucket: event.bucket, key: event.key });
  if (!object.found) return errorJudgement(object.problem);
  const { cdkExitCode } = object;
  logger.info('Diff read', { bucket: event.bucket, key: event.key, bytes: object.bytes, cdkExitCode });
  // 0, and 1 under `--fail`, are finished diffs; any other exit is a run that broke, whatever it printed.
  if (cdkExitCode !== undefined && cdkExitCode !== 0 && cdkExitCode !== 1) {
    return errorJudgement(
      `cdk diff exited with code ${cdkExitCode} in the RunCdkDiff build, so ${event.key} is not a finished diff. ` +
        "Check that build's log, fix the failure and start the deployment again.",
    );
  }
  return judgeDiff(parseCdkDiff(object.text));
}

export function createAnalyzeDiffHandler(
  deps: HandlerDeps,
): (event: AnalyzeDiffEvent) => Promise<DiffGateResult> {
  const { logger } = deps;
  return async (event) => {
    logger.appendKeys({ executionId: event.executionId });
    const environment = environmentNamed(deps.environments, event.environment);
    const policy: GatePolicy | undefined = environment
      ? { environment: environment.name, approval: environment.approval }
      : undefined;
    // Fail closed: without its environment the gate cannot know whether a WARN needs a review.
    const judgement = environment
      ? await judgeEvent(event, deps)
      : errorJudgement(
          `AnalyzeDiff got no configured environment (received ${event.environment === undefined ? 'nothing' : JSON.stringify(event.environment)}), ` +
            "so it cannot apply that environment's approval policy. The state machine must pass " +
            '"environment.$": "$.request.environment"; check the AnalyzeDiff Parameters.',
        );
    const decision = decide(judgement, undefined, policy);
    const result = toDiffGateResult(decision, undefined, policy?.approval.expiresAfterSeconds);
    const summary = {
      verdict: result.verdict,
      proceed: result.proceed,
      approvalRequired: result.approvalRequired,
      stacks: result.stacks,
      counts: result.counts,
    };
    if (result.approvalRequired) logger.warn('Diff gate holds the deployment for an approval', summary);
    else if (result.proceed) logger.info('Diff gate passed', summary);
    else logger.warn('Diff gate stopped the deployment', { ...summary, message: result.message });
    return result;
  };
}

export const handler = lambdaEntry('analyze-diff', createAnalyzeDiffHandler);
