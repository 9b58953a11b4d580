/**
 * Media ingestion (PIPELINE §1 frames, §3 audio), platform-neutral part. The decoding
 * sides are imported directly: `./browser` (mediabunny + WebCodecs, inside the worker) and
 * `./node` (ffmpeg / ffprobe, CLI and tests); both implement `MediaSource` from `./types`.
 */
export * from './plan';
export * from './pipeline';
export * from './resample';
export * from './sniff';
export * from './types';
export * from './yuv';
export { MemoryMediaSource, type MemoryMediaInput } from './memory-source';
