// Runtime-neutral (no `node:*`). Conditions over claims in CEL, through
// @bufbuild/cel (tested against the cel-spec conformance suite), with a cost
// bound the library itself does not have.
//
// @bufbuild/cel has no cost or step limit: a single expression such as
// `l.all(a, l.all(b, l.all(c, true)))` or one that doubles a value at each
// nested `map` runs as long as it likes, synchronously, and no timer checked
// between evaluations can stop it. So the parsed expression is rewritten
// before it is planned, and the rewritten program pays for its work as it goes:
//
// - every call of a standard function goes through a wrapper that charges
//   the function's cost from its actual arguments before calling it
//   (1 + the sizes of its arguments; deep sizes for equality, ordering and
//   `in`; length × length for `contains` and `matches`);
// - every comprehension (`all`, `exists`, `exists_one`, `map`, `filter`)
//   charges the size of its range before it copies it, and on every
//   iteration the number of nodes its loop body evaluates;
// - every index into a map charges the map's size (a miss with an integer
//   key walks every key);
// - the nodes outside every loop body are charged once, up front.
//
// Every node runs at most once per iteration of its innermost loop (or once),
// each at constant cost apart from the calls, which pay for themselves, so
// the units charged bound the work done. Past the limit each charge throws,
// the evaluation unwinds within a constant number of nodes, and the outcome
// is an error whatever value the expression would have had (`x || true` does
// not rescue it). Lists from calls are flattened, so none hides a chain of
// lazy concatenations whose iteration would cost more than its size.
import {
  type CelEnv,
  type CelInput,
  type CelResult,
  type CelValue,
  CelScalar,
  celEnv,
  celError,
  celFunc,
  celList,
  celMap,
  isCelError,
  isCelList,
  isCelMap,
  isCelUint,
  parse,
  plan,
  unparse,
} from '@bufbuild/cel';
import type { Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import type { RE2JS } from 're2js';
import { ConditionSyntaxError, compileRe2 } from './re2.js';

/** Units one condition may spend: the per-expression limit Kubernetes sets for CEL admission rules. */
export const DEFAULT_CEL_COST_LIMIT = 1_000_000;
/** The longest condition accepted, in characters. */
export const MAX_CONDITION_LENGTH = 4096;
/** The deepest JSON nesting of a predicate handed to a condition. */
const MAX_INPUT_DEPTH = 256;

/** The variables a condition sees. */
export const CONDITION_VARIABLES = ['predicate', 'predicateType', 'signer', 'model'] as const;

/** A value a condition saw, for explanations: the expression and its value, shortened. */
export interface SeenValue {
  expression: string;
  value: string;
}

/** The outcome of one evaluation. */
export type ConditionOutcome =
  | { result: true; cost: number }
  | { result: false; cost: number; seen: SeenValue[] }
  | { result: 'error'; cost: number; message: string; limitExceeded: boolean; seen: SeenValue[] };

/** A condition compiled once and evaluated per claim. */
export interface CompiledCondition {
  readonly source: string;
  /**
   * Evaluates the condition over `variables` (JSON values) within `costLimit`
   * units. Never throws: an error, a non-boolean result and a spent budget are
   * outcomes.
   */
  evaluate(variables: Readonly<Record<(typeof CONDITION_VARIABLES)[number], unknown>>, costLimit?: number): ConditionOutcome;
}

// Calls the planner treats as syntax (short-circuit, conditional, index), not as functions.
// Type names an expression may use as values (`type(x) == int`).
const TYPE_NAMES = new Set(['bool', 'bytes', 'double', 'int', 'uint', 'string', 'list', 'map', 'null_type', 'type']);
const LOGICAL = new Set(['_&&_', '_||_', '_?_:_', '@not_strictly_false', '__not_strictly_false__']);
const INDEX = '_[_]';
const OPTIONAL = new Set(['_[?_]', '_?._']);
// Calls whose cost depends on the whole of their arguments, not only their length.
const DEEP = new Set(['_==_', '_!=_', '@in', '_in_', '_<_', '_<=_', '_>_', '_>=_']);
const PRODUCT = new Set(['contains', 'matches']);
/** What a time-zone argument costs on top (the runtime's Intl date formatting). */
const TIME_ZONE_COST = 1000;

class CostLimitError extends Error {
  constructor(readonly limit: number) {
    super(`the condition ran past its cost limit (${limit} units)`);
  }
}

/** The running evaluation's budget. Evaluation is synchronous, so one is active at a time. */
class Meter {
  used = 0;
  exceeded = false;
  constructor(readonly limit: number) {}

  charge(units: number): void {
    this.used += units;
    if (this.used > this.limit) {
      this.exceeded = true;
      throw new CostLimitError(this.limit);
    }
  }

  /** The units left: what measuring a value may cost before it already is too much. */
  get left(): number {
    return Math.max(0, this.limit - this.used);
  }
}

let active: Meter | undefined;
const meter = (): Meter => {
  if (active === undefined) throw new Error('a metered CEL function ran outside an evaluation');
  return active;
};

/** Length of a string or bytes, entries of a list or map, else 1. */
function shallowSize(value: CelValue): number {
  if (typeof value === 'string') return value.length;
  if (value instanceof Uint8Array) return value.length;
  if (isCelList(value) || isCelMap(value)) return value.size;
  return 1;
}

/**
 * Nodes plus characters and bytes of a value, counted up to `cap` (shared
 * parts once per use, as comparing them costs): the counting stops as soon as
 * it passes `cap`, so measuring costs no more than the budget left.
 */
function deepSize(value: CelValue, cap: number): number {
  let size = 0;
  const stack: CelValue[] = [value];
  while (stack.length > 0 && size <= cap) {
    const v = stack.pop()!;
    size += 1;
    if (typeof v === 'string' || v instanceof Uint8Array) size += v.length;
    else if (isCelList(v)) for (const e of v) stack.push(e);
    else if (isCelMap(v))
      for (const [k, e] of v) {
        stack.push(e);
        size += typeof k === 'string' ? k.length + 1 : 1;
      }
  }
  return size;
}

/** What a call of the standard function `name` costs with these arguments (the target first). */
function callCost(name: string, args: readonly CelValue[], left: number): number {
  if (DEEP.has(name)) return 1 + args.reduce<number>((sum, a) => sum + deepSize(a, left), 0);
  const sizes = args.map(shallowSize);
  const linear = 1 + sizes.reduce((sum, s) => sum + s, 0);
  if (PRODUCT.has(name) && sizes.length === 2) return linear + sizes[0] * sizes[1];
  if (name.startsWith('get') && args.length === 2 && typeof args[1] === 'string') return linear + TIME_ZONE_COST;
  return linear;
}

/** Lists from calls, materialized: a concatenation chain would otherwise cost its depth at every element read. */
function flatten(value: CelValue): CelValue {
  return isCelList(value) ? celList([...value]) : value;
}

/** A JSON value as CEL values built once, so reading a field costs the same however often it is read. */
export function toCelValue(value: unknown, depth = 0): CelValue {
  if (depth > MAX_INPUT_DEPTH) throw new Error(`the value nests deeper than ${MAX_INPUT_DEPTH} levels`);
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (Array.isArray(value)) return celList(value.map((v) => toCelValue(v, depth + 1)));
  if (typeof value === 'object') {
    return celMap(new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toCelValue(v, depth + 1)])));
  }
  // undefined (an absent optional field) reads as null
  return null;
}

