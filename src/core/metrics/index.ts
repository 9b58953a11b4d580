export * from './text.ts';
export * from './diff.ts';
