// CEL conditions of the trust policy: what compiles, what a condition costs,
// and that the metering rewrite keeps CEL's meaning (the cel-spec
// conformance cases give the library's own results).
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { getConformanceSuite, type IncrementalTestSuite } from '@bufbuild/cel-spec/testdata/tests.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CEL_COST_LIMIT, compileCondition, compileExpression, formatCelValue } from '../dist/policy/cel.js';
import { ConditionSyntaxError } from '../dist/policy/re2.js';

const vars = (predicate: unknown) => ({
  predicate,
  predicateType: 'https://example.com/t',
  signer: { method: 'key' },
  model: { kind: 'path' },
});
const evaluate = (source: string, predicate: unknown, limit?: number) => compileCondition(source).evaluate(vars(predicate), limit);
const refusal = (source: string): string => {
  try {
    compileCondition(source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConditionSyntaxError);
    return (err as Error).message;
  }
  throw new Error(`'${source}' compiled`);
};

const card = (accuracy: unknown) => ({
  metrics: [
    { type: 'f1', value: 0.5 },
    { type: 'accuracy', value: accuracy },
  ],
});
const THRESHOLD = 'predicate.metrics.exists(m, m.type == "accuracy" && double(m.value) >= 0.9)';

describe('CEL conditions: meaning', () => {
  it('evaluates a threshold over a metric given as a number or as text (CycloneDX writes text)', () => {
    expect(evaluate(THRESHOLD, card(0.93)).result).toBe(true);
    expect(evaluate(THRESHOLD, card('0.93')).result).toBe(true);
    expect(evaluate(THRESHOLD, card('0.85')).result).toBe(false);
    // JSON numbers are CEL doubles; comparisons with int literals work across the two.
    expect(evaluate('predicate.count >= 3 && predicate.count == 3', { count: 3 }).result).toBe(true);
  });

  it('says which values a false condition saw, shortened', () => {
    const outcome = evaluate(THRESHOLD, card('0.85'));
    expect(outcome).toMatchObject({ result: false });
    expect(outcome.result === false && outcome.seen).toEqual([
      { expression: 'predicate.metrics', value: '[{"type": "f1", "value": 0.5}, {"type": "accuracy", "value": "0.85"}]' },
    ]);
    const long = evaluate('predicate.text == "x"', { text: 'y'.repeat(10_000) });
    expect(long.result === false && long.seen[0].value.length).toBeLessThanOrEqual(161);
  });

  it('turns a runtime error or a non-boolean result into an error outcome, never a pass', () => {
    expect(evaluate('predicate.missing > 1', {})).toMatchObject({ result: 'error', message: expect.stringMatching(/missing/) });
    expect(evaluate('1 / 0 == 1', {})).toMatchObject({ result: 'error', message: 'int divide by zero', limitExceeded: false });
    expect(evaluate('predicate.metrics', card(1))).toMatchObject({ result: 'error', message: 'the condition gave list, not bool' });
    expect(evaluate('int("not a number") > 0', {})).toMatchObject({ result: 'error' });
  });

  it('refuses what does not compile: syntax, unknown variables and functions, message construction, optional syntax', () => {
    expect(refusal('predicate.x >')).toMatch(/does not parse: <input>:1:\d+/);
    expect(refusal('x > 1')).toMatch(/unknown variable 'x' \(a condition sees predicate, predicateType, signer, model\)/);
    expect(refusal('predicate.name.upperAscii() == "X"')).toMatch(/unknown function 'upperAscii'/);
    expect(refusal('google.protobuf.Value{} == null')).toMatch(/message construction/);
    expect(refusal('predicate.?x == 1')).toBeTruthy();
    expect(refusal('x'.repeat(5000))).toMatch(/at most 4096/);
  });

  it('runs matches() with RE2: a pattern RE2 cannot run is refused, a catastrophic one runs in linear time', () => {
    expect(refusal('predicate.s.matches("(a)\\\\1")')).toMatch(/RE2 cannot run the regular expression/);
    expect(refusal('predicate.s.matches("(?=a)")')).toMatch(/RE2 cannot run/);
    expect(refusal('predicate.s.matches(predicate.pattern)')).toMatch(/string literal/);
    // (a+)+$ backtracks exponentially in a JavaScript RegExp; RE2 reads the input once.
    const outcome = evaluate('predicate.s.matches("^(a+)+$")', { s: `${'a'.repeat(100_000)}b` });
    expect(outcome.result).toBe(false);
  });
});

