/**
 * Builds the orchestrator app exactly as `cdk synth` does (same app factory, same `cdk.json`
 * context, cdk-nag plugin included), with extra context per test. Bundling the ten functions is the
 * slow part, so only the suite that checks the real assets asks for it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../infra/app';
import type { OrchestratorStack } from '../../infra/orchestrator-stack';

const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

export interface SynthOptions {
  /** Extra context, as `-c key=value` would give it. */
  readonly context?: Record<string, unknown>;
  /** Run esbuild for every function (slow); otherwise CDK skips bundling. */
  readonly bundle?: boolean;
}

export function buildApp(options: SynthOptions = {}): { app: App; stack: OrchestratorStack } {
  const context: Record<string, unknown> = { ...cdkJson.context, ...options.context };
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  return createApp(new App({ context }));
}

export function synthTemplate(options: SynthOptions = {}): {
  app: App;
  stack: OrchestratorStack;
  template: Template;
} {
  const { app, stack } = buildApp(options);
  return { app, stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export interface PolicyStatementJson {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export function actionsOf(statement: PolicyStatementJson): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOf(statement: PolicyStatementJson): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** The logical id of the function whose POWERTOOLS_SERVICE_NAME is `handlerName`. */
export function functionLogicalId(template: Template, handlerName: string): string {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: handlerName } } },
  });
  const ids = Object.keys(functions);
  if (ids.length !== 1) throw new Error(`Expected one function for ${handlerName}, found ${ids.length}.`);
  return ids[0]!;
}

/** Every Allow statement of the IAM policies attached to a role, given the role's logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): PolicyStatementJson[] {
  const policies = template.findResources('AWS::IAM::Policy') as Resources;
  return Object.values(policies)
    .filter((policy) =>
      (policy.Properties?.Roles as unknown[]).some(
        (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId }),
      ),
    )
    .flatMap(
      (policy) => (policy.Properties!.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
    )
    .filter((statement) => statement.Effect === 'Allow');
}

/** The statements granted to a handler function's role. */
export function statementsOfFunction(template: Template, handlerName: string): PolicyStatementJson[] {
  const resources = template.toJSON().Resources as Resources;
  const fn = resources[functionLogicalId(template, handlerName)]!;
  const role = fn.Properties!.Role as { 'Fn::GetAtt': [string, string] };
  return statementsOfRole(template, role['Fn::GetAtt'][0]);
}

export function roleOf(template: Template, resourceType: string): string {
  const resources = template.findResources(resourceType) as Resources;
  const [resource] = Object.values(resources);
  const role = (resource!.Properties!.RoleArn ?? resource!.Properties!.ServiceRole) as {
    'Fn::GetAtt': [string, string];
  };
  return role['Fn::GetAtt'][0];
}
