/**
 * Judges a parsed `cdk diff`: every resource change becomes a finding under the rule that matches it
 * (`rules.ts`). Verdict: ERROR if the text is not a complete diff, else BLOCKED if any finding is
 * blocking, else WARN if any is a warning, else PASS. The environment's approval policy decides
 * whether a WARN stops. A skip lets BLOCKED (and a stopped WARN) through, loudly; it never turns an
 * ERROR into anything else and never drops a finding.
 */
import type { ApprovalPolicy } from '../deploy-config';
import type { DiffGateResult, DiffVerdict, Finding } from '../workflow-state';
import type { ParsedDiff, ResourceChange } from './model';
import { parseCdkDiff } from './parse';
import { ruleFor, type DiffRule } from './rules';

export interface DiffJudgement {
  readonly verdict: DiffVerdict;
  readonly stacks: readonly string[];
  readonly blocking: readonly Finding[];
  readonly warnings: readonly Finding[];
  readonly safe: readonly Finding[];
  readonly message: string;
}

/** A request to let a BLOCKED diff (or a WARN the approval policy stops) through: `SKIP_DIFF_GATE=true` (CLI) or `skipDiffGate` (workflow). */
export interface SkipRequest {
  /** How the skip was asked for, quoted in the warning. */
  readonly source: string;
  readonly reason?: string;
  /** The workflow demands a reason for the notification; the CLI's runbook override does not. */
  readonly reasonRequired: boolean;
}

export interface GateDecision {
  readonly judgement: DiffJudgement;
  /**
   * False when the deployment must stop: ERROR, or BLOCKED (or WARN under an approval policy with
   * `warn: "stop"`) without an honoured skip.
   */
  readonly proceed: boolean;
  readonly skipped: boolean;
  /** The loud warning to show when a skip was honoured, or why a skip request was refused. */
  readonly notice?: string;
}

function toFinding(stack: string, resource: ResourceChange, rule: DiffRule): Finding {
  return {
    stack,
    resourceType: resource.resourceType,
    logicalId: resource.logicalId,
    path: resource.path,
    change: resource.change,
    rule: rule.id,
    reason: rule.reason,
  };
}

/** `AWS::ECS::Service Afu9EcsStack/Service (ServiceD69D759B) replace` */
export function describeFinding(finding: Finding): string {
  const where = finding.path ? `${finding.stack}/${finding.path}` : finding.stack;
  return `${finding.resourceType} ${where} (${finding.logicalId}) ${finding.change}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function listed(findings: readonly Finding[], max = 5): string {
  const shown = findings.slice(0, max).map(describeFinding).join('; ');
  return findings.length > max ? `${shown}; and ${findings.length - max} more` : shown;
}

export function judgeDiff(parsed: ParsedDiff): DiffJudgement {
  const stacks = parsed.stacks.map((s) => s.name);
  if (!parsed.ok) {
    return {
      verdict: 'ERROR',
      stacks,
      blocking: [],
      warnings: [],
      safe: [],
      message: `ERROR: ${parsed.problem}`,
    };
  }
  const blocking: Finding[] = [];
  const warnings: Finding[] = [];
  const safe: Finding[] = [];
  for (const stack of parsed.stacks) {
    for (const resource of stack.resources) {
      const rule = ruleFor(resource.resourceType, resource.change);
      const list = rule.severity === 'blocking' ? blocking : rule.severity === 'warning' ? warnings : safe;
      list.push(toFinding(stack.name, resource, rule));
    }
  }
  const scope = `${plural(stacks.length, 'stack')} (${stacks.join(', ')})`;
  if (blocking.length > 0) {
    return {
      verdict: 'BLOCKED',
      stacks,
      blocking,
      warnings,
      safe,
      message:
        `BLOCKED: ${plural(blocking.length, 'change')} in ${scope} would take the service down or lose data: ` +
        `${listed(blocking)}. Change the code so these resources are kept, or deploy them deliberately outside ` +
        'the pipeline; in an emergency only, skip the gate (SKIP_DIFF_GATE=true locally, skipDiffGate with a reason in the ' +
        'workflow).',
    };
  }
  if (warnings.length > 0) {
    return {
      verdict: 'WARN',
      stacks,
      blocking,
      warnings,
      safe,
      message: `WARN: ${plural(warnings.length, 'change')} in ${scope} need a review: ${listed(warnings)}.`,
    };
  }
  const what = safe.length === 0 ? 'no resource changes' : `${plural(safe.length, 'safe change')}`;
  return { verdict: 'PASS', stacks, blocking, warnings, safe, message: `PASS: ${what} in ${scope}.` };
}

export function judgeDiffText(text: string): DiffJudgement {
  return judgeDiff(parseCdkDiff(text));
}

/**
 * The environment whose approval policy applies: the workflow's, or `--env`'s in the CLI. Without
 * `--env` the CLI passes none and the default policy (WARN proceeds, BLOCKED stops) applies.
 */
export interface GatePolicy {
  readonly environment: string;
  readonly approval: ApprovalPolicy;
  /**
   * Where the judgement is told: in a deployment (the workflow, `start --dry-run`), which stopped
   * and changed nothing; or on a diff judged locally (`diff-gate --env`, `validate:diff --env`),
   * where the remedy is the local skip. @default 'deployment'
   */
  readonly judgedFor?: 'deployment' | 'local-diff';
}

/** Why a WARN stops where the policy asks for a review, and how to go ahead from where it is told. */
function reviewRequired(policy: GatePolicy): string {
  const rule = `The approval policy of environment ${policy.environment} (approval.warn: "stop") requires a person's review for warnings`;
  if (policy.judgedFor === 'local-diff') {
    return (
      `${rule}, so a deployment to ${policy.environment} would stop at this diff (exit 1). Review the warnings ` +
      'listed; to pass this gate after the review, run it again with SKIP_DIFF_GATE=true (SKIP_DIFF_GATE_REASON ' +
      'says why); to deploy them, start the deployment with a reason (afu9-deploy start --skip-diff-gate ' +
      '--reason "...").'
    );
  }
  return (
    `${rule}, so nothing was changed. Review the warnings listed; to deploy them, start the deployment ` +
    'again with skipDiffGate: true and a reason (afu9-deploy start --skip-diff-gate --reason "..."); the ' +
    'reason is recorded in the notification.'
  );
}

