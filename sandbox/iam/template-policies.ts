/**
 * The policies a synthesized CloudFormation template gives each IAM role and each resource, with
 * their intrinsics resolved by the caller (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub` are the
 * sandbox account's business). Identity policies come from the role's inline `Policies`, from
 * AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources attached through `Roles`, and from managed
 * policies of the template the role lists in `ManagedPolicyArns`. Resource policies come from topic,
 * queue and bucket policies, Lambda permissions and KMS key policies.
 */
import { UnsupportedPolicy, type PolicyDocument, type PolicyStatement } from './policy';

/** Resolves one intrinsic (`{ Ref: ... }`, `{ 'Fn::GetAtt': [...] }`, `{ 'Fn::Join': ... }`, ...) to a string. */
export type IntrinsicResolver = (intrinsic: Readonly<Record<string, unknown>>) => string;

export interface TemplatePolicies {
  /** Role logical id → the identity-based policies attached to it. */
  readonly identityPolicies: ReadonlyMap<string, readonly PolicyDocument[]>;
  /**
   * Role logical id → managed policy ARNs the template does not define (AWS managed policies, say).
   * Their content is unknown here, so nothing they allow is allowed in the sandbox: report them.
   */
  readonly externalManagedPolicies: ReadonlyMap<string, readonly string[]>;
  /**
   * Logical id of the resource a policy attaches to (topic, queue, bucket, function, key) → its
   * resource-based policy. A target given as a literal name or ARN is keyed by that resolved string.
   */
  readonly resourcePolicies: ReadonlyMap<string, PolicyDocument>;
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

type Json = unknown;

function isIntrinsic(value: Json): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
}

/** The document with every intrinsic replaced by its resolved string. */
function resolveDeep(value: Json, resolve: IntrinsicResolver): Json {
  if (isIntrinsic(value)) return resolve(value);
  if (Array.isArray(value)) return value.map((item) => resolveDeep(item, resolve));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveDeep(item, resolve)]));
  }
  return value;
}

function resolveDocument(document: Json, resolve: IntrinsicResolver, where: string): PolicyDocument {
  const resolved = resolveDeep(document, resolve) as PolicyDocument | undefined;
  if (!resolved || typeof resolved !== 'object' || resolved.Statement === undefined) {
    throw new UnsupportedPolicy(`${where} has no policy document with a Statement.`);
  }
  return resolved;
}

/** The logical id an intrinsic points at (`{ Ref: id }`, `{ 'Fn::GetAtt': [id, attr] }`), if it is one. */
function referencedId(
  value: Json,
  resources: Readonly<Record<string, TemplateResource>>,
): string | undefined {
  if (!isIntrinsic(value)) return undefined;
  const ref = value.Ref;
  if (typeof ref === 'string' && ref in resources) return ref;
  const getAtt = value['Fn::GetAtt'];
  const id = Array.isArray(getAtt)
    ? getAtt[0]
    : typeof getAtt === 'string'
      ? getAtt.split('.')[0]
      : undefined;
  return typeof id === 'string' && id in resources ? id : undefined;
}

