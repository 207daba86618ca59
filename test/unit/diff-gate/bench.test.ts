import { benchmarkDiffGate, buildLargeDiff } from '../../../bench/diff-gate';
import { judgeDiffText } from '../../../lambdas/domain/cdk-diff';

describe('diff gate benchmark', () => {
  it('builds a real-shaped diff of thousands of resources that the gate reads completely', () => {
    const { text, resources, stacks } = buildLargeDiff();

    const judgement = judgeDiffText(text);

    expect(Buffer.byteLength(text)).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    expect(resources).toBeGreaterThan(5000);
    expect(judgement.stacks).toHaveLength(stacks);
    expect(judgement.blocking.length + judgement.warnings.length + judgement.safe.length).toBe(resources);
  });

  it('reports the size judged and the time taken', () => {
    const result = benchmarkDiffGate();

    expect(Object.keys(result).sort()).toEqual(['bytes', 'ms']);
    expect(result.bytes).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    expect(result.ms).toBeGreaterThanOrEqual(0);
  });
});