/**
 * Applies the environment's approval policy and a skip request (if any) to a judgement: who may
 * proceed, and what to say about it. ERROR always stops; BLOCKED stops unless skipped with a reason;
 * WARN stops the same way when the policy says `warn: "stop"`.
 */
export function decide(judgement: DiffJudgement, skip?: SkipRequest, policy?: GatePolicy): GateDecision {
  // Without a policy (the CLI) a WARN proceeds, as the default policy has it.
  const reviewing = judgement.verdict === 'WARN' && policy?.approval.warn === 'stop' ? policy : undefined;
  const warnStops = reviewing !== undefined;
  const held: readonly Finding[] =
    judgement.verdict === 'BLOCKED' ? judgement.blocking : warnStops ? judgement.warnings : [];
  const policyNotice = reviewing ? reviewRequired(reviewing) : undefined;
  if (!skip) {
    const proceed = judgement.verdict !== 'ERROR' && held.length === 0;
    return { judgement, proceed, skipped: false, ...(policyNotice ? { notice: policyNotice } : {}) };
  }
  if (judgement.verdict === 'ERROR') {
    return {
      judgement,
      proceed: false,
      skipped: false,
      notice:
        `${skip.source} was ignored: a skip lets a BLOCKED diff through, never an unreadable one (ERROR). ` +
        'Fix the diff run so the gate can read it.',
    };
  }
  if (held.length === 0) return { judgement, proceed: true, skipped: false };
  const reason = skip.reason?.trim();
  if (skip.reasonRequired && !reason) {
    return {
      judgement,
      proceed: false,
      skipped: false,
      notice: [
        ...(policyNotice ? [policyNotice] : []),
        `${skip.source} was ignored: a skip needs a reason (it goes into the notification). Give one and start again.`,
      ].join('\n'),
    };
  }
  const kind = warnStops ? 'warning' : 'blocking change';
  const lines = held.slice(0, FINDINGS_CAP).map((f) => `  - ${describeFinding(f)}: ${f.reason}`);
  if (held.length > FINDINGS_CAP) {
    lines.push(`  - and ${held.length - FINDINGS_CAP} more ${kind}(s), all in the findings`);
  }
  const without = reviewing
    ? `WITHOUT the review the approval policy of environment ${reviewing.environment} requires`
    : 'WITHOUT the gate';
  return {
    judgement,
    proceed: true,
    skipped: true,
    notice: [
      `!!! DIFF GATE SKIPPED (${skip.source})${reason ? `, reason: ${reason}` : ''}.`,
      `!!! ${plural(held.length, kind)} will be deployed ${without}:`,
      ...lines,
    ].join('\n'),
  };
}

/** Findings kept per list in the workflow payload; the counts always cover all of them. */
export const FINDINGS_CAP = 25;

/** The compact form the workflow carries (`$.diffGate`): capped lists, full counts. */
export function toDiffGateResult(decision: GateDecision, skip?: SkipRequest): DiffGateResult {
  const { judgement } = decision;
  const dropped =
    Math.max(0, judgement.blocking.length - FINDINGS_CAP) +
    Math.max(0, judgement.warnings.length - FINDINGS_CAP);
  // A WARN stops only under an approval policy: the reason it stopped leads, so a clipped
  // notification line still says what the policy asks and how to go ahead.
  const policyStop = judgement.verdict === 'WARN' && !decision.proceed;
  const parts = [judgement.message];
  if (decision.notice) {
    if (policyStop) parts.unshift(decision.notice);
    else parts.push(decision.notice);
  }
  if (dropped > 0)
    parts.push(`(${dropped} more finding(s) are counted but not listed here; the diff object has them all.)`);
  return {
    verdict: judgement.verdict,
    proceed: decision.proceed,
    skipped: decision.skipped,
    ...(decision.skipped && skip?.reason ? { skipReason: skip.reason.trim() } : {}),
    stacks: judgement.stacks,
    counts: {
      blocking: judgement.blocking.length,
      warnings: judgement.warnings.length,
      safe: judgement.safe.length,
    },
    blocking: judgement.blocking.slice(0, FINDINGS_CAP),
    warnings: judgement.warnings.slice(0, FINDINGS_CAP),
    message: parts.join('\n'),
  };
}
