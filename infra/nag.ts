/**
 * Acknowledging cdk-nag findings, one at a time. cdk-nag 3 reports a wildcard permission as its
 * own finding, `AwsSolutions-IAM5[Resource::<flattened ARN>]` or `[Action::<action>]`, and only the
 * exact id is acknowledged, so a new wildcard added later still fails synthesis.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

type CfnValue = string | number | boolean | null | undefined | CfnValue[] | { [key: string]: CfnValue };

/** The flat form cdk-nag gives a (possibly tokenized) resource string in finding ids. */
function flatten(value: CfnValue): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  if ('Fn::Join' in value) {
    const [delimiter, items] = value['Fn::Join'] as [string, CfnValue[]];
    return items.map(flatten).join(delimiter);
  }
  if ('Fn::Sub' in value) return flatten(value['Fn::Sub']);
  if ('Fn::GetAtt' in value) {
    const [resource, attribute] = value['Fn::GetAtt'] as [CfnValue, CfnValue];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if ('Ref' in value) return `<${flatten(value.Ref)}>`;
  return JSON.stringify(value);
}

/** Acknowledges a rule that has no per-finding ids (the whole rule, on this construct only). */
export function acknowledgeRule(scope: IConstruct, ruleId: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${ruleId}`, reason });
}

/** Acknowledges one wildcard resource (an ARN that may contain tokens) of an IAM5 finding. */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flat = flatten(Stack.of(scope).resolve(resource) as CfnValue);
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
}

/** Acknowledges one wildcard action (`service:Prefix*`) of an IAM5 finding. */
export function acknowledgeWildcardAction(scope: IConstruct, action: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason });
}