describe('CEL conditions: the cost limit', () => {
  const list = (n: number) => ({ l: Array.from({ length: n }, (_, i) => i) });

  it('stops nested loops at the limit, deterministically, and the outcome is an error', () => {
    const a = evaluate('predicate.l.all(a, predicate.l.all(b, predicate.l.all(c, true)))', list(1000));
    const b = evaluate('predicate.l.all(a, predicate.l.all(b, predicate.l.all(c, true)))', list(1000));
    expect(a).toMatchObject({ result: 'error', limitExceeded: true, cost: DEFAULT_CEL_COST_LIMIT });
    expect(a.result === 'error' && a.message).toBe(`the condition ran past its cost limit (${DEFAULT_CEL_COST_LIMIT} units)`);
    expect(b).toMatchObject({ result: 'error', limitExceeded: true });
  });

  it('does not let || or && absorb the limit error into a pass', () => {
    expect(evaluate('predicate.l.all(a, predicate.l.all(b, true)) || true', list(2000))).toMatchObject({ limitExceeded: true });
    expect(evaluate('true || predicate.l.all(a, predicate.l.all(b, true))', list(2000))).toMatchObject({ result: true });
  });

  it('charges values that double at every step (deep equality of shared lists, string concatenation)', () => {
    const doubling = Array.from({ length: 30 }, (_, i) => `.map(x${i}, [x${i}, x${i}])`).join('');
    expect(evaluate(`[[1]]${doubling}.map(z, z == z).size() > 0`, {})).toMatchObject({ limitExceeded: true });
    const strings = Array.from({ length: 40 }, () => '.map(s, s + s)').join('');
    expect(evaluate(`["x"]${strings}[0].size() > 0`, {})).toMatchObject({ limitExceeded: true });
  });

  it('charges contains() and matches() by length × length', () => {
    const big = { s: 'a'.repeat(200_000), t: `${'a'.repeat(50)}b` };
    expect(evaluate('predicate.s.contains(predicate.t)', big)).toMatchObject({ limitExceeded: true });
    expect(evaluate('predicate.s.contains(predicate.t)', big, 20_000_000)).toMatchObject({ result: false });
  });

  it('charges the quadratic map() accumulator, so a small limit stops a long map', () => {
    const small = evaluate('predicate.l.map(x, x).size() == 100', list(100));
    expect(small).toMatchObject({ result: true });
    expect(small.cost).toBeGreaterThan((100 * 100) / 2);
    expect(evaluate('predicate.l.map(x, x).size() == 100', list(100), 1000)).toMatchObject({ limitExceeded: true });
  });

  it('costs little for the conditions policies use', () => {
    expect(evaluate(THRESHOLD, card('0.93')).cost).toBeLessThan(200);
  });

  it('refuses a predicate nested deeper than it reads', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(evaluate('size(predicate) == 1', deep)).toMatchObject({ result: 'error', message: expect.stringMatching(/nests deeper/) });
  });
});

describe('CEL conditions: the metering rewrite keeps CEL meaning', () => {
  it('gives the library’s own result on every cel-spec conformance case it compiles', () => {
    const tests: { expr: string }[] = [];
    const walk = (suite: IncrementalTestSuite) => {
      for (const t of suite.tests) {
        const o = t.original;
        if (Object.keys(o.bindings).length === 0 && o.container === '' && o.typeEnv.length === 0) tests.push({ expr: o.expr });
      }
      suite.suites.forEach(walk);
    };
    walk(getConformanceSuite());
    const env = celEnv();
    const show = (v: Parameters<typeof formatCelValue>[0] | ReturnType<ReturnType<typeof plan>>) =>
      isCelError(v) ? 'error' : formatCelValue(v, 1_000_000);
    let same = 0;
    const refusedFor = new Map<string, number>();
    for (const { expr } of tests) {
      let expected: string;
      try {
        expected = show(plan(env, parse(expr))());
      } catch {
        continue; // does not parse: nothing to compare
      }
      try {
        const got = compileExpression(expr, []).run({}, 1_000_000);
        expect(show(got.value), expr).toBe(expected);
        same++;
      } catch (err) {
        if (!(err instanceof ConditionSyntaxError)) throw err;
        // Refused at compile time: only for the documented reasons (the library would only fail at run time, or construct messages).
        const reason = /unknown (function|variable)|message construction|optional field syntax|RE2/.exec(err.message)?.[0];
        expect(reason, `${expr}: ${err.message}`).toBeDefined();
        refusedFor.set(reason!, (refusedFor.get(reason!) ?? 0) + 1);
      }
    }
    expect(same).toBeGreaterThan(1000);
  });
});
