#!/usr/bin/env node
// Dependency-direction check (DESIGN.md §11). Plain CommonJS, no dependencies.
//
// Scans every .ts file under apps/, libs/ and adapters/ (specs included; test/ itself is exempt),
// finds its imports (`import … from`, `export … from`, `import '…'`, `import(…)`, `require(…)`,
// `jest.mock(…)`), resolves relative ones to their top-level area and enforces:
//   - libs/* never import apps/ or adapters/;
//   - libs/domain imports no other lib; libs/contracts imports only libs/domain;
//   - adapters/<name>/ import only their own folder, libs/contracts, libs/domain, Node builtins and
//     the npm packages on that adapter's allowlist (ADAPTER_PACKAGES);
//   - adapters/registry.ts imports only adapters/*, libs/contracts, libs/domain, Node builtins and
//     packages allowlisted for some adapter;
//   - apps may import libs/ and adapters/; an app imports another app's files only from
//     apps/all/src/main.ts;
//   - only spec files (*.spec.ts) may import test/ (shared contract suites, fakes) and, in adapters,
//     devDependencies (test tools such as fast-check);
//   - nothing imports files outside the repository.
// Prints one line per violation, `file:line imports X (rule)`, and exits 1 if there are any.
//
// Usage: node scripts/check-deps.js [repo-root]   (default: the parent of this script's folder)
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { builtinModules } = require('node:module');

/** npm packages an adapter may use besides Node's builtins, by adapter folder name. */
const ADAPTER_PACKAGES = {
  stripe: ['stripe'],
};

const SCANNED = ['apps', 'libs', 'adapters'];
const SOURCE_EXT = /\.(ts|tsx|mts|cts)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage', '.git']);

const root = path.resolve(process.argv[2] || path.join(__dirname, '..'));

// ---------------------------------------------------------------------------------------------
// Files

function walk(dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return out;
    throw err;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) walk(full, out);
    } else if (entry.isFile() && SOURCE_EXT.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      out.push(full);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A small JavaScript/TypeScript tokenizer: enough to tell code from comments, strings, template
// literals and regular expressions, so that commented-out or quoted imports are not counted.

const PUNCT_BEFORE_EXPR = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

function tokenize(src) {
  const tokens = [];
  const braces = []; // for each open `{`: true if it opened a template substitution `${`
  let i = 0;
  let line = 1;
  const n = src.length;

  const push = (type, value, tokLine) => tokens.push({ type, value, line: tokLine });
  const prevAllowsRegex = () => {
    const prev = tokens[tokens.length - 1];
    if (!prev) return true;
    if (prev.type === 'string' || prev.type === 'template' || prev.type === 'regex') return false;
    if (prev.type === 'name') return PUNCT_BEFORE_EXPR.has(prev.value);
    if (prev.type === 'num') return false;
    return !(prev.value === ')' || prev.value === ']' || prev.value === '}');
  };

  // Reads template characters from i (just after ` or a closing } of a substitution) up to the
  // closing ` or the next `${`. Returns the raw text read.
  const readTemplateChunk = () => {
    let text = '';
    while (i < n) {
      const c = src[i];
      if (c === '\\') {
        text += src.slice(i, i + 2);
        if (src[i + 1] === '\n') line++;
        i += 2;
      } else if (c === '`') {
        i++;
        return { text, ended: true };
      } else if (c === '$' && src[i + 1] === '{') {
        i += 2;
        braces.push(true);
        return { text, ended: false };
      } else {
        if (c === '\n') line++;
        text += c;
        i++;
      }
    }
    return { text, ended: true };
  };

  while (i < n) {
    const c = src[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      for (let k = i; k < stop; k++) if (src[k] === '\n') line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      const startLine = line;
      let value = '';
      i++;
      while (i < n && src[i] !== c && src[i] !== '\n') {
        if (src[i] === '\\') {
          value += src[i + 1] === undefined ? '' : src[i + 1];
          if (src[i + 1] === '\n') line++;
          i += 2;
        } else {
          value += src[i++];
        }
      }
      i++;
      push('string', value, startLine);
    } else if (c === '`') {
      const startLine = line;
      i++;
      const chunk = readTemplateChunk();
      // A template without substitutions can serve as a module specifier in import()/require().
      push(chunk.ended ? 'string' : 'template', chunk.text, startLine);
    } else if (c === '}' && braces.length && braces[braces.length - 1]) {
      braces.pop();
      i++;
      const chunk = readTemplateChunk();
      push('template', chunk.text, line);
    } else if (c === '/' && prevAllowsRegex()) {
      const startLine = line;
      let inClass = false;
      i++;
      while (i < n && src[i] !== '\n') {
        const d = src[i];
        if (d === '\\') {
          i += 2;
          continue;
        }
        if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < n && /[A-Za-z]/.test(src[i])) i++;
      push('regex', '', startLine);
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      const start = i;
      while (i < n && /[\w$\u0080-\uffff]/.test(src[i])) i++;
      push('name', src.slice(start, i), line);
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] || ''))) {
      const start = i;
      while (i < n && /[\w.]/.test(src[i])) i++;
      push('num', src.slice(start, i), line);
    } else {
      if (c === '{') braces.push(false);
      else if (c === '}') braces.pop();
      push('punct', c, line);
      i++;
    }
  }
  return tokens;
}

