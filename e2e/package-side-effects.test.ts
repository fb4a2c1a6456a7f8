// package.json's `sideEffects` tells bundlers which of raftmesh's modules do something merely by
// being loaded; every other module may be dropped when an app uses nothing from it (what lets
// esbuild leave simple-peer-light out of an app that never opens a data channel, and Vite leave
// the worker script out of one that never starts a worker: `npm run bench -- bundle`). The list
// is only safe while it is complete, so this reads every published module and checks that the
// ones with statements run at load are exactly the ones listed, in both their built and their
// source form (the project's own pages bundle the sources).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

const projectRoot = path.resolve(import.meta.dirname, '..');

/** The modules `npm run build` publishes: tsconfig.build.json's files. */
function publishedSources(): string[] {
  const configFile = path.join(projectRoot, 'tsconfig.build.json');
  const read = ts.readConfigFile(configFile, (file) => ts.sys.readFile(file));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, projectRoot, undefined, configFile).fileNames;
}

/**
 * Calls a top-level const may make without doing anything at load: built-in constructors and
 * pure helpers that build a value (a table, an id, an encoder). A call to anything else in a
 * const's initializer counts as a statement run at load, until it is looked at and named here.
 */
const callsThatBuildAValue = new Set([
  'Set', 'Map', 'WeakSet', 'WeakMap', 'TextEncoder', 'TextDecoder', 'Uint8Array', 'Uint32Array', 'Uint8Array.of',
  'Object.freeze', 'Object.values', 'Object.defineProperty', 'JSON.stringify', 'nodeId', 'clientId',
  'new TextEncoder().encode', 'textCodecs.TextEncoder', 'textCodecs.TextDecoder', 'sampleMessages.map',
  // The file journal's sentinel frame, built in a buffer of its own (src/storage/file/journal-format1.ts).
  'DataView', 'crc32', 'view.setUint32', 'bytes.set',
  // A private key for an internal hook (src/rooms/store-options.ts foldsEveryVersion,
  // src/storage/close-storage.ts closeLeavingNothing): a new value, nothing else done.
  'Symbol',
]);

/** The calls an expression makes as it is evaluated (not those inside functions it only defines). */
function callsMadeBy(expression: ts.Node, source: ts.SourceFile): string[] {
  const calls: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isClassExpression(node) || ts.isMethodDeclaration(node) || ts.isAccessor(node)) return;
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const callee = ts.isParenthesizedExpression(node.expression) ? node.expression.expression : node.expression;
      // An immediately invoked function computes a constant (a CRC table, a sentinel frame): its body is what runs.
      if (ts.isArrowFunction(callee) || ts.isFunctionExpression(callee)) visit(callee.body);
      else calls.push(callee.getText(source));
    }
    if (ts.isTaggedTemplateExpression(node)) calls.push(node.tag.getText(source));
    ts.forEachChild(node, visit);
  };
  visit(expression);
  return calls;
}

/**
 * Top-level statements that run for their effect (a call, an if), and consts or a default export
 * whose value comes from a call not known to only build a value; not declarations (an import, a
 * function, a type). A class's static initializers are not read: none of the published modules
 * has one that calls anything.
 */
function effectStatements(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const declarations = new Set([
    ts.SyntaxKind.ImportDeclaration,
    ts.SyntaxKind.ImportEqualsDeclaration,
    ts.SyntaxKind.ExportDeclaration,
    ts.SyntaxKind.FunctionDeclaration,
    ts.SyntaxKind.ClassDeclaration,
    ts.SyntaxKind.InterfaceDeclaration,
    ts.SyntaxKind.TypeAliasDeclaration,
    ts.SyntaxKind.EnumDeclaration,
    ts.SyntaxKind.ModuleDeclaration,
    ts.SyntaxKind.EmptyStatement,
  ]);
  const firstLine = (node: ts.Node): string => node.getText(source).split('\n')[0] ?? '';
  return source.statements.flatMap((statement): string[] => {
    if (ts.isVariableStatement(statement) || ts.isExportAssignment(statement)) {
      const values = ts.isVariableStatement(statement) ? statement.declarationList.declarations.flatMap((declaration) => (declaration.initializer === undefined ? [] : [declaration.initializer])) : [statement.expression];
      const unknown = values.flatMap((value) => callsMadeBy(value, source)).filter((callee) => !callsThatBuildAValue.has(callee));
      return unknown.length === 0 ? [] : [firstLine(statement)];
    }
    return declarations.has(statement.kind) ? [] : [firstLine(statement)];
  });
}

function declaredSideEffects(): string[] {
  const manifest = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { sideEffects: string[] };
  return manifest.sideEffects;
}

it('package.json lists exactly the published modules that run statements at load, built and source', () => {
  const withEffects = publishedSources().filter((file) => effectStatements(file, readFileSync(file, 'utf8')).length > 0);
  const relative = withEffects.map((file) => path.relative(projectRoot, file).split(path.sep).join('/'));
  const expected = [...relative.map((file) => `./${file.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')}`), ...relative.map((file) => `./${file}`)];
  expect(declaredSideEffects().filter((pattern) => pattern !== '*.css').sort()).toEqual(expected.sort());
  // What the scan finds today: the worker's script and the two command-line tools.
  expect(relative.sort()).toEqual(['src/edge/cli.ts', 'src/signaling/server/cli.ts', 'src/worker/worker-entry.ts']);
});

it('the scan sees a statement run at load, or a value from an unknown call, and not a declaration', () => {
  const text = [
    "import { a } from './a.ts';",
    'export const b = a;',
    'function c(): void {}',
    'start();',
    'if (b) c();',
    'declare global { interface Window { d: number } }',
    'const table = new Set([nodeId("x")]);',
    'const later = () => register();',
    'const computed = (() => { const t = new Uint32Array(2); return t; })();',
    'const registered = register(b);',
    'const inside = (() => polyfill())();',
    'export default install();',
  ].join('\n');
  expect(effectStatements('example.ts', text)).toEqual(['start();', 'if (b) c();', 'const registered = register(b);', 'const inside = (() => polyfill())();', 'export default install();']);
});
