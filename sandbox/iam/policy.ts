/**
 * IAM policy documents as the synthesized template holds them once its intrinsics are resolved.
 * Every element may be a single value or a list, as in the policy grammar.
 */

export type OneOrMany<T> = T | readonly T[];

/** `*`, or principals by kind: `{ AWS: 'arn:aws:iam::123456789012:root' }`, `{ Service: 'sns.amazonaws.com' }`. */
export type PolicyPrincipal = '*' | Readonly<Record<string, OneOrMany<string>>>;

/** Operator → condition key → value(s), e.g. `{ StringEquals: { 'aws:SourceAccount': '123456789012' } }`. */
export type PolicyCondition = Readonly<
  Record<string, Readonly<Record<string, OneOrMany<string | boolean | number>>>>
>;

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: OneOrMany<string>;
  readonly NotAction?: OneOrMany<string>;
  readonly Resource?: OneOrMany<string>;
  readonly NotResource?: OneOrMany<string>;
  readonly Principal?: PolicyPrincipal;
  readonly NotPrincipal?: PolicyPrincipal;
  readonly Condition?: PolicyCondition;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: OneOrMany<PolicyStatement>;
}

/** A policy the evaluator cannot judge faithfully; raised instead of guessing, so nothing is allowed by accident. */
export class UnsupportedPolicy extends Error {
  override readonly name = 'UnsupportedPolicy';
}

export function asList<T>(value: OneOrMany<T> | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

export function statementsOf(document: PolicyDocument): readonly PolicyStatement[] {
  return asList(document.Statement);
}