// ---- compiling ----------------------------------------------------------------------------

let standard: CelEnv | undefined;
/** The standard environment, whose functions the wrappers call. */
const standardEnv = (): CelEnv => (standard ??= celEnv());

type ExprKind = Expr['exprKind'];

function node(id: bigint, exprKind: ExprKind): Expr {
  return { $typeName: 'cel.expr.Expr', id, exprKind };
}

function callNode(id: bigint, fn: string, args: Expr[]): Expr {
  return node(id, { case: 'callExpr', value: { $typeName: 'cel.expr.Expr.Call', function: fn, args } as never });
}

function intConst(id: bigint, value: number): Expr {
  return node(id, {
    case: 'constExpr',
    value: { $typeName: 'cel.expr.Constant', constantKind: { case: 'int64Value', value: BigInt(value) } } as never,
  });
}

/** Every direct child of a node. */
function children(expr: Expr): Expr[] {
  const k = expr.exprKind;
  switch (k.case) {
    case 'selectExpr':
      return k.value.operand ? [k.value.operand] : [];
    case 'callExpr':
      return [...(k.value.target ? [k.value.target] : []), ...k.value.args];
    case 'listExpr':
      return k.value.elements;
    case 'structExpr':
      return k.value.entries.flatMap((e) => [...(e.keyKind.case === 'mapKey' ? [e.keyKind.value] : []), ...(e.value ? [e.value] : [])]);
    case 'comprehensionExpr': {
      const c = k.value;
      return [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result].filter((e): e is Expr => e !== undefined);
    }
    default:
      return [];
  }
}

