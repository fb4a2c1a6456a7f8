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
 * Top-level statements that run for their effect, not declarations (an import, a function, a
 * const). A const whose initializer changed global state would pass unseen; none does, and one
 * that did would have to be listed by hand.
 */
function effectStatements(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const declarations = new Set([
    ts.SyntaxKind.ImportDeclaration,
    ts.SyntaxKind.ImportEqualsDeclaration,
    ts.SyntaxKind.ExportDeclaration,
    ts.SyntaxKind.ExportAssignment,
    ts.SyntaxKind.FunctionDeclaration,
    ts.SyntaxKind.ClassDeclaration,
    ts.SyntaxKind.InterfaceDeclaration,
    ts.SyntaxKind.TypeAliasDeclaration,
    ts.SyntaxKind.EnumDeclaration,
    ts.SyntaxKind.ModuleDeclaration,
    ts.SyntaxKind.VariableStatement,
    ts.SyntaxKind.EmptyStatement,
  ]);
  return source.statements.filter((statement) => !declarations.has(statement.kind)).map((statement) => statement.getText(source).split('\n')[0] ?? '');
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

it('the scan sees a statement run at load, and not a declaration', () => {
  const text = "import { a } from './a.ts';\nexport const b = a;\nfunction c(): void {}\nstart();\nif (b) c();\ndeclare global { interface Window { d: number } }\n";
  expect(effectStatements('example.ts', text)).toEqual(['start();', 'if (b) c();']);
});