function list(value: Json): readonly Json[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

class Collector {
  readonly identity = new Map<string, PolicyDocument[]>();
  readonly external = new Map<string, string[]>();
  readonly resource = new Map<string, PolicyDocument>();
  private readonly replacingPolicyOwners = new Map<string, string>();

  addIdentity(roleKey: string, document: PolicyDocument): void {
    this.identity.set(roleKey, [...(this.identity.get(roleKey) ?? []), document]);
  }

  addExternal(roleKey: string, arn: string): void {
    this.external.set(roleKey, [...(this.external.get(roleKey) ?? []), arn]);
  }

  /** Topic, queue, bucket and key policies replace the resource's policy: two on one resource is a race. */
  setReplacing(targetKey: string, document: PolicyDocument, policyId: string): void {
    const earlier = this.replacingPolicyOwners.get(targetKey);
    if (earlier) {
      throw new UnsupportedPolicy(
        `${earlier} and ${policyId} both set the policy of ${targetKey}; AWS keeps whichever is written last, ` +
          'so the sandbox cannot tell which applies. Merge them into one policy.',
      );
    }
    this.replacingPolicyOwners.set(targetKey, policyId);
    this.resource.set(targetKey, document);
  }

  /** Lambda permissions add statements to the function's policy. */
  appendStatement(targetKey: string, statement: PolicyStatement): void {
    const existing = this.resource.get(targetKey);
    const statements = existing ? [...list(existing.Statement)] : [];
    this.resource.set(targetKey, {
      Version: '2012-10-17',
      Statement: [...(statements as PolicyStatement[]), statement],
    });
  }
}

function lambdaPermissionStatement(
  id: string,
  properties: Readonly<Record<string, unknown>>,
  functionArn: string,
  resolve: IntrinsicResolver,
): PolicyStatement {
  for (const unsupported of ['EventSourceToken', 'InvokedViaFunctionUrl']) {
    if (properties[unsupported] !== undefined) {
      throw new UnsupportedPolicy(
        `The Lambda permission ${id} sets ${unsupported}, which the sandbox does not model.`,
      );
    }
  }
  const value = (field: string) =>
    properties[field] === undefined ? undefined : String(resolveDeep(properties[field], resolve));
  const principal = value('Principal');
  if (!principal) throw new UnsupportedPolicy(`The Lambda permission ${id} names no Principal.`);
  const sourceArn = value('SourceArn');
  const sourceAccount = value('SourceAccount');
  const organization = value('PrincipalOrgID');
  const urlAuthType = value('FunctionUrlAuthType');
  const stringEquals: Record<string, string> = {
    ...(sourceAccount ? { 'aws:SourceAccount': sourceAccount } : {}),
    ...(organization ? { 'aws:PrincipalOrgID': organization } : {}),
    ...(urlAuthType ? { 'lambda:FunctionUrlAuthType': urlAuthType } : {}),
  };
  const condition = {
    ...(sourceArn ? { ArnLike: { 'aws:SourceArn': sourceArn } } : {}),
    ...(Object.keys(stringEquals).length > 0 ? { StringEquals: stringEquals } : {}),
  };
  return {
    Sid: id,
    Effect: 'Allow',
    Principal:
      principal === '*'
        ? '*'
        : principal.endsWith('.amazonaws.com')
          ? { Service: principal }
          : { AWS: principal },
    Action: value('Action') ?? 'lambda:InvokeFunction',
    Resource: functionArn,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

export function policiesFromTemplate(template: unknown, resolve: IntrinsicResolver): TemplatePolicies {
  const resources = ((template as { Resources?: unknown } | null)?.Resources ?? {}) as Readonly<
    Record<string, TemplateResource>
  >;
  const collected = new Collector();
  /** A role, queue, topic... named by a Ref/GetAtt to the template is keyed by logical id; otherwise by value. */
  const keyOf = (value: Json) => referencedId(value, resources) ?? String(resolveDeep(value, resolve));

  for (const [id, resource] of Object.entries(resources)) {
    const properties = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        for (const [index, inline] of list(properties.Policies).entries()) {
          const policy = inline as { PolicyDocument?: Json; PolicyName?: Json };
          collected.addIdentity(
            id,
            resolveDocument(policy.PolicyDocument, resolve, `Inline policy ${index} of ${id}`),
          );
        }
        break;
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy': {
        const document = resolveDocument(properties.PolicyDocument, resolve, id);
        for (const role of list(properties.Roles)) collected.addIdentity(keyOf(role), document);
        // Users and Groups it may also name never call from a function: they do not concern the sandbox.
        break;
      }
      case 'AWS::SNS::TopicPolicy':
        for (const topic of list(properties.Topics)) {
          collected.setReplacing(keyOf(topic), resolveDocument(properties.PolicyDocument, resolve, id), id);
        }
        break;
      case 'AWS::SQS::QueuePolicy':
        for (const queue of list(properties.Queues)) {
          collected.setReplacing(keyOf(queue), resolveDocument(properties.PolicyDocument, resolve, id), id);
        }
        break;
      case 'AWS::S3::BucketPolicy':
        collected.setReplacing(
          keyOf(properties.Bucket),
          resolveDocument(properties.PolicyDocument, resolve, id),
          id,
        );
        break;
      case 'AWS::KMS::Key':
        if (properties.KeyPolicy !== undefined) {
          collected.setReplacing(
            id,
            resolveDocument(properties.KeyPolicy, resolve, `The key policy of ${id}`),
            id,
          );
        }
        break;
      case 'AWS::Lambda::Permission': {
        const functionId = referencedId(properties.FunctionName, resources);
        const functionArn = functionId
          ? resolve({ 'Fn::GetAtt': [functionId, 'Arn'] })
          : String(resolveDeep(properties.FunctionName, resolve));
        collected.appendStatement(
          functionId ?? functionArn,
          lambdaPermissionStatement(id, properties, functionArn, resolve),
        );
        break;
      }
      default:
        break;
    }
  }

  // Managed policies a role lists by ARN: those of the template are its identity policies too.
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    for (const arn of list(resource.Properties?.ManagedPolicyArns)) {
      const managedId = referencedId(arn, resources);
      const managed = managedId ? resources[managedId] : undefined;
      if (managed?.Type === 'AWS::IAM::ManagedPolicy') {
        collected.addIdentity(id, resolveDocument(managed.Properties?.PolicyDocument, resolve, managedId!));
      } else {
        collected.addExternal(id, String(resolveDeep(arn, resolve)));
      }
    }
  }

  return {
    identityPolicies: collected.identity,
    externalManagedPolicies: collected.external,
    resourcePolicies: collected.resource,
  };
}