/** Nodes of `expr` evaluated once per evaluation of `expr` itself: nested loop bodies left out (they pay per iteration). */
function nodesOnce(expr: Expr): number {
  let count = 0;
  const stack = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    count++;
    if (e.exprKind.case === 'comprehensionExpr') {
      const c = e.exprKind.value;
      for (const part of [c.iterRange, c.accuInit, c.result]) if (part) stack.push(part);
    } else stack.push(...children(e));
  }
  return count;
}

/** The checks a condition must pass before it runs, with the scope of comprehension variables. */
function check(expr: Expr, scope: ReadonlySet<string>, patterns: Map<string, RE2JS>): void {
  const k = expr.exprKind;
  switch (k.case) {
    case 'identExpr':
      if (!scope.has(k.value.name) && !TYPE_NAMES.has(k.value.name)) {
        throw new ConditionSyntaxError(`unknown variable '${k.value.name}' (a condition sees ${CONDITION_VARIABLES.join(', ')})`);
      }
      return;
    case 'callExpr': {
      const fn = k.value.function;
      if (OPTIONAL.has(fn)) throw new ConditionSyntaxError('optional field syntax (?. and [?]) is not supported');
      if (!LOGICAL.has(fn) && fn !== INDEX && standardEnv().funcs.find(fn) === undefined) {
        throw new ConditionSyntaxError(`unknown function '${fn}'`);
      }
      if (fn === 'matches') {
        // The pattern is the policy's, checked now by RE2: never one a claim supplies.
        const pattern = k.value.target ? k.value.args[0] : k.value.args[1];
        const constant = pattern?.exprKind.case === 'constExpr' ? pattern.exprKind.value.constantKind : undefined;
        if (constant?.case !== 'stringValue') throw new ConditionSyntaxError('matches() takes its regular expression as a string literal');
        patterns.set(constant.value, compileRe2(constant.value));
      }
      break;
    }
    case 'structExpr':
      if (k.value.messageName !== '') throw new ConditionSyntaxError(`message construction (${k.value.messageName}{…}) is not supported`);
      break;
    case 'comprehensionExpr': {
      const c = k.value;
      for (const part of [c.iterRange, c.accuInit]) if (part) check(part, scope, patterns);
      const inner = new Set([...scope, c.accuVar, c.iterVar, ...(c.iterVar2 ? [c.iterVar2] : [])]);
      for (const part of [c.loopCondition, c.loopStep]) if (part) check(part, inner, patterns);
      if (c.result) check(c.result, new Set([...scope, c.accuVar]), patterns);
      return;
    }
    default:
      break;
  }
  for (const child of children(expr)) check(child, scope, patterns);
}

/** Builds the metered program: the rewritten expression and the functions its wrappers call. */
class Instrumenter {
  private nextId: bigint;
  readonly funcs: ReturnType<typeof celFunc>[] = [];

