/**
 * Reads the text `cdk diff` (CDK CLI 2.x) prints into a model, in one pass over the lines.
 *
 * What the CLI prints, and what this relies on:
 * - before the diff: synth annotations, SDK and CLI notices, `Could not access stack ...` lines;
 * - per stack: `Stack <Name>[ (aws://account/region)]`, then either `There were no differences` or
 *   section headings (`IAM Statement Changes`, `Security Group Changes` box tables, `Parameters`,
 *   `Resources`, `Outputs`, ...) with their lines;
 * - resource lines start in column 0: `[+|~|-|←] <Type> [<path> ]<LogicalId>[ <impact>]`; every
 *   detail under them (property lines, JSON hunks with their own `[+]`/`[-]`) is indented;
 * - the run ends with `✨  Number of stacks with differences: N`.
 * Anything that does not fit (no stack, no closing line, a stack with nothing under its header, a
 * Resources heading with no resource, a property line under no resource, a resource line outside
 * any stack, a count that disagrees with the stacks) makes the result `ok: false`: the gate fails
 * closed.
 */
import type { ChangeKind, ParsedDiff, PropertyChange, ResourceChange, StackDiff } from './model';

// CSI sequences (colours, cursor moves) and OSC sequences (hyperlinks) a terminal-aware CLI emits.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
const STACK_HEADER = /^Stack (\S+)(?: \(([^)]*)\))?\s*$/;
const NO_DIFFERENCES = /^There were no differences/;
const SECURITY_ONLY = /^There were no security-related changes/;
const SUMMARY = /Number of stacks with differences: (\d+)/;
/** A column-0 entry whose first word is a resource type: a resource wherever it appears. */
const TYPED_RESOURCE_LINE = /^\[([+~\-←?])\] ([A-Za-z0-9_@-]+(?:::[A-Za-z0-9_@-]+)+) (.+)$/;
/** Any column-0 entry: under the `Resources` heading it is a resource even if its type is odd or missing. */
const ENTRY_LINE = /^\[([+~\-←?])\] (.+)$/;
const UNKNOWN_TYPE = '(unknown type)';
const PROPERTY_LINE = /^ [├└]─ \[([+~-])\] (.+?)(?: \((requires replacement|may cause replacement)\))?\s*$/;
const MOVE_SUFFIX = / \(OR move .*\)$/;
const IMPACT_SUFFIX = / (may be replaced|replace|destroy|orphan|import)$/;
const SECTION_HEADINGS = new Set([
  'Template',
  'IAM Statement Changes',
  'IAM Policy Changes',
  'Security Group Changes',
  'Parameters',
  'Metadata',
  'Mappings',
  'Conditions',
  'Resources',
  'Outputs',
  'Other Changes',
]);
/** Lines that name why a run failed, used to say what went wrong when there is no diff. */
const FAILURE_HINT =
  /(Subprocess exited with error|^Error\b|\bError:|Unable to resolve AWS account|is not authorized|Cannot find module|Need to perform AWS calls|ExpiredToken|Could not|failed)/;

export function stripAnsi(text: string): string {
  return text.includes('\x1b') ? text.replace(ANSI, '') : text;
}

function changeOf(marker: string, impact: string, properties: readonly PropertyChange[]): ChangeKind {
  // The marker is checked last for additions: CDK prints no trailing word and no property lines
  // under an addition, so a `[+]` next to either is a mangled line, judged by its worse reading.
  if (marker === '-' || impact === 'destroy' || impact === 'orphan') return 'destroy';
  // `[?]`: CDK could not tell what happens to the resource; assume the worst short of deletion.
  if (marker === '?') return 'replace';
  // The property lines are checked too: if CDK ever stops printing the trailing word, a
  // `(requires replacement)` under the resource still makes it a replacement.
  if (impact === 'replace' || properties.some((p) => p.replacement === 'requires')) return 'replace';
  if (impact === 'may be replaced' || properties.some((p) => p.replacement === 'may')) return 'may-replace';
  if (marker === '+' || marker === '←') return 'add';
  return 'modify';
}

interface OpenResource {
  readonly marker: string;
  readonly resourceType: string;
  readonly path: string;
  readonly logicalId: string;
  readonly impact: string;
  readonly properties: PropertyChange[];
}

