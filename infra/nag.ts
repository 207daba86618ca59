/**
 * Acknowledging cdk-nag findings, one at a time. cdk-nag 3 reports a wildcard permission as its
 * own finding, `AwsSolutions-IAM5[Resource::<flattened ARN>]` or `[Action::<action>]`, and only the
 * exact id is acknowledged, so a new wildcard added later still fails synthesis.
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
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

/**
 * What CodeBuild's own grants to a project's role contain, each acknowledged with why it is there: the
 * project's report groups and default log group (named after the project), the S3 source binding's
 * read-only actions, and the output encryption key's actions (the grant is on that one key).
 */
export function acknowledgeCodeBuildDefaults(project: codebuild.Project): void {
  const role = project.role!;
  const stack = Stack.of(project);
  acknowledgeWildcardResource(
    role,
    stack.formatArn({
      service: 'codebuild',
      resource: 'report-group',
      resourceName: `${project.projectName}-*`,
    }),
    "CodeBuild's default grant for the project's own test report groups (named after the project); the build creates none.",
  );
  acknowledgeWildcardResource(
    role,
    stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `/aws/codebuild/${project.projectName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    "CodeBuild's default grant for the project's default log group and its streams; the build logs to the explicit group.",
  );
  for (const action of ['s3:GetBucket*', 's3:GetObject*', 's3:List*']) {
    acknowledgeWildcardAction(
      role,
      action,
      'Granted by the S3 source binding to read the source zip: read-only actions on the source bucket and key.',
    );
  }
  for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
    acknowledgeWildcardAction(
      role,
      action,
      "CodeBuild encrypts the build's output with the build's own key; the grant is on that one key.",
    );
  }
}