  constructor(maxId: bigint) {
    this.nextId = maxId + 1n;
  }

  private fresh(): bigint {
    return this.nextId++;
  }

  /** A function of `arity` dynamic arguments under a name no expression can write. */
  private define(arity: number, impl: (...args: CelValue[]) => CelInput): string {
    const name = `@meter${this.funcs.length}`;
    const dyn = Array.from({ length: arity }, () => CelScalar.DYN);
    this.funcs.push(celFunc(name, dyn, CelScalar.DYN, impl as never));
    return name;
  }

  rewrite(expr: Expr): Expr {
    const k = expr.exprKind;
    switch (k.case) {
      case 'selectExpr':
        return node(expr.id, { case: 'selectExpr', value: { ...k.value, operand: k.value.operand && this.rewrite(k.value.operand) } });
      case 'listExpr':
        return node(expr.id, { case: 'listExpr', value: { ...k.value, elements: k.value.elements.map((e) => this.rewrite(e)) } });
      case 'structExpr':
        return node(expr.id, {
          case: 'structExpr',
          value: {
            ...k.value,
            entries: k.value.entries.map((e) => ({
              ...e,
              keyKind: e.keyKind.case === 'mapKey' ? { case: 'mapKey', value: this.rewrite(e.keyKind.value) } : e.keyKind,
              value: e.value && this.rewrite(e.value),
            })),
          },
        });
      case 'comprehensionExpr':
        return this.rewriteComprehension(expr.id, k.value);
      case 'callExpr':
        return this.rewriteCall(expr.id, k.value);
      default:
        return expr;
    }
  }

  private rewriteComprehension(id: bigint, c: Extract<ExprKind, { case: 'comprehensionExpr' }>['value']): Expr {
    const rewritten = {
      ...c,
      iterRange: c.iterRange && this.rewrite(c.iterRange),
      accuInit: c.accuInit && this.rewrite(c.accuInit),
      loopCondition: c.loopCondition && this.rewrite(c.loopCondition),
      loopStep: c.loopStep && this.rewrite(c.loopStep),
      result: c.result && this.rewrite(c.result),
    };
    // The range is copied before the first iteration: pay for its length.
    const range = this.define(1, (value) => {
      meter().charge(shallowSize(value));
      return value;
    });
    if (rewritten.iterRange) rewritten.iterRange = callNode(this.fresh(), range, [rewritten.iterRange]);
    if (rewritten.loopCondition) {
      // The condition runs first on every iteration: it pays for the body's nodes (its own wrapper included).
      const body = [rewritten.loopCondition, rewritten.loopStep].reduce((n, e) => n + (e ? nodesOnce(e) : 0), 0) + 2;
      const iteration = this.define(2, (units, value) => {
        meter().charge(Number(units));
        return value;
      });
      rewritten.loopCondition = callNode(this.fresh(), iteration, [intConst(this.fresh(), body), rewritten.loopCondition]);
    }
    return node(id, { case: 'comprehensionExpr', value: rewritten });
  }

  private rewriteCall(id: bigint, call: Extract<ExprKind, { case: 'callExpr' }>['value']): Expr {
    const target = call.target && this.rewrite(call.target);
    const args = call.args.map((a) => this.rewrite(a));
    if (LOGICAL.has(call.function)) {
      return node(id, { case: 'callExpr', value: { ...call, target, args } });
    }
    if (call.function === INDEX) {
      // A map index may walk every key (an integer key against string keys): pay the map's size.
      const index = this.define(1, (value) => {
        meter().charge(isCelMap(value) ? value.size + 1 : 1);
        return value;
      });
      return node(id, { case: 'callExpr', value: { ...call, args: [callNode(this.fresh(), index, [args[0]]), ...args.slice(1)] } });
    }
    const name = call.function;
    const group = standardEnv().funcs.find(name)!;
    const hasTarget = target !== undefined;
    const wrapper = this.define(args.length + (hasTarget ? 1 : 0), (...values) => {
      const m = meter();
      m.charge(callCost(name, values, m.left));
      const [self, rest] = hasTarget ? [values[0], values.slice(1)] : [undefined, values];
      const result = group.call(Number(id), self, rest);
      if (result === undefined) {
        const types = values.map((v) => typeOfValue(v)).join(', ');
        throw new Error(`found no matching overload for '${name}' applied to (${types})`);
      }
      if (isCelError(result)) throw result;
      return flatten(result);
    });
    return callNode(id, wrapper, hasTarget ? [target, ...args] : args);
  }
}