function openResource(marker: string, resourceType: string, rest: string): OpenResource {
  let words = rest.replace(MOVE_SUFFIX, '').trimEnd();
  let impact = '';
  const impactMatch = IMPACT_SUFFIX.exec(words);
  // A bare logical id that happens to be an impact word stays the logical id.
  if (impactMatch && impactMatch.index > 0) {
    impact = impactMatch[1];
    words = words.slice(0, impactMatch.index);
  }
  const lastSpace = words.lastIndexOf(' ');
  return {
    marker,
    resourceType,
    path: lastSpace < 0 ? '' : words.slice(0, lastSpace),
    logicalId: lastSpace < 0 ? words : words.slice(lastSpace + 1),
    impact,
    properties: [],
  };
}

/** A resource line whose type does not look like one: keep an odd `X::Y` word as the type. */
function openUntyped(marker: string, rest: string): OpenResource {
  const space = rest.indexOf(' ');
  const first = space < 0 ? rest : rest.slice(0, space);
  if (first.includes('::') && space > 0) return openResource(marker, first, rest.slice(space + 1));
  return openResource(marker, UNKNOWN_TYPE, rest);
}

function closeResource(open: OpenResource): ResourceChange {
  return {
    resourceType: open.resourceType,
    path: open.path,
    logicalId: open.logicalId,
    change: changeOf(open.marker, open.impact, open.properties),
    impact: open.impact,
    properties: open.properties,
  };
}

function quote(line: string): string {
  return JSON.stringify(line.length > 160 ? `${line.slice(0, 160)}…` : line);
}

function describeMissingDiff(failureLine: string | undefined, firstLine: string | undefined): string {
  if (firstLine === undefined) {
    return (
      'The diff text is empty. The `cdk diff` run wrote nothing: check that it ran (CodeBuild log) and that ' +
      'its stderr was captured too (CDK prints the diff on stderr).'
    );
  }
  const seen = failureLine ? `it says ${quote(failureLine)}` : `it starts with ${quote(firstLine)}`;
  return (
    `No \`cdk diff\` output found: the text has no \`Stack <Name>\` section and no closing ` +
    `\`Number of stacks with differences\` line (${seen}). Fix the synth or CLI failure and run \`cdk diff\` again.`
  );
}

