/**
 * The one loader of `deployment.asl.json`, shared by the CDK stack (file path and placeholder
 * names), the state machine tests and the sandbox (the substituted definition), so all three run
 * the same file the same way.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

/** Absolute path of the ASL file, for `DefinitionBody.fromFile`. */
export const definitionPath: string = join(__dirname, 'deployment.asl.json');

const definitionText: string = readFileSync(definitionPath, 'utf8');

/** The `${Name}` syntax CloudFormation's DefinitionSubstitutions fills. */
const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** Every placeholder name the ASL file uses, sorted, each once (read from the file). */
export const placeholders: readonly string[] = [
  ...new Set(Array.from(definitionText.matchAll(PLACEHOLDER), (match) => match[1] as string)),
].sort();

/** Placeholder name → value, e.g. `{ NotifyFunctionArn: 'arn:aws:lambda:...' }`. */
export type DefinitionSubstitutions = Readonly<Record<string, string>>;

/** The substitutions do not fit the ASL file; the message says which names and how to fix them. */
export class DefinitionSubstitutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DefinitionSubstitutionError';
  }
}

/**
 * The definition with every `${Name}` replaced by its value, as plain text replacement in the JSON
 * (what CloudFormation does with the stack's `definitionSubstitutions`), then parsed.
 */
export function substitute(values: DefinitionSubstitutions): StateMachineDefinition {
  const given = Object.keys(values);
  const missing = placeholders.filter((name) => !given.includes(name));
  const unknown = given.filter((name) => !placeholders.includes(name));
  if (missing.length > 0 || unknown.length > 0) {
    throw new DefinitionSubstitutionError(
      'The substitutions do not match the placeholders of statemachine/deployment.asl.json. ' +
        (missing.length > 0 ? `Missing a value for: ${missing.join(', ')}. ` : '') +
        (unknown.length > 0 ? `No placeholder named: ${unknown.join(', ')}. ` : '') +
        `Give exactly one value for each of: ${placeholders.join(', ')}.`,
    );
  }
  // Safe inside a JSON string exactly when JSON would not need to escape anything in it.
  const unsafe = given.filter((name) => JSON.stringify(values[name]) !== `"${values[name]}"`);
  if (unsafe.length > 0) {
    throw new DefinitionSubstitutionError(
      `The values of ${unsafe.join(', ')} contain quotes, backslashes or control characters, which ` +
        'would break the JSON they are placed in. Pass plain names and ARNs.',
    );
  }
  const text = definitionText.replace(PLACEHOLDER, (_placeholder, name: string) => values[name] as string);
  return JSON.parse(text) as StateMachineDefinition;
}

/**
 * The substituted definition as aws-local-stepfunctions (the tests and the sandbox) must run it.
 * That interpreter resolves `TimeoutSecondsPath` against the state's Parameters output, whereas AWS
 * resolves it against the state input (the AWS documentation's Glue example reads a field that its
 * Parameters do not contain), so locally the path would point at nothing and fail the execution.
 * Locally a callback wait's timeout (the event waits', the approval's) belongs to the local handler (a test throws `States.Timeout`,
 * the sandbox decides by its virtual clock), so the path is dropped; nothing else differs.
 */
export function substituteForLocalRun(values: DefinitionSubstitutions): StateMachineDefinition {
  const definition = substitute(values);
  for (const state of Object.values(definition.States)) {
    if (state.Type === 'Task') delete state.TimeoutSecondsPath;
  }
  return definition;
}
