/** What the text of one `cdk diff` run says, as data. Built by `parse.ts`, judged by `judge.ts`. */
import type { ChangeKind } from '../workflow-state';

export type { ChangeKind };

/** A property line under a resource (` └─ [~] ServiceName (requires replacement)`). */
export interface PropertyChange {
  readonly name: string;
  readonly marker: '+' | '-' | '~';
  readonly replacement: 'requires' | 'may' | 'none';
}

/** A resource line (`[~] AWS::ECS::Service Service/Service ServiceD69D759B replace`) and its details. */
export interface ResourceChange {
  readonly resourceType: string;
  /** Construct path as CDK prints it (without the stack name); empty when CDK printed none. */
  readonly path: string;
  readonly logicalId: string;
  readonly change: ChangeKind;
  /**
   * The trailing word(s) CDK printed (`replace`, `may be replaced`, `destroy`, `orphan`, `import`),
   * or empty. `orphan` (removed from the stack, kept in AWS) and `import` are kept here because the
   * change kinds of the contract fold them into `destroy` and `add`.
   */
  readonly impact: string;
  readonly properties: PropertyChange[];
}

export interface StackDiff {
  readonly name: string;
  /** `aws://account/region` when CDK diffed against a deployed stack. */
  readonly environment?: string;
  /** CDK said `There were no differences`. */
  noDifferences: boolean;
  readonly resources: ResourceChange[];
  /** Section headings seen (`Resources`, `IAM Statement Changes`, `Outputs`, ...). */
  readonly sections: Set<string>;
}

export type ParsedDiff =
  | { readonly ok: true; readonly stacks: readonly StackDiff[] }
  /** The text is not a complete `cdk diff` output; `problem` says why and what to do. */
  | { readonly ok: false; readonly problem: string; readonly stacks: readonly StackDiff[] };
