/**
 * State data stays small: Step Functions refuses a state input or output over 256 KB, so every
 * state of every scenario, huge diffs included, must stay far below it (the slots are selected and
 * the finding lists capped).
 */
import { runSimulation } from '../../../sandbox/runner';
import { scenarios } from '../../../sandbox/scenarios';

const STEP_FUNCTIONS_LIMIT_BYTES = 256 * 1024;
/** A margin that leaves room for requests with many images and long failure reasons. */
const BUDGET_BYTES = STEP_FUNCTIONS_LIMIT_BYTES / 8;

describe('state payload size', () => {
  it.each(scenarios.map((scenario) => [scenario.name, scenario] as const))(
    '%s: every state input and output stays under 32 KB',
    async (_name, scenario) => {
      // Act
      const run = await runSimulation({ scenario });

      // Assess
      const sizes = run.executions.flatMap((execution) =>
        execution.states.flatMap((state) => [
          { where: `${state.name} input`, bytes: Buffer.byteLength(JSON.stringify(state.input ?? null)) },
          { where: `${state.name} output`, bytes: Buffer.byteLength(JSON.stringify(state.output ?? null)) },
        ]),
      );
      const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
      expect({ largest: largest.where, underBudget: largest.bytes < BUDGET_BYTES }).toEqual({
        largest: largest.where,
        underBudget: true,
      });
    },
  );
});