/** Parses one `cdk diff` text. Never throws on any input; incomplete text gives `ok: false`. */
export function parseCdkDiff(text: string): ParsedDiff {
  const lines = text.includes('\r') ? text.split(/\r\n|\n|\r/) : text.split('\n');
  const stacks: StackDiff[] = [];
  /** Stacks printed since the last closing line: they must be accounted for by the next one. */
  let runStacks: StackDiff[] = [];
  let stack: StackDiff | undefined;
  let resource: OpenResource | undefined;
  /** The heading the current stack's lines are under. */
  let section = '';
  let summaries = 0;
  let firstLine: string | undefined;
  let failureLine: string | undefined;
  let strayResourceLine: string | undefined;
  let problem: string | undefined;

  const closeOpenResource = () => {
    if (resource && stack) stack.resources.push(closeResource(resource));
    resource = undefined;
  };

  for (const rawLine of lines) {
    const line = stripAnsi(rawLine);
    // Fast path for the bulk of a large diff: deeper detail lines (values, JSON hunks) of a resource.
    if (resource && line.startsWith('  ')) continue;
    if (firstLine === undefined && line.trim() !== '') firstLine = line.trim();

    const header = STACK_HEADER.exec(line);
    if (header) {
      closeOpenResource();
      stack = {
        name: header[1],
        environment: header[2],
        noDifferences: false,
        resources: [],
        sections: new Set(),
      };
      section = '';
      stacks.push(stack);
      runStacks.push(stack);
      continue;
    }

    const summary = line[0] === ' ' ? null : SUMMARY.exec(line);
    if (summary) {
      closeOpenResource();
      summaries += 1;
      problem ??= checkRun(runStacks, Number(summary[1]));
      runStacks = [];
      stack = undefined;
      continue;
    }

    if (!stack) {
      if (failureLine === undefined && FAILURE_HINT.test(line)) failureLine = line.trim();
      // CDK prints resource lines only under a stack header: one before it or after a closing line
      // was moved there, and the stack it belongs to may look harmless without it.
      if (strayResourceLine === undefined && TYPED_RESOURCE_LINE.test(line)) strayResourceLine = line;
      continue;
    }

    const typed = TYPED_RESOURCE_LINE.exec(line);
    const entry = typed ?? (section === 'Resources' ? ENTRY_LINE.exec(line) : null);
    if (entry) {
      closeOpenResource();
      resource = typed ? openResource(typed[1], typed[2], typed[3]) : openUntyped(entry[1], entry[2]);
      stack.sections.add('Resources');
      continue;
    }
    if (resource) {
      const property = PROPERTY_LINE.exec(line);
      if (property) {
        resource.properties.push({
          name: property[2],
          marker: property[1] as PropertyChange['marker'],
          replacement:
            property[3] === 'requires replacement'
              ? 'requires'
              : property[3] === 'may cause replacement'
                ? 'may'
                : 'none',
        });
        continue;
      }
      // Indented lines, JSON hunks and blank lines are details of the open resource.
      if (line === '' || line[0] === ' ') continue;
    } else if (PROPERTY_LINE.test(line)) {
      // Its resource line is gone or mangled: what it says (a replacement, maybe) belongs to nothing.
      problem ??=
        `Stack ${stack.name} has a property change with no resource line above it (${quote(line)}): the ` +
        'output was cut or mangled. Run `cdk diff` again and keep its whole output.';
      continue;
    }
    closeOpenResource();
    const trimmed = line.trim();
    if (NO_DIFFERENCES.test(trimmed)) stack.noDifferences = true;
    else if (SECURITY_ONLY.test(trimmed)) {
      problem ??=
        `Stack ${stack.name} was diffed with --security-only: that output lists only security changes, not ` +
        'every resource change. Run `cdk diff` without --security-only.';
    } else if (SECTION_HEADINGS.has(trimmed)) {
      section = trimmed;
      stack.sections.add(trimmed);
    }
  }
  closeOpenResource();

  if (stacks.length === 0) {
    return { ok: false, stacks, problem: problem ?? describeMissingDiff(failureLine, firstLine) };
  }
  if (strayResourceLine !== undefined) {
    problem ??=
      `A resource line stands outside any stack (${quote(strayResourceLine)}): the output was cut or mixed ` +
      'with other text. Run `cdk diff` again and keep its whole output.';
  }
  if (runStacks.length > 0 || summaries === 0) {
    const last = runStacks[runStacks.length - 1] ?? stacks[stacks.length - 1];
    return {
      ok: false,
      stacks,
      problem:
        problem ??
        `The diff is incomplete: it stops in stack ${last.name} without the closing ` +
          '`Number of stacks with differences` line (the run was cut off or failed part-way). Run `cdk diff` again ' +
          'and make sure the whole output, stdout and stderr, is kept.',
    };
  }
  return problem ? { ok: false, stacks, problem } : { ok: true, stacks };
}

/** Checks the stacks of one run against its closing line. */
function checkRun(runStacks: readonly StackDiff[], announced: number): string | undefined {
  if (runStacks.length === 0) {
    return (
      'The diff names no stack: `cdk diff` printed only its closing line (was it run with --quiet, or on an ' +
      'app with no stacks?). Run `cdk diff <Stack>` without --quiet so every stack is listed.'
    );
  }
  for (const stack of runStacks) {
    const hasBody = stack.noDifferences || stack.sections.size > 0 || stack.resources.length > 0;
    if (!hasBody) {
      return (
        `Stack ${stack.name} has a header but nothing under it: the output was cut or mangled. ` +
        'Run `cdk diff` again and keep its whole output.'
      );
    }
    if (stack.sections.has('Resources') && stack.resources.length === 0) {
      // CDK prints a heading only above at least one entry.
      return (
        `Stack ${stack.name} has a Resources heading with no resource under it: the output was cut or ` +
        'mangled. Run `cdk diff` again and keep its whole output.'
      );
    }
    const tablesOnly =
      !stack.noDifferences && stack.resources.length === 0 && !stack.sections.has('Resources');
    const hasTables =
      stack.sections.has('IAM Statement Changes') || stack.sections.has('Security Group Changes');
    if (tablesOnly && hasTables) {
      return (
        `Stack ${stack.name} shows security tables but no Resources section: the output is partial. ` +
        'Run `cdk diff` without --security-only and keep its whole output.'
      );
    }
  }
  const withDifferences = runStacks.filter((s) => !s.noDifferences).length;
  if (withDifferences !== announced) {
    return (
      `The diff says ${announced} stack(s) have differences but shows ${withDifferences} ` +
      `(${runStacks.map((s) => s.name).join(', ')}): the output was cut or mixed with other text. ` +
      'Run `cdk diff` again and keep its whole output.'
    );
  }
  return undefined;
}
