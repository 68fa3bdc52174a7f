// Runs the module's exports under Node with a `performance.now()` this script moves:
// `node run.mjs <jwm_cache_web.wasm>`. It loads the raw cargo output, without
// wasm-bindgen's generated glue: `square` and `hits` pass plain numbers, and the only
// import they call is `performance.now`; any other import throws.
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

let now = 1_000.25; // milliseconds, as performance.now() gives them
const module = new WebAssembly.Module(readFileSync(process.argv[2]));
const imports = {};
for (const { module: from, name } of WebAssembly.Module.imports(module)) {
  imports[from] ??= {};
  imports[from][name] = name.startsWith('__wbg_now_')
    ? () => now
    : () => { throw new Error(`unexpected call of ${from}.${name}`); };
}
const exports = new WebAssembly.Instance(module, imports).exports;
// wasm-bindgen's raw exports carry a hash suffix, which its glue would hide.
const exported = (name) => exports[Object.keys(exports).find((key) => key.startsWith(`${name}_`))];
const square = exported('square');
const hits = exported('hits');
const cube = exported('memoized_cube');
const cubeHits = exported('memoized_hits');

assert.equal(square(12), 144n);
assert.equal(hits(), 0n);
now += 29_999.9; // just under the 30 s TTL
assert.equal(square(12), 144n);
assert.equal(hits(), 1n, 'a hit before the TTL');
now += 0.1; // the TTL has passed, by performance.now()
assert.equal(square(12), 144n);
assert.equal(hits(), 1n, 'a miss once the TTL has passed');

// `#[ttl_cache]` with its default clock reads the same `performance.now()`.
assert.equal(cube(3), 27n);
assert.equal(cubeHits(), 0n);
now += 29_999.9;
assert.equal(cube(3), 27n);
assert.equal(cubeHits(), 1n, 'a hit before the TTL');
now += 0.2;
assert.equal(cube(3), 27n);
assert.equal(cubeHits(), 1n, 'a miss once the TTL has passed');
console.log('web: PerformanceClock drives expiry in wasm32-unknown-unknown');
