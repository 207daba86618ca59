/**
 * Variants of the synthesized stack for the rehearsal to run under: the current template, edited,
 * written to a temporary folder with its asset folders linked beside it (the bundles stay exactly
 * the ones `cdk synth` built).
 */
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Template } from '../../sandbox/assembly/intrinsics';
import { currentAssembly } from '../../sandbox/assembly/current-assembly';

export interface PolicyStatementJson {
  Effect: string;
  Action?: string | string[];
  Resource?: unknown;
  Condition?: unknown;
  Sid?: string;
}

export interface MutableTemplate extends Template {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
}

/** The current stack's template, as a fresh object to edit. */
export async function currentTemplate(): Promise<{ path: string; template: MutableTemplate }> {
  const path = await currentAssembly();
  return { path, template: JSON.parse(readFileSync(path, 'utf8')) as MutableTemplate };
}

/** Writes `template` beside links to the original's asset folders; returns the new template's path. */
export function writeVariant(originalPath: string, template: Template): string {
  const dir = mkdtempSync(join(tmpdir(), 'afu9-template-'));
  const assetRoot = dirname(originalPath);
  for (const entry of readdirSync(assetRoot)) {
    if (entry.startsWith('asset.')) symlinkSync(join(assetRoot, entry), join(dir, entry), 'dir');
  }
  const path = join(dir, basename(originalPath));
  writeFileSync(path, JSON.stringify(template));
  return path;
}

/** The logical id of the function whose POWERTOOLS_SERVICE_NAME is `handlerName`. */
function functionOf(template: MutableTemplate, handlerName: string): string {
  const found = Object.entries(template.Resources).find(
    ([, resource]) =>
      resource.Type === 'AWS::Lambda::Function' &&
      (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.POWERTOOLS_SERVICE_NAME === handlerName,
  );
  if (!found) throw new Error(`The template has no function running ${handlerName}.`);
  return found[0];
}

/** Whether an Action entry (`ecs:UpdateService`, `kms:GenerateDataKey*`) covers the action. */
function covers(pattern: string, action: string): boolean {
  const regex = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${regex}$`, 'i').test(action);
}

/** The logical id of the role a `Fn::GetAtt [role, Arn]` names. */
function roleIdOf(reference: unknown): string {
  const roleId = (reference as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0];
  if (!roleId) throw new Error(`Expected a Fn::GetAtt of a role, got ${JSON.stringify(reference)}.`);
  return roleId;
}

/**
 * Takes `action` out of every statement of the function's role: each Action entry that covers it
 * (a wildcard entry goes whole), and a statement left with no action. Returns how many statements
 * granted it, so a test can tell it really took a grant out.
 */
export function withoutGrant(template: MutableTemplate, handlerName: string, action: string): number {
  const fn = template.Resources[functionOf(template, handlerName)]!;
  return withoutRoleGrant(template, roleIdOf(fn.Properties?.Role), action);
}

/** Takes `action` out of the role EventBridge assumes to start executions (the state machine targets' role). */
export function withoutTriggerRoleGrant(template: MutableTemplate, action: string): number {
  const roleIds = new Set(
    Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::Events::Rule')
      .flatMap((rule) => (rule.Properties?.Targets as { RoleArn?: unknown }[]) ?? [])
      .filter((target) => target.RoleArn !== undefined)
      .map((target) => roleIdOf(target.RoleArn)),
  );
  return [...roleIds].reduce((removed, roleId) => removed + withoutRoleGrant(template, roleId, action), 0);
}

/** Removes every Lambda permission of the function running `handlerName`; returns how many there were. */
export function withoutLambdaPermissions(template: MutableTemplate, handlerName: string): number {
  const functionId = functionOf(template, handlerName);
  const permissions = Object.entries(template.Resources).filter(
    ([, resource]) =>
      resource.Type === 'AWS::Lambda::Permission' &&
      (resource.Properties?.FunctionName as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0] ===
        functionId,
  );
  for (const [id] of permissions) delete template.Resources[id];
  return permissions.length;
}

function withoutRoleGrant(template: MutableTemplate, roleId: string, action: string): number {
  let removed = 0;
  const strip = (document: { Statement: PolicyStatementJson[] }) => {
    document.Statement = document.Statement.flatMap((statement) => {
      if (statement.Effect !== 'Allow' || statement.Action === undefined) return [statement];
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const kept = actions.filter((candidate) => !covers(candidate, action));
      if (kept.length === actions.length) return [statement];
      removed += 1;
      return kept.length === 0 ? [] : [{ ...statement, Action: kept.length === 1 ? kept[0]! : kept }];
    });
  };
  const role = template.Resources[roleId]!;
  for (const policy of (role.Properties?.Policies as {
    PolicyDocument: { Statement: PolicyStatementJson[] };
  }[]) ?? []) {
    strip(policy.PolicyDocument);
  }
  for (const resource of Object.values(template.Resources)) {
    if (
      resource.Type === 'AWS::IAM::Policy' &&
      ((resource.Properties?.Roles as { Ref?: string }[]) ?? []).some((ref) => ref.Ref === roleId)
    ) {
      strip(resource.Properties!.PolicyDocument as { Statement: PolicyStatementJson[] });
    }
  }
  return removed;
}
