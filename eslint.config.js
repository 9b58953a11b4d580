import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist', 'dist-e2e', 'node_modules', 'public/bundles', 'e2e/fixtures/out', '.test-output', 'models'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,js,mjs}'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The platform-neutral core must not reach for React or the DOM's document/window.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/media/browser.ts', 'src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['react', 'react-dom', 'zustand', '*/app/*', '*/worker/*'] }],
      'no-restricted-globals': ['error', 'document', 'window'],
    },
  },
);
