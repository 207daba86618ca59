/** The diff gate: parse what `cdk diff` printed, judge it by the rules, decide whether to proceed. */
export type { ParsedDiff, PropertyChange, ResourceChange, StackDiff } from './model';
export { parseCdkDiff, stripAnsi } from './parse';
export { diffRules, renderRulesTable, ruleFor, type DiffRule, type Severity } from './rules';
export {
  decide,
  describeFinding,
  FINDINGS_CAP,
  judgeDiff,
  judgeDiffText,
  toDiffGateResult,
  type DiffJudgement,
  type GateDecision,
  type GatePolicy,
  type SkipRequest,
} from './judge';
