/**
 * Judges a parsed `cdk diff`: every resource change becomes a finding under the rule that matches it
 * (`rules.ts`). Verdict: ERROR if the text is not a complete diff, else BLOCKED if any finding is
 * blocking, else WARN if any is a warning, else PASS. In the workflow, the environment's approval
 * policy holds BLOCKED (and WARN where it says `warn: "approve"`) for a person's recorded approval.
 * The laptop tool's skip (`SKIP_DIFF_GATE=true`) lets BLOCKED through, loudly; it never turns an
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

/** A request to let a BLOCKED diff through on a laptop: `SKIP_DIFF_GATE=true` (validate:diff). */
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
   * False when the deployment may not go on by itself: ERROR, or BLOCKED (or WARN under an approval
   * policy with `warn: "approve"`) without an honoured skip.
   */
  readonly proceed: boolean;
  /**
   * True when the findings held are a person's to decide: the workflow pauses for a recorded
   * approval instead of stopping. Never for ERROR (nothing readable to approve), never without a policy.
   */
  readonly approvalRequired: boolean;
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
        'the pipeline. In the workflow the deployment pauses for a recorded approval (afu9-deploy approve|deny ' +
        '<execution> --reason "..."); locally, in an emergency only, SKIP_DIFF_GATE=true.',
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

/** What a held diff tells people: it waits for a person's decision, and how to give it from where it is told. */
function approvalNeeded(verdict: 'BLOCKED' | 'WARN', policy: GatePolicy): string {
  const why =
    verdict === 'BLOCKED'
      ? 'A BLOCKED diff needs a person'
      : `The approval policy of environment ${policy.environment} (approval.warn: "approve") holds warnings for a person`;
  const hours = Math.round((policy.approval.expiresAfterSeconds / 3600) * 10) / 10;
  if (policy.judgedFor === 'local-diff') {
    return (
      `${why}, so a deployment to ${policy.environment} would pause at this diff for a recorded approval ` +
      '(afu9-deploy approve|deny <execution> --reason "..."); here it exits 1. To pass this local gate after the ' +
      'review, run it again with SKIP_DIFF_GATE=true (SKIP_DIFF_GATE_REASON says why).'
    );
  }
  return (
    `${why}: the workflow pauses the deployment before any change until someone decides. Review the findings, ` +
    'then run `afu9-deploy approve <execution> --reason "..."` or `afu9-deploy deny <execution> --reason "..."`; ' +
    `your IAM identity and reason are recorded. Unanswered, it expires as denied after ${hours} h.`
  );
}

/**
 * Applies the environment's approval policy and a skip request (the laptop tool's, if any) to a
 * judgement: who may proceed, who waits for a person, and what to say about it. ERROR always stops;
 * BLOCKED, and WARN where the policy says `warn: "approve"`, wait for an approval under a policy
 * (the workflow, or `diff-gate --env`, where waiting means exit 1) and stop without one, unless the
 * laptop skip lets them through. The workflow never passes a skip.
 */
export function decide(judgement: DiffJudgement, skip?: SkipRequest, policy?: GatePolicy): GateDecision {
  // Without a policy (the CLI) a WARN proceeds, as the default policy has it.
  const reviewing = judgement.verdict === 'WARN' && policy?.approval.warn === 'approve' ? policy : undefined;
  const held: readonly Finding[] =
    judgement.verdict === 'BLOCKED' ? judgement.blocking : reviewing ? judgement.warnings : [];
  if (!skip) {
    if (policy && held.length > 0 && (judgement.verdict === 'BLOCKED' || judgement.verdict === 'WARN')) {
      return {
        judgement,
        proceed: false,
        approvalRequired: true,
        skipped: false,
        notice: approvalNeeded(judgement.verdict, policy),
      };
    }
    const proceed = judgement.verdict !== 'ERROR' && held.length === 0;
    return { judgement, proceed, approvalRequired: false, skipped: false };
  }
  if (judgement.verdict === 'ERROR') {
    return {
      judgement,
      proceed: false,
      approvalRequired: false,
      skipped: false,
      notice:
        `${skip.source} was ignored: a skip lets a BLOCKED diff through, never an unreadable one (ERROR). ` +
        'Fix the diff run so the gate can read it.',
    };
  }
  if (held.length === 0) return { judgement, proceed: true, approvalRequired: false, skipped: false };
  const reason = skip.reason?.trim();
  if (skip.reasonRequired && !reason) {
    return {
      judgement,
      proceed: false,
      approvalRequired: false,
      skipped: false,
      notice: `${skip.source} was ignored: a skip needs a reason (it goes into the notification). Give one and start again.`,
    };
  }
  const kind = reviewing ? 'warning' : 'blocking change';
  const lines = held.slice(0, FINDINGS_CAP).map((f) => `  - ${describeFinding(f)}: ${f.reason}`);
  if (held.length > FINDINGS_CAP) {
    lines.push(`  - and ${held.length - FINDINGS_CAP} more ${kind}(s), all in the findings`);
  }
  return {
    judgement,
    proceed: true,
    approvalRequired: false,
    skipped: true,
    notice: [
      `!!! DIFF GATE SKIPPED (${skip.source})${reason ? `, reason: ${reason}` : ''}.`,
      `!!! ${plural(held.length, kind)} will be deployed ${reviewing ? `WITHOUT the approval the policy of environment ${reviewing.environment} asks for` : 'WITHOUT the gate'}:`,
      ...lines,
    ].join('\n'),
  };
}

/** Findings kept per list in the workflow payload; the counts always cover all of them. */
export const FINDINGS_CAP = 25;

/** The compact form the workflow carries (`$.diffGate`): capped lists, full counts. */
export function toDiffGateResult(
  decision: GateDecision,
  skip?: SkipRequest,
  approvalExpiresAfterSeconds?: number,
): DiffGateResult {
  const { judgement } = decision;
  const dropped =
    Math.max(0, judgement.blocking.length - FINDINGS_CAP) +
    Math.max(0, judgement.warnings.length - FINDINGS_CAP);
  // A WARN is held only under an approval policy: the reason it waits leads, so a clipped
  // notification line still says what the policy asks and how to decide.
  const policyHold = judgement.verdict === 'WARN' && decision.approvalRequired;
  const parts = [judgement.message];
  if (decision.notice) {
    if (policyHold) parts.unshift(decision.notice);
    else parts.push(decision.notice);
  }
  if (dropped > 0)
    parts.push(`(${dropped} more finding(s) are counted but not listed here; the diff object has them all.)`);
  return {
    verdict: judgement.verdict,
    proceed: decision.proceed,
    approvalRequired: decision.approvalRequired,
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
    ...(decision.approvalRequired && approvalExpiresAfterSeconds !== undefined
      ? { approvalExpiresAfterSeconds }
      : {}),
  };
}
