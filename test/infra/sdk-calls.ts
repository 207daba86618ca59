/**
 * Which AWS API calls a handler can make, read from the code: the adapter functions the handler
 * uses (followed through the adapters they use in turn) and the SDK commands those construct,
 * as IAM actions. Lets the permission tests compare what is granted with what is called.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

/** IAM service prefix of each SDK package the adapters import commands from. */
const servicePrefix: Record<string, string> = {
  '@aws-sdk/client-cloudformation': 'cloudformation',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-ecr': 'ecr',
  '@aws-sdk/client-ecs': 'ecs',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/lib-dynamodb': 'dynamodb',
};

/** The document client's commands and the DynamoDB actions they perform. */
const documentClientActions: Record<string, string> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchGetCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
};

interface ModuleInfo {
  /** Top-level functions (declarations and `const f = () => ...`), by name. */
  readonly functions: Map<string, ts.Node>;
  /** Local name → the relative module and exported name it comes from. */
  readonly imports: Map<string, { readonly file: string; readonly name: string }>;
  /** Local name → the IAM action its command performs. */
  readonly commands: Map<string, string>;
  readonly source: ts.SourceFile;
}

const modules = new Map<string, ModuleInfo>();

function actionFor(pkg: string, commandName: string): string {
  const prefix = servicePrefix[pkg];
  if (!prefix) throw new Error(`No IAM service prefix known for ${pkg}; add it to test/infra/sdk-calls.ts.`);
  if (pkg === '@aws-sdk/lib-dynamodb') {
    const action = documentClientActions[commandName];
    if (!action)
      throw new Error(`No DynamoDB action known for ${commandName}; add it to test/infra/sdk-calls.ts.`);
    return `dynamodb:${action}`;
  }
  return `${prefix}:${commandName.replace(/Command$/, '')}`;
}

function resolveModule(from: string, specifier: string): string {
  const base = resolve(dirname(from), specifier);
  return existsSync(`${base}.ts`) ? `${base}.ts` : join(base, 'index.ts');
}

function load(file: string): ModuleInfo {
  const cached = modules.get(file);
  if (cached) return cached;
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const info: ModuleInfo = { functions: new Map(), imports: new Map(), commands: new Map(), source };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const specifier = statement.moduleSpecifier.text;
      const bindings = statement.importClause?.namedBindings;
      if (statement.importClause?.isTypeOnly || !bindings || !ts.isNamedImports(bindings)) continue;
      for (const element of bindings.elements) {
        if (element.isTypeOnly) continue;
        const imported = (element.propertyName ?? element.name).text;
        if (specifier.startsWith('.')) {
          info.imports.set(element.name.text, { file: resolveModule(file, specifier), name: imported });
        } else if (specifier.startsWith('@aws-sdk/') && imported.endsWith('Command')) {
          info.commands.set(element.name.text, actionFor(specifier, imported));
        }
      }
    } else if (ts.isFunctionDeclaration(statement) && statement.name) {
      info.functions.set(statement.name.text, statement);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name) && declaration.initializer) {
          info.functions.set(declaration.name.text, declaration.initializer);
        }
      }
    }
  }
  modules.set(file, info);
  return info;
}

/** The IAM actions reachable from `node` in `file`, following local and imported functions. */
function actionsFrom(file: string, node: ts.Node, seen: Set<string>, actions: Set<string>): void {
  const info = load(file);
  const visit = (child: ts.Node): void => {
    if (ts.isNewExpression(child) && ts.isIdentifier(child.expression)) {
      const action = info.commands.get(child.expression.text);
      if (action) actions.add(action);
    }
    if (ts.isIdentifier(child)) {
      const name = child.text;
      const local = info.functions.get(name);
      if (local && !seen.has(`${file}#${name}`)) {
        seen.add(`${file}#${name}`);
        actionsFrom(file, local, seen, actions);
      }
      const imported = info.imports.get(name);
      if (imported && !seen.has(`${imported.file}#${imported.name}`)) {
        seen.add(`${imported.file}#${imported.name}`);
        const target = load(imported.file).functions.get(imported.name);
        if (target) actionsFrom(imported.file, target, seen, actions);
      }
    }
    ts.forEachChild(child, visit);
  };
  ts.forEachChild(node, visit);
}

/** Every AWS API call `lambdas/handlers/<name>.ts` can make, as IAM actions, sorted. */
export function awsCallsOfHandler(name: string): string[] {
  const file = join(__dirname, '..', '..', 'lambdas', 'handlers', `${name}.ts`);
  const actions = new Set<string>();
  actionsFrom(file, load(file).source, new Set(), actions);
  return [...actions].sort();
}
