/**
 * The two documents generated from the configuration schema: `deploy.config.schema.json` (the JSON
 * Schema editors validate `deploy.config.json` with) and `docs/configuration.md` (the reference).
 * Tests keep the committed files equal to these; `npm run config:reference` rewrites them. Both are
 * left out of Prettier (.prettierignore): they are exactly what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployConfigJsonSchema } from '../lambdas/domain/deploy-config';
import { schemaFilePath } from './deploy-config-file';

export { schemaFilePath } from './deploy-config-file';

export const referenceFilePath = join(__dirname, '..', 'docs', 'configuration.md');

interface JsonSchemaNode {
  readonly type?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, JsonSchemaNode>>;
  readonly additionalProperties?: JsonSchemaNode | boolean;
  readonly propertyNames?: JsonSchemaNode;
  readonly items?: JsonSchemaNode;
  readonly required?: readonly string[];
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly minLength?: number;
}

/** The JSON Schema as the committed file holds it. */
export function schemaFileText(): string {
  return JSON.stringify(deployConfigJsonSchema(), null, 2) + '\n';
}

function typeOf(node: JsonSchemaNode): string {
  if (node.enum) return `one of ${node.enum.map((value) => `\`${JSON.stringify(value)}\``).join(', ')}`;
  if (node.type === 'array') {
    const items = node.items ? typeOf(node.items) : 'any';
    return `list of ${items}${node.minItems ? ` (at least ${node.minItems})` : ''}`;
  }
  if (node.type === 'integer' || node.type === 'number') {
    const range = [
      node.minimum !== undefined ? `≥ ${node.minimum}` : undefined,
      node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER ? `≤ ${node.maximum}` : undefined,
    ].filter((part) => part !== undefined);
    return `${node.type === 'integer' ? 'whole number' : 'number'}${range.length ? ` ${range.join(', ')}` : ''}`;
  }
  if (node.type === 'object') return 'object';
  return node.type ?? 'any';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

interface Section {
  readonly path: string;
  readonly node: JsonSchemaNode;
}

/** Sections for every object in the schema, depth first: `environments.<name>.smoke.checks[]`, ... */
function sectionsOf(path: string, node: JsonSchemaNode): Section[] {
  const sections: Section[] = [{ path, node }];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const childPath = path === '' ? name : `${path}.${name}`;
    if (child.type === 'object' && child.properties) sections.push(...sectionsOf(childPath, child));
    if (child.type === 'object' && typeof child.additionalProperties === 'object') {
      sections.push(...sectionsOf(`${childPath}.<name>`, child.additionalProperties));
    }
    if (child.type === 'array' && child.items?.type === 'object') {
      sections.push(...sectionsOf(`${childPath}[]`, child.items));
    }
  }
  return sections;
}

function sectionText({ path, node }: Section): string {
  const heading = path === '' ? '## The file' : `## \`${path}\``;
  const rows = Object.entries(node.properties ?? {}).map(([name, child]) => {
    const required = node.required?.includes(name)
      ? 'yes'
      : child.default !== undefined
        ? `no (default \`${JSON.stringify(child.default)}\`)`
        : 'no';
    const pattern = child.pattern ?? child.items?.pattern;
    const description = [child.description ?? '', pattern ? `Pattern: \`${pattern}\`.` : '']
      .filter((part) => part !== '')
      .join(' ');
    return `| \`${name}\` | ${cell(typeOf(child))} | ${required} | ${cell(description)} |`;
  });
  return [
    heading,
    '',
    node.description ?? '',
    '',
    '| field | type | required | what it is |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** docs/configuration.md as the committed file holds it. */
export function referenceFileText(): string {
  const schema = deployConfigJsonSchema() as JsonSchemaNode;
  const environments = schema.properties?.environments;
  const namePattern = environments?.propertyNames?.pattern ?? '';
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from the zod schema in lambdas/domain/deploy-config.ts by `npm run config:reference`; ' +
      'test/unit/config/reference.test.ts keeps it equal. Do not edit by hand. -->',
    '',
    '`deploy.config.json` at the root of the repository (or any file given with `--config <path>` to the CLI ' +
      'and `-c config=<path>` to `cdk synth` / `cdk deploy`) says where and how the orchestrator deploys. The ' +
      'stack is built from it, every function carries it (bundled at synth time), the CLI checks requests ' +
      'against it and the rehearsal builds its simulated account from it. Editors validate it with ' +
      '`deploy.config.schema.json` (its `$schema` points there). `afu9-deploy init` writes a starter file.',
    '',
    `Environment names are keys of \`environments\` and must match \`${namePattern}\`. An invalid file is ` +
      'refused with one line per problem, naming its path and what is expected, for example ' +
      '`environments.staging.smoke.baseUrl: expected an https URL (without credentials, query or fragment), received "ftp://x"`.',
    '',
    ...sectionsOf('', schema)
      .map(sectionText)
      .flatMap((section) => [section, '']),
  ].join('\n');
}

if (require.main === module) {
  writeFileSync(schemaFilePath, schemaFileText());
  writeFileSync(referenceFilePath, referenceFileText());
  process.stdout.write(`Wrote ${schemaFilePath} and ${referenceFilePath}\n`);
}
