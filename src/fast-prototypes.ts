/**
 * Keeps string and number methods fast after dependencies subclass the built-ins.
 *
 * ioredis defines `class VerbatimString extends String` and nunjucks does
 * `Object.create(String.prototype)`; loading the BigQuery SDK does the same to Number.prototype.
 * V8 switches a prototype that gains a subclass to dictionary mode, and method lookups on
 * primitives never switch it back. Optimized code cannot inline a lookup on a dictionary-mode
 * prototype: every `text.charCodeAt(i)` in fsql's hot paths (and Node's) then calls an inline
 * cache stub, which was 18% of the feature server's CPU. A property load on a wrapper object, from
 * a function that has type feedback, makes V8 turn the prototypes back into fast mode
 * (JSObject::MakePrototypesFast), which is what this does.
 */
const WRAPPERS = [Object(''), Object(0), Object(false), Object(0n)];

/** A load whose inline cache sees the wrapper's prototype chain. */
function loadValueOf(wrapper: object): unknown {
  return (wrapper as { valueOf: unknown }).valueOf;
}

/** Call once modules are loaded: the CLI does after loading the command, openWarehouse after loading a warehouse SDK. */
export function restoreFastPrototypes(): void {
  // the first calls of a function run without feedback, and without feedback no IC updates
  for (let i = 0; i < 32; i++) for (const w of WRAPPERS) loadValueOf(w);
}
