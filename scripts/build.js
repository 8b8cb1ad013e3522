#!/usr/bin/env node
// Compiles the apps (and what they import) from TypeScript to CommonJS in dist/, with the same
// SWC options @swc-node/register applies at run time, so `npm start` runs plain JavaScript:
// no TypeScript compiler, transform cache or source maps held in each process's heap
// (docs/decisions.md #21). Specs are left out; `--bench` adds bench/ (the benchmark's child
// processes run from dist/ too). Takes well under a second.
const {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} = require('node:fs');
const { join, dirname, relative } = require('node:path');
const { transformFileSync } = require('@swc/core');

const ROOT = join(__dirname, '..');
const OUT = join(ROOT, 'dist');
const SOURCES = ['apps', 'libs', 'adapters', 'migrations'];
const SPEC = /\.(spec|int-spec|e2e-spec)\.ts$|\.d\.ts$/;

const OPTIONS = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    // As tsconfig.json read by @swc-node/register: experimentalDecorators, emitDecoratorMetadata,
    // target ES2023 (hence define semantics for class fields), CommonJS with ES module interop.
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: true },
    target: 'es2023',
    keepClassNames: true,
  },
  module: { type: 'commonjs', noInterop: false },
  sourceMaps: false,
  swcrc: false,
};

function* typescriptFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typescriptFiles(path);
    else if (entry.name.endsWith('.ts') && !SPEC.test(entry.name)) yield path;
  }
}

/**
 * Writes `code` to `target` only if it differs, through a temporary file renamed over it: a
 * process started at the same moment (two `npm run start:*` at once) never reads a half-written
 * or deleted module.
 */
function writeIfChanged(target, code) {
  if (existsSync(target) && readFileSync(target, 'utf8') === code) return false;
  mkdirSync(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, code);
  renameSync(temporary, target);
  return true;
}

/** Another build running at the same moment may have removed it first. */
function removeIfPresent(file) {
  try {
    unlinkSync(file);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
}

/** Compiled files whose source is gone (a module deleted or renamed) are removed. */
function* compiledFiles(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* compiledFiles(path);
    else if (entry.name.endsWith('.js')) yield path;
  }
}

function build(sources) {
  const expected = new Set();
  let written = 0;
  for (const source of sources) {
    for (const file of typescriptFiles(join(ROOT, source))) {
      const target = join(OUT, relative(ROOT, file)).replace(/\.ts$/, '.js');
      expected.add(target);
      if (writeIfChanged(target, transformFileSync(file, OPTIONS).code)) written += 1;
    }
  }
  for (const source of sources) {
    for (const file of compiledFiles(join(OUT, source))) {
      if (!expected.has(file)) removeIfPresent(file);
    }
  }
  return { compiled: expected.size, written };
}

const started = Date.now();
const { compiled, written } = build(
  process.argv.includes('--bench') ? [...SOURCES, 'bench'] : SOURCES,
);
console.log(
  `build: ${compiled} files compiled to dist/ (${written} changed) in ${Date.now() - started} ms`,
);