/** Module specifiers a file refers to, with their line numbers. */
function findImports(src) {
  const t = tokenize(src);
  const found = [];
  const is = (k, type, value) =>
    t[k] && t[k].type === type && (value === undefined || t[k].value === value);
  const afterDot = (k) => is(k - 1, 'punct', '.') && !is(k - 2, 'punct', '.');
  for (let k = 0; k < t.length; k++) {
    const tok = t[k];
    if (tok.type !== 'name') continue;
    if (tok.value === 'from' && is(k + 1, 'string') && !afterDot(k)) {
      // import … from 'x' / export … from 'x' (an identifier `from` never precedes a string).
      found.push({ spec: t[k + 1].value, line: t[k + 1].line });
    } else if (tok.value === 'import' && !afterDot(k)) {
      if (is(k + 1, 'string')) found.push({ spec: t[k + 1].value, line: t[k + 1].line });
      else if (is(k + 1, 'punct', '(') && is(k + 2, 'string'))
        found.push({ spec: t[k + 2].value, line: t[k + 2].line });
    } else if (tok.value === 'require' && !afterDot(k)) {
      if (is(k + 1, 'punct', '(') && is(k + 2, 'string'))
        found.push({ spec: t[k + 2].value, line: t[k + 2].line });
    } else if (
      tok.value === 'jest' &&
      is(k + 1, 'punct', '.') &&
      is(k + 2, 'name') &&
      /^(mock|doMock|unmock|requireActual|requireMock|createMockFromModule)$/.test(
        t[k + 2].value,
      ) &&
      is(k + 3, 'punct', '(') &&
      is(k + 4, 'string')
    ) {
      found.push({ spec: t[k + 4].value, line: t[k + 4].line });
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Classification

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function packageName(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Where a repository-relative path (forward slashes) lives. */
function areaOf(rel) {
  if (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) {
    return { area: 'outside', name: '', label: 'outside the repository' };
  }
  const parts = rel.split('/');
  const top = parts[0];
  if (top === 'apps' || top === 'libs') {
    return { area: top, name: parts[1] || '', label: `${top}/${parts[1] || ''}` };
  }
  if (top === 'adapters') {
    const second = parts[1] || '';
    if (parts.length === 2 && /^registry(\.[cm]?[jt]sx?)?$/.test(second)) {
      return { area: 'adapters', name: 'registry', label: 'adapters/registry.ts', registry: true };
    }
    return { area: 'adapters', name: second, label: `adapters/${second}` };
  }
  if (top === 'test') return { area: 'test', name: '', label: 'test/' };
  if (top === 'migrations') return { area: 'migrations', name: '', label: 'migrations/' };
  return { area: 'root', name: '', label: rel };
}

function readDevDependencies() {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    return new Set(Object.keys(pkg.devDependencies || {}));
  } catch {
    return new Set();
  }
}

const devDependencies = readDevDependencies();
const allAdapterPackages = new Set(Object.values(ADAPTER_PACKAGES).flat());
const allowedPackages = (adapter) =>
  Object.hasOwn(ADAPTER_PACKAGES, adapter) ? ADAPTER_PACKAGES[adapter] : [];

/** The rule an import breaks, or null. */
function check(fromRel, from, spec) {
  const isSpec = /\.spec\.[cm]?tsx?$/.test(fromRel);
  const relative = spec.startsWith('.') || spec.startsWith('/');

  if (!relative) {
    // An npm package or a Node builtin. Only adapters are restricted.
    if (from.area !== 'adapters' || BUILTINS.has(spec)) return null;
    const pkg = packageName(spec);
    if (from.registry) {
      return allAdapterPackages.has(pkg)
        ? null
        : 'adapters/registry.ts may use only Node builtins and adapter-allowlisted packages';
    }
    if (allowedPackages(from.name).includes(pkg)) return null;
    if (isSpec && devDependencies.has(pkg)) return null;
    return `adapters/${from.name} may use only Node builtins and its allowlisted packages ${JSON.stringify(allowedPackages(from.name))}`;
  }

  const target = path.resolve(path.dirname(path.join(root, fromRel)), spec);
  const to = areaOf(path.relative(root, target).split(path.sep).join('/'));

  if (to.area === 'outside') return 'imports must stay inside the repository';
  if (to.area === 'test') return isSpec ? null : 'only spec files may import test/';

  if (from.area === 'libs') {
    if (to.area === 'apps') return `libs must not import apps/ (${to.label})`;
    if (to.area === 'adapters') return `libs must not import adapters/ (${to.label})`;
    if (to.area === 'libs' && to.name !== from.name) {
      if (from.name === 'domain') return `libs/domain imports no other lib (${to.label})`;
      if (from.name === 'contracts' && to.name !== 'domain') {
        return `libs/contracts imports only libs/domain (${to.label})`;
      }
    }
    return null;
  }

  if (from.area === 'adapters') {
    if (to.area === 'libs' && (to.name === 'contracts' || to.name === 'domain')) return null;
    if (from.registry) {
      if (to.area === 'adapters') return null;
      return `adapters/registry.ts imports only adapters/*, libs/contracts and libs/domain (${to.label})`;
    }
    if (to.area === 'adapters' && to.name === from.name && !to.registry) return null;
    return `adapters import only libs/contracts, libs/domain and their own folder (${to.label})`;
  }

  if (from.area === 'apps') {
    if (to.area === 'apps' && to.name !== from.name && fromRel !== 'apps/all/src/main.ts') {
      return `apps must not import another app's files, except apps/all/src/main.ts (${to.label})`;
    }
    return null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------

function main() {
  const files = SCANNED.flatMap((dir) => walk(path.join(root, dir), [])).sort();
  const violations = [];
  for (const file of files) {
    const fromRel = path.relative(root, file).split(path.sep).join('/');
    const from = areaOf(fromRel);
    const src = fs.readFileSync(file, 'utf8');
    for (const { spec, line } of findImports(src)) {
      const rule = check(fromRel, from, spec);
      if (rule) violations.push(`${fromRel}:${line} imports ${spec} (${rule})`);
    }
  }
  for (const v of violations) console.log(v);
  const summary = `dependency check: ${files.length} files, ${violations.length} violation${violations.length === 1 ? '' : 's'}`;
  if (violations.length) {
    console.error(summary);
    process.exitCode = 1;
  } else {
    console.log(summary);
  }
}

if (require.main === module) main();

module.exports = { findImports, tokenize, check, areaOf };