function typeOfValue(v: CelValue): string {
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return 'bytes';
  if (isCelList(v)) return 'list';
  if (isCelMap(v)) return 'map';
  if (isCelUint(v)) return 'uint';
  return 'object';
}

function maxId(expr: Expr): bigint {
  let max = 0n;
  const stack = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.id > max) max = e.id;
    stack.push(...children(e));
  }
  return max;
}

/** The attribute paths a condition reads from its variables (`predicate.a.b[0]`), outermost only, for explanations. */
function references(expr: Expr, variables: readonly string[]): Expr[] {
  const found: Expr[] = [];
  const isReference = (e: Expr): boolean => {
    const k = e.exprKind;
    if (k.case === 'identExpr') return variables.includes(k.value.name);
    if (k.case === 'selectExpr') return !k.value.testOnly && k.value.operand !== undefined && isReference(k.value.operand);
    if (k.case === 'callExpr' && k.value.function === INDEX) {
      return k.value.args.length === 2 && isReference(k.value.args[0]) && k.value.args[1].exprKind.case === 'constExpr';
    }
    return false;
  };
  const visit = (e: Expr, inLoop: boolean) => {
    if (!inLoop && isReference(e)) {
      found.push(e);
      return;
    }
    if (e.exprKind.case === 'comprehensionExpr') {
      const c = e.exprKind.value;
      if (c.iterRange) visit(c.iterRange, inLoop);
      for (const part of [c.accuInit, c.loopCondition, c.loopStep, c.result]) if (part) visit(part, true);
      return;
    }
    for (const child of children(e)) visit(child, inLoop);
  };
  visit(expr, false);
  return found;
}

/** How many values an explanation shows, and how long each may be. */
const SEEN_VALUES = 8;
const SEEN_LENGTH = 160;

/** A CEL value shown as JSON, stopped at `max` characters (the walk stops there too). */
export function formatCelValue(value: CelValue, max = SEEN_LENGTH): string {
  let out = '';
  const write = (s: string): boolean => {
    out += s;
    return out.length <= max;
  };
  const go = (v: CelValue): boolean => {
    if (typeof v === 'string') return write(JSON.stringify(v));
    if (typeof v === 'bigint') return write(v.toString());
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) return write(String(v));
    if (v instanceof Uint8Array) return write(`b"${v.length} bytes"`);
    if (isCelUint(v)) return write(`${v.value}u`);
    if (isCelList(v)) {
      if (!write('[')) return false;
      let first = true;
      for (const e of v) {
        if ((!first && !write(', ')) || !go(e)) return false;
        first = false;
      }
      return write(']');
    }
    if (isCelMap(v)) {
      if (!write('{')) return false;
      let first = true;
      for (const [k, e] of v) {
        if ((!first && !write(', ')) || !write(`${JSON.stringify(isCelUint(k) ? `${k.value}u` : String(k))}: `) || !go(e)) return false;
        first = false;
      }
      return write('}');
    }
    return write(`<${typeOfValue(v)}>`);
  };
  return go(value) ? out : `${out.slice(0, max)}…`;
}

/** One run of a metered expression: its value (or error) and what it cost. */
export interface MeteredRun {
  value: CelResult;
  cost: number;
  /** The budget ran out: the value is an error, whatever the expression would have given. */
  limitExceeded: boolean;
}

