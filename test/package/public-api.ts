/**
 * The public API as a user's compiler sees it: the declaration files of every entry point in
 * package.json's `exports`, emitted in memory from the sources, then read with the TypeScript
 * compiler API. Used by public-api.test.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = join(ROOT, '.tmp/public-api-dts'); // never written: the emitted files stay in memory

/** Each entry point: its subpath (`./client`) and the source file it is built from. */
export function entryPoints(): { subpath: string; source: string; dts: string }[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { types: string; import: string }>;
  };
  return Object.entries(manifest.exports).flatMap(([subpath, target]) => {
    if (typeof target === 'string') return [];
    const stem = target.import.replace(/^\.\/dist\//, '').replace(/\.js$/, '');
    return [{ subpath, source: join(ROOT, `${stem}.ts`), dts: join(OUT, `${stem}.d.ts`) }];
  });
}

/** One exported name of one entry, resolved through its re-exports to the declaring symbol. */
export interface PublicName {
  subpath: string;
  name: string;
  symbol: ts.Symbol;
}

/** A named type (interface, type alias, class, enum) a public declaration refers to. */
export interface Reference {
  subpath: string;
  /** The exported name whose declaration refers to it. */
  from: string;
  symbol: ts.Symbol;
  /** The declaring file, relative to the emitted root. */
  file: string;
}

/** The declaration files of every entry, emitted from the sources, as a program. */
export function publicApi(): {
  names: PublicName[];
  references: Reference[];
  checker: ts.TypeChecker;
} {
  const entries = entryPoints();
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    sourceMap: false,
    declarationMap: false,
    outDir: OUT,
    rootDir: ROOT,
  };
  const emitted = new Map<string, string>();
  const source = ts.createProgram(
    entries.map((e) => e.source),
    options,
  );
  const result = source.emit(undefined, (file, text) => emitted.set(file, text), undefined, true);
  const errors = result.diagnostics.map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );
  if (errors.length > 0) throw new Error(`declaration emit failed:\n${errors.join('\n')}`);

  // The emitted .d.ts files as a program of their own, as an installed package is read.
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const { fileExists, readFile, getSourceFile } = host;
  host.directoryExists = (dir) => dir.startsWith(OUT) || ts.sys.directoryExists(dir);
  host.fileExists = (file) => emitted.has(file) || (!file.startsWith(OUT) && fileExists(file));
  host.readFile = (file) =>
    emitted.get(file) ?? (file.startsWith(OUT) ? undefined : readFile(file));
  host.getSourceFile = (file, language, ...rest) => {
    const text = emitted.get(file);
    return text === undefined
      ? getSourceFile(file, language, ...rest)
      : ts.createSourceFile(file, text, language, true);
  };
  const program = ts.createProgram(
    entries.map((e) => e.dts),
    { ...options, noEmit: true, paths: undefined },
    host,
  );
  const checker = program.getTypeChecker();
  const resolve = (s: ts.Symbol) =>
    s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;

  const names: PublicName[] = [];
  const references: Reference[] = [];
  for (const entry of entries) {
    const file = program.getSourceFile(entry.dts);
    if (!file) throw new Error(`no declarations emitted for ${entry.subpath} (${entry.dts})`);
    const moduleSymbol = checker.getSymbolAtLocation(file);
    if (!moduleSymbol) throw new Error(`${entry.subpath}: no module symbol`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = resolve(exported);
      names.push({ subpath: entry.subpath, name: exported.name, symbol });
      // A class exported as a type only cannot be constructed by apps: its constructor is not public.
      const typeOnly = (exported.declarations ?? []).some(
        (d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly),
      );
      for (const declaration of symbol.declarations ?? []) {
        for (const referenced of namedTypesIn(declaration, checker, typeOnly)) {
          const target = resolve(referenced);
          const declaredIn = target.declarations?.[0]?.getSourceFile().fileName ?? '';
          if (!declaredIn.startsWith(OUT)) continue; // zod, tRPC, Node, the DOM: not ours to export
          references.push({
            subpath: entry.subpath,
            from: exported.name,
            symbol: target,
            file: relative(OUT, declaredIn),
          });
        }
      }
    }
  }
  return { names, references, checker };
}

/**
 * The named types a declaration's signature refers to: type references and `extends` /
 * `implements` clauses, but not type parameters, private members or anything inside bodies.
 */
function namedTypesIn(
  declaration: ts.Node,
  checker: ts.TypeChecker,
  typeOnly: boolean,
): ts.Symbol[] {
  const found: ts.Symbol[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isModuleDeclaration(node) && node !== declaration) return;
    if (typeOnly && ts.isConstructorDeclaration(node)) return;
    const modifiers = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
    if (modifiers?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return;
    if (
      (ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node)) &&
      ts.isPrivateIdentifier(node.name)
    )
      return;
    let name: ts.Node | undefined;
    if (ts.isTypeReferenceNode(node)) name = node.typeName;
    else if (ts.isExpressionWithTypeArguments(node)) name = node.expression;
    else if (ts.isImportTypeNode(node) && node.qualifier) name = node.qualifier; // import("./x.js").Name
    if (name) {
      const symbol = checker.getSymbolAtLocation(ts.isQualifiedName(name) ? name.right : name);
      if (symbol && !(symbol.flags & ts.SymbolFlags.TypeParameter)) found.push(symbol);
    }
    ts.forEachChild(node, visit);
  };
  visit(declaration);
  return found;
}
