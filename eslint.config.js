// Lint rules: eslint's and typescript-eslint's recommended sets, React's hook rules, and the import
// rules that keep the layers apart (see LAYERS below; README, Tests).
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Folders a face (an adapter for one protocol or host) lives in. */
const FACES = ['server/rest', 'server/trpc', 'server/compat', 'server/http', 'server/live'];
/** Folders of the client side: everything a browser or React Native app bundles. */
const CLIENT = ['client', 'react', 'tanstack-db'];

/** Forbids server-side packages and Node built-ins; for code that a browser bundles. */
const browserPackages = {
  group: [
    'node:*',
    'pg',
    'mongodb',
    'ws',
    '@electric-sql/pglite',
    '@trpc/server',
    '@trpc/server/*',
  ],
  message: 'Client-side code bundles for browsers and React Native: no server packages here.',
};
/** Forbids the protocol packages: the engine, the stores and the gateway know nothing of tRPC or HTTP. */
const protocolPackages = {
  group: ['@trpc/*', 'ws', 'node:http', 'node:https', 'node:http2', 'express'],
  message: 'Only faces know tRPC, HTTP or WebSocket; the engine, stores and gateway do not.',
};
const anyServer = (who) => ({
  group: ['**/server', '**/server/**'],
  message: `${who} imports nothing from server/.`,
});
const anyClient = (who) => ({
  group: CLIENT.flatMap((dir) => [`**/${dir}`, `**/${dir}/**`]),
  message: `${who} imports nothing from the client side (${CLIENT.join(', ')}).`,
});
const serverFolders = (names, message) => ({
  group: names.flatMap((dir) => [`**/${dir}`, `**/${dir}/**`]),
  message,
});

/**
 * The layers, as import rules per folder. Specifiers are matched as written (gitignore-style
 * patterns on the relative path), so `../stores/memory.js` is "stores" wherever it is written from.
 * - engine → shared + the store interface (server/stores/store.ts) only;
 * - stores → their interface + shared only, never the engine;
 * - client → shared only, never server/;
 * - shared → nothing of server/ or the client;
 * - the gateway → the engine, auth, shared and the store interface; never a face or a protocol;
 * - faces → the gateway (server/gateway/). Until every face goes through it, faces may still import
 *   the engine's *types* (`import type`); value imports of the engine are listed in
 *   FACE_ENGINE_EXCEPTIONS. To tighten: empty that list, then set `allowTypeImports: false`.
 */
const LAYERS = [
  {
    name: 'engine',
    files: ['server/engine/**'],
    patterns: [
      {
        group: ['**/stores/**', '!**/stores/store.js'],
        message:
          'The engine sees stores only through the Store interface (server/stores/store.ts).',
      },
      serverFolders(
        ['gateway', ...FACES.map((f) => f.slice('server/'.length)), 'auth', 'cli', 'demo'],
        'The engine decides; faces, the gateway, auth and the CLI call it, never the reverse.',
      ),
      { group: ['../*.js'], message: 'The engine imports only shared/ and the store interface.' },
      anyClient('The engine'),
      protocolPackages,
    ],
  },
  {
    name: 'stores',
    files: ['server/stores/**'],
    patterns: [
      serverFolders(
        [
          'engine',
          'gateway',
          ...FACES.map((f) => f.slice('server/'.length)),
          'auth',
          'cli',
          'demo',
        ],
        'Stores do only I/O behind the Store interface; they know nothing of the engine or faces.',
      ),
      anyClient('A store'),
      protocolPackages,
    ],
  },
  {
    name: 'client',
    files: CLIENT.map((dir) => `${dir}/**`),
    patterns: [anyServer('The client'), browserPackages],
  },
  {
    name: 'shared',
    files: ['shared/**'],
    patterns: [anyServer('shared/'), anyClient('shared/'), browserPackages],
  },
  {
    name: 'gateway',
    files: ['server/gateway/**'],
    patterns: [
      serverFolders(
        [...FACES.map((f) => f.slice('server/'.length)), 'cli', 'demo'],
        "The gateway is the faces' face-neutral core: faces call it, never the reverse.",
      ),
      {
        group: ['**/stores/**', '!**/stores/store.js'],
        message:
          'The gateway sees stores only through the Store interface (server/stores/store.ts).',
      },
      anyClient('The gateway'),
      protocolPackages,
    ],
  },
  {
    name: 'faces',
    files: FACES.map((dir) => `${dir}/**`),
    patterns: [
      {
        group: ['**/engine', '**/engine/**'],
        allowTypeImports: true,
        message: 'A face calls the engine through the gateway (server/gateway/); types only here.',
      },
      {
        group: ['**/stores/**', '!**/stores/store.js'],
        message: 'A face reaches stores through the gateway and the engine, not directly.',
      },
      anyClient('A face'),
    ],
  },
];

/**
 * Faces' value imports of the engine that predate the gateway; each is to move behind
 * server/gateway/ (or into shared/), and then its line here goes.
 */
const FACE_ENGINE_EXCEPTIONS = [
  'server/trpc/response-budget.ts', // ../engine/shape.js (response size budget)
  'server/http/ip-rate-limit.ts', // ../engine/rate-limit.js (token bucket)
  'server/compat/fastapi-offline-sync/openapi.ts', // ../../engine/options.js (limit defaults)
  'server/compat/fastapi-offline-sync/push.ts', // ../../engine/shape.js (shape checks)
];

const layerConfigs = LAYERS.map(({ name, files, patterns }) => ({
  name: `layers/${name}`,
  files,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
}));
const faces = LAYERS.find((layer) => layer.name === 'faces');
const faceExceptions = {
  name: 'layers/faces-engine-exceptions',
  files: FACE_ENGINE_EXCEPTIONS,
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: faces.patterns.filter((p) => !p.group.includes('**/engine')) },
    ],
  },
};

export default tseslint.config(
  {
    name: 'ignores',
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.tmp/**',
      '.sync-data/**',
      'coverage/**',
      'reports/**',
      'scripts/mutation/.stryker-tmp/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    name: 'project',
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node, ...globals.browser },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `any` is used on purpose where variance needs it (`SyncEngine<any>`, generic defaults)
      // and in tests that send malformed input; strict tsc is the type gate.
      '@typescript-eslint/no-explicit-any': 'off',
      // Input hygiene matches control characters on purpose (ids, names, header values).
      'no-control-regex': 'off',
      // A named alias of one interface, kept for its own doc comment.
      '@typescript-eslint/no-empty-object-type': [
        'error',
        // `{}` is the rules type of an engine without read rules (`R = {}`): `keyof {}` is never.
        { allowInterfaces: 'with-single-extends', allowObjectTypes: 'always' },
      ],
      // `_`-prefixed names are deliberately unused (a parameter kept for its position).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    name: 'react-hooks',
    files: ['react/**', 'examples/**/*.tsx', 'test/react/**'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  ...layerConfigs,
  faceExceptions,
);