/** A CEL expression compiled to pay for its work. */
export interface MeteredExpression {
  readonly source: string;
  /** Evaluates over `variables` (JSON values, converted once) within `costLimit` units. Never throws. */
  run(variables: Readonly<Record<string, unknown>>, costLimit: number): MeteredRun;
  /** The attribute paths the expression reads and their values in `variables`, for explanations. */
  seen(variables: Readonly<Record<string, unknown>>): SeenValue[];
}

/**
 * Compiles a CEL expression over `variables`: parsed, checked (declared
 * variables and standard functions only, `matches` patterns RE2 accepts, no
 * message construction or optional syntax), and instrumented to pay for its
 * work (see the top of this file).
 *
 * @throws {ConditionSyntaxError} naming what is wrong.
 */
export function compileExpression(source: string, variables: readonly string[] = CONDITION_VARIABLES): MeteredExpression {
  if (source.length > MAX_CONDITION_LENGTH) {
    throw new ConditionSyntaxError(`the condition is ${source.length} characters long; at most ${MAX_CONDITION_LENGTH} are accepted`);
  }
  let parsed: Expr;
  try {
    const expr = parse(source).expr;
    if (expr === undefined) throw new Error('empty expression');
    parsed = expr;
  } catch (err) {
    throw new ConditionSyntaxError(`the condition does not parse: ${(err as Error).message}`);
  }
  const patterns = new Map<string, RE2JS>();
  try {
    check(parsed, new Set(variables), patterns);
  } catch (err) {
    if (err instanceof ConditionSyntaxError) throw err;
    throw new ConditionSyntaxError(`the condition cannot be checked: ${(err as Error).message}`); // e.g. nesting too deep for the stack
  }
  const instrumenter = new Instrumenter(maxId(parsed));
  const program = instrumenter.rewrite(parsed);
  const run = plan(
    celEnv({ funcs: instrumenter.funcs, re2: { compile: (pattern) => patterns.get(pattern) ?? compileRe2(pattern) } }),
    program,
  );
  const upFront = nodesOnce(program);
  const shown = references(parsed, variables).slice(0, SEEN_VALUES);
  const bind = (values: Readonly<Record<string, unknown>>): Record<string, CelInput> =>
    Object.fromEntries(variables.map((name) => [name, toCelValue(values[name])]));

  return {
    source,
    run(values, costLimit) {
      const m = new Meter(costLimit);
      let value: CelResult;
      active = m;
      try {
        m.charge(upFront);
        value = run(bind(values));
      } catch (err) {
        value = celError(err);
      } finally {
        active = undefined;
      }
      if (m.exceeded) return { value: celError(new CostLimitError(costLimit)), cost: costLimit, limitExceeded: true };
      return { value, cost: m.used, limitExceeded: false };
    },
    seen(values) {
      let bindings: Record<string, CelInput>;
      try {
        bindings = bind(values);
      } catch {
        return [];
      }
      // Attribute paths with constant indexes only: no call, no loop, so nothing to meter.
      return shown.map((ref) => {
        const value = plan(standardEnv(), ref)(bindings);
        return { expression: unparse(ref), value: isCelError(value) ? `(${value.message})` : formatCelValue(value) };
      });
    },
  };
}

/**
 * Compiles a condition over a claim: a CEL expression over
 * {@link CONDITION_VARIABLES} that must give `true`.
 *
 * @throws {ConditionSyntaxError} naming what is wrong.
 */
export function compileCondition(source: string): CompiledCondition {
  const expression = compileExpression(source);
  return {
    source,
    evaluate(variables, costLimit = DEFAULT_CEL_COST_LIMIT) {
      const { value, cost, limitExceeded } = expression.run(variables, costLimit);
      if (value === true) return { result: true, cost };
      if (value === false) return { result: false, cost, seen: expression.seen(variables) };
      const message = isCelError(value) ? value.message : `the condition gave ${typeOfValue(value)}, not bool`;
      return { result: 'error', cost, message, limitExceeded, seen: expression.seen(variables) };
    },
  };
}
