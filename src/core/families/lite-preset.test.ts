/**
 * The lite preset record (models/presets.json) and its one source of pins (models/lite/pins.json):
 * every file at an absolute URL with a 40-hex commit, the download within 1.2 GB, the
 * licence and the features each variant needs, and a label that never claims video-SALMONN 2.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface PresetFile { role: string; url: string; approxBytes: number | null; sha256: string | null }
interface Variant { dtype: string; url: string; requires: string[]; approxBytes: number | null; files: PresetFile[] }
interface Preset { id: string; label: string; kind: string; family?: string; defaultCandidate?: boolean; sizeBytes: number; licence?: string; description: string; variants?: Variant[] }

const presets = (JSON.parse(readFileSync('models/presets.json', 'utf8')) as { presets: Preset[] }).presets;
const pins = JSON.parse(readFileSync('models/lite/pins.json', 'utf8')) as Record<string, { repo: string; revision: string }> & {
  variants: Record<string, { requires: string[]; graphs: Record<string, { repo: string; path: string; approxBytes: number | null }> }>;
};
const lite = presets.find((p) => p.id === 'lite')!;

describe('the lite preset', () => {
  it('is a public-exports preset of the lite family, marked as the default candidate, and says what it is not', () => {
    expect(lite).toMatchObject({ kind: 'public', family: 'llava-onevision-whisper', defaultCandidate: true });
    expect(lite.label).toMatch(/not video-SALMONN 2/);
    expect(lite.description).toMatch(/not video-SALMONN 2/);
    expect(lite.description).toMatch(/non-speech sound/);
    expect(lite.licence).toMatch(/Apache-2\.0/);
  });

  it('pins every file by commit hash, in one place (pins.json), and lists the same files', () => {
    for (const key of ['llava', 'whisper', 'ast']) expect(pins[key].revision).toMatch(/^[0-9a-f]{40}$/);
    for (const v of lite.variants!) {
      for (const f of v.files) {
        expect(f.url).toMatch(/^https:\/\/huggingface\.co\/[\w.-]+\/[\w.-]+\/resolve\/[0-9a-f]{40}\//);
        if (f.sha256 !== null) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
      }
      const graphs = Object.entries(pins.variants[v.dtype].graphs).map(([role, g]) => ({ role, url: `https://huggingface.co/${pins[g.repo].repo}/resolve/${pins[g.repo].revision}/${g.path}` }));
      expect(v.files.filter((f) => f.role !== 'tokenizer').map(({ role, url }) => ({ role, url }))).toEqual(graphs);
    }
  });

  it('needs shader-f16 for q4f16, 4-bit kernels (WebGPU or Node) for q4, nothing for q8 (WASM), as the pins say, and downloads at most 1.2 GB (the sizes known from the Hub pages)', () => {
    const byDtype = Object.fromEntries(lite.variants!.map((v) => [v.dtype, v]));
    expect(lite.variants!.map((v) => v.dtype)).toEqual(['q4f16', 'q4', 'q8']);
    expect(byDtype.q4f16.requires).toContain('shader-f16');
    expect(byDtype.q4.requires).toEqual(['4-bit-kernels']);
    expect(byDtype.q8.requires).toEqual([]);
    for (const v of lite.variants!) expect(v.requires, v.dtype).toEqual(pins.variants[v.dtype].requires);
    for (const v of lite.variants!) {
      const known = v.files.reduce((n, f) => n + (f.approxBytes ?? 0), 0);
      expect(known).toBeLessThanOrEqual(1.2e9);
    }
    expect(byDtype.q4f16.approxBytes).toBeLessThanOrEqual(1.2e9);
    expect(lite.sizeBytes).toBeLessThanOrEqual(1.2e9);
  });
});

describe('buildLiteManifest (what the Hub loader builds at load time), on the fixture\'s copies of the public config files', () => {
  const dir = 'public/bundles/lite-fixture';
  const read = (p: string) => JSON.parse(readFileSync(`${dir}/${p}`, 'utf8'));
  const fixture = read('bundle.json');
  const sources = {
    config: read('config.json'),
    addedTokens: read('added_tokens.json'),
    chatTemplate: read('chat_template.json').chat_template,
    videoProcessor: read('video_processor/preprocessor_config.json'),
    generation: read('generation_config.json'),
    whisperConfig: read('whisper/config.json'),
    whisperGeneration: read('whisper/generation_config.json'),
    whisperPreprocessor: read('whisper/preprocessor_config.json'),
    astConfig: read('ast/config.json'),
    astPreprocessor: read('ast/preprocessor_config.json'),
  };
  const files = {
    graphs: fixture.graphs,
    tokenizer: fixture.tokenizer.files,
    name: fixture.name,
    description: fixture.description,
    randomWeights: true,
  };

  it('reads the same numbers, token ids, template and graph ports the fixture was built with, and the app accepts it', async () => {
    const { buildLiteManifest } = await import('./lite-preset');
    const { validateManifest } = await import('../bundle/validate');
    const built = buildLiteManifest(sources, files) as typeof fixture;
    for (const k of ['format', 'version', 'family', 'graphs', 'tokenizer', 'vision', 'audio', 'llm', 'interleave']) expect(built[k], k).toEqual(fixture[k]);
    expect(built.prompt.chatTemplate).toBe(fixture.prompt.chatTemplate);
    expect(built.generation.stopTokenIds).toEqual(fixture.generation.stopTokenIds);
    expect(built.lite.vision).toEqual(fixture.lite.vision);
    const { maxNewTokens: _a, ...tokens } = built.lite.speech.tokens;
    const { maxNewTokens: _b, ...expected } = fixture.lite.speech.tokens;
    expect(tokens).toEqual(expected);
    expect(built.lite.speech.tokens.maxNewTokens).toBe(224); // max_target_positions 448 / 2
    expect({ ...built.lite.speech, tokens: undefined }).toEqual({ ...fixture.lite.speech, tokens: undefined });
    // the sound tagger: 527 labels from id2label, ASTFeatureExtractor's numbers, torchaudio's fbank defaults
    expect(built.lite.sounds).toEqual(fixture.lite.sounds);
    expect(built.lite.sounds).toMatchObject({ sampleRate: 16000, numMels: 128, frameLength: 400, frameShift: 160, preemphasis: 0.97, lowFreq: 20, maxFrames: 1024, mean: -4.2677393, std: 4.5689974 });
    expect(built.lite.sounds.labels).toHaveLength(527);
    expect(validateManifest(built).family).toBe('llava-onevision-whisper');
    // without the tagger's files the bundle has neither the graph nor lite.sounds
    const { sound_tagger: _t, ...graphs } = files.graphs;
    const plain = buildLiteManifest({ ...sources, astConfig: undefined, astPreprocessor: undefined }, { ...files, graphs }) as typeof fixture;
    expect(plain.graphs.sound_tagger).toBeUndefined();
    expect(plain.lite.sounds).toBeUndefined();
    expect(validateManifest(plain).family).toBe('llava-onevision-whisper');
  });

  it('stops on a repo whose token ids or feature strategy do not fit the family', async () => {
    const { buildLiteManifest } = await import('./lite-preset');
    expect(() => buildLiteManifest({ ...sources, addedTokens: { ...sources.addedTokens, '<video>': 1 } }, files)).toThrow(/video_token_index 151647 vs added_tokens\.json <video> 1/);
    expect(() => buildLiteManifest({ ...sources, config: { ...sources.config, vision_feature_select_strategy: 'default' } }, files)).toThrow(/vision_feature_select_strategy default/);
    expect(() => buildLiteManifest({ ...sources, astPreprocessor: { ...sources.astPreprocessor, feature_extractor_type: 'WhisperFeatureExtractor' } }, files)).toThrow(/AST feature_extractor_type WhisperFeatureExtractor/);
    const gap = { ...sources.astConfig.id2label };
    delete gap['7'];
    expect(() => buildLiteManifest({ ...sources, astConfig: { ...sources.astConfig, id2label: gap } }, files)).toThrow(/AST config\.json id2label/);
  });
});
