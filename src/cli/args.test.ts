import { describe, expect, it } from 'vitest';
import { DEFAULT_PINS, DEFAULT_BUNDLE, parseArgs, UsageError } from './args';

describe('caption CLI arguments', () => {
  it('takes the file and defaults', () => {
    expect(parseArgs(['clip.mp4'])).toEqual({ file: 'clip.mp4', bundle: DEFAULT_BUNDLE, preset: null, hubEndpoint: null, pins: DEFAULT_PINS, json: false, lowMemory: 'auto', overrides: {}, ask: [], track: null, vtt: null, srt: null, long: null, clip: null, stride: null });
  });

  it('takes the lite preset from the Hub, or from an endpoint given by flag or by HF_ENDPOINT (the flag wins)', () => {
    expect(parseArgs(['x.mp4', '--preset', 'lite'])).toMatchObject({ preset: 'lite', hubEndpoint: null, pins: DEFAULT_PINS });
    expect(parseArgs(['x.mp4', '--preset', 'lite'], { HF_ENDPOINT: 'http://mirror:8080' }).hubEndpoint).toBe('http://mirror:8080');
    expect(parseArgs(['x.mp4', '--preset', 'lite', '--hub-endpoint', 'http://a', '--pins', 'p.json'], { HF_ENDPOINT: 'http://b' })).toMatchObject({ hubEndpoint: 'http://a', pins: 'p.json' });
    expect(() => parseArgs(['x.mp4', '--preset', 'lite', '--bundle', 'b'])).toThrow(/--preset and --bundle both name the model/);
    expect(() => parseArgs(['x.mp4', '--hub-endpoint', 'http://a'])).toThrow(/need --preset lite/);
    expect(() => parseArgs(['x.mp4', '--preset', 'salmonn'])).toThrow(/--preset must be one of lite/);
  });

  it.each([
    // flag value → range (seconds, by hand)
    ['10-20', { start: 10, end: 20 }],
    ['1:10-1:40', { start: 70, end: 100 }],
    ['0:07.5-12', { start: 7.5, end: 12 }],
  ])('--range %s', (v, range) => {
    expect(parseArgs(['x.mp4', '--range', v]).overrides.range).toEqual(range);
  });

  it('refuses bad ranges and track options', () => {
    for (const v of ['20-10', '1:75-2:00', '10', 'a-b']) expect(() => parseArgs(['x.mp4', '--range', v])).toThrow(UsageError);
    expect(() => parseArgs(['x.mp4', '--vtt', 'x.vtt'])).toThrow(/need --track/);
    expect(parseArgs(['x.mp4', '--track', '10', '--vtt', 'a.vtt', '--srt', 'a.srt'])).toMatchObject({ track: 10, vtt: 'a.vtt', srt: 'a.srt' });
  });

  it('reads --track scenes and the long-caption flags (defaults: 10 s clips every 5 s)', () => {
    expect(parseArgs(['x.mp4', '--track', 'scenes', '--vtt', 'a.vtt'])).toMatchObject({ track: 'scenes', vtt: 'a.vtt' });
    expect(parseArgs(['x.mp4', '--long', '500'])).toMatchObject({ long: 500, clip: null, stride: null });
    expect(parseArgs(['x.mp4', '--long', '300', '--clip', '6', '--stride', '3'])).toMatchObject({ long: 300, clip: 6, stride: 3 });
  });

  it.each([
    [['a.mp4', '--track', 'scene'], /--track needs a positive number, got "scene"/],
    [['a.mp4', '--long', '2.5'], /--long needs a positive integer/],
    [['a.mp4', '--clip', '6'], /--clip and --stride need --long WORDS/],
    [['a.mp4', '--long', '300', '--track', '10'], /--long and --track are two different runs/],
    [['a.mp4', '--long', '300', '--range', '0-5'], /--long covers the whole video: drop --range/],
    [['a.mp4', '--long', '300', '--ask', 'why?'], /--ask follows a single caption/],
    [['a.mp4', '--long', '300', '--prompt', 'hi'], /--long writes its own clip and merge prompts/],
    [['a.mp4', '--long', '300', '--clip', '4'], /--stride must be at most the clip length \(4 s\), got 5/],
  ])('rejects long/scene misuse %j', (argv, message) => {
    expect(() => parseArgs(argv as string[])).toThrow(message as RegExp);
  });

  it('collects follow-up questions in order', () => {
    expect(parseArgs(['x.mp4', '--ask', 'What is heard?', '--json', '--ask', 'Who speaks?']).ask).toEqual(['What is heard?', 'Who speaks?']);
    expect(() => parseArgs(['x.mp4', '--ask', '  '])).toThrow(UsageError);
  });

  it('refuses a low-memory mode other than auto, on, off', () => {
    expect(() => parseArgs(['x.mp4', '--low-memory', 'yes'])).toThrow(/--low-memory/);
  });

  it('reads every option', () => {
    const a = parseArgs(['--bundle', 'b', 'x.webm', '--mode', 'v', '--interleave', 'timestamp', '--fps', '0.5', '--max-frames', '8', '--max-new-tokens', '40', '--prompt', 'What happens?', '--low-memory', 'on', '--json']);
    expect(a).toEqual({
      file: 'x.webm',
      bundle: 'b',
      preset: null,
      hubEndpoint: null,
      pins: DEFAULT_PINS,
      json: true,
      lowMemory: 'on',
      overrides: { modality: 'v', interleave: 'timestamp', fps: 0.5, maxFrames: 8, maxNewTokens: 40, prompt: 'What happens?' },
      ask: [],
      track: null,
      vtt: null,
      srt: null,
      long: null,
      clip: null,
      stride: null,
    });
  });

  it('reads the run set-up flags (sampling preset, channel, prompt variant, repetition penalty)', () => {
    expect(parseArgs(['x.mp4', '--sampling', 'checkpoint', '--channel', '0', '--prompt-variant', 'training', '--repetition-penalty', '1.1']).overrides).toEqual({
      sampling: 'checkpoint',
      channel: 0,
      promptVariant: 'training',
      repetitionPenalty: 1.1,
    });
    expect(parseArgs(['x.mp4', '--sampling', 'paper', '--channel', 'mix', '--prompt-variant', 'official']).overrides).toEqual({
      sampling: 'paper',
      channel: 'mix',
      promptVariant: 'official',
    });
    // the preset does not fix φ and m: explicit flags are kept beside it
    expect(parseArgs(['x.mp4', '--sampling', 'checkpoint', '--fps', '2', '--max-frames', '64']).overrides).toEqual({ sampling: 'checkpoint', fps: 2, maxFrames: 64 });
  });

  it('turns sampling flags into a sampling decoder', () => {
    expect(parseArgs(['x.mp4', '--temperature', '0.7', '--seed', '3']).overrides.decoding).toEqual({ kind: 'sample', temperature: 0.7, topP: 1, seed: 3 });
  });

  it.each([
    [[], /no video file/],
    [['a.mp4', 'b.mp4'], /only one video/],
    [['a.mp4', '--mode', 'x'], /--mode must be one of av, v, a/],
    [['a.mp4', '--fps', '0'], /--fps needs a positive number/],
    [['a.mp4', '--max-frames', '2.5'], /--max-frames needs a positive integer/],
    [['a.mp4', '--prompt'], /--prompt needs a value/],
    [['a.mp4', '--bogus'], /unknown option --bogus/],
    [['a.mp4', '--top-p', '1.5'], /--top-p must be at most 1/],
    [['a.mp4', '--sampling', 'fast'], /--sampling must be one of paper, checkpoint/],
    [['a.mp4', '--channel', '1'], /--channel must be one of 0, mix/],
    [['a.mp4', '--prompt-variant', 'raw'], /--prompt-variant must be one of official, training/],
    [['a.mp4', '--repetition-penalty', '0'], /--repetition-penalty needs a positive number/],
    [['a.mp4', '--sampling'], /--sampling needs a value/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseArgs(argv as string[])).toThrow(message as RegExp);
  });
});
