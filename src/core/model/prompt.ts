/**
 * The prompt around the audio-visual block (PIPELINE §5) and streaming detokenisation.
 *
 * The checkpoint (llava/dataset/preprocess_utils.py, preprocess_qwen) tokenises the user
 * turn in pieces: tokenizer("<|im_start|>user") + "\n" + [AV block] + "\n" +
 * tokenizer("\n" + question) + <|im_end|> + "\n", then "<|im_start|>assistant\n". So the
 * block is followed by two separate "\n" tokens (198, 198), never the merged "\n\n"
 * (271) a one-piece tokenisation would give. We render the bundle's ChatML template
 * with a marker where the block goes (user text "<marker>\n<question>", as the
 * checkpoint's "<image>\n" + question), split there, and add the checkpoint's extra "\n".
 */

import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import type { PromptConfig } from '../bundle/manifest.ts';

/** Token ids before and after the audio-visual block; the block itself goes between. */
export interface PromptIds {
  before: number[];
  after: number[];
}

/** The tokenizer surface the runtime uses (an `@huggingface/tokenizers` Tokenizer fits). */
export interface TextTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
}

/** Builds a tokenizer from the bundle's tokenizer.json and tokenizer_config.json objects. */
export function loadTokenizer(tokenizerJson: object, tokenizerConfig: object): Tokenizer {
  return new Tokenizer(tokenizerJson, tokenizerConfig);
}

const AV_MARKER = '<<salmonn-av-block>>';

/** ChatML text before and after the block, from the bundle's Jinja template. */
export function renderPromptText(chatTemplate: string, systemPrompt: string, question: string): { before: string; after: string } {
  if (question.includes(AV_MARKER)) throw new RangeError('the question contains the internal block marker');
  const messages = [
    { role: 'system', content: systemPrompt },
    { role: 'user', content: `${AV_MARKER}\n${question.trim()}` },
  ];
  const text = new Template(chatTemplate).render({ messages, add_generation_prompt: true });
  const parts = text.split(AV_MARKER);
  if (parts.length !== 2) throw new RangeError(`chat template rendered the user content ${parts.length - 1} times, expected once`);
  return { before: parts[0], after: parts[1] };
}

function encode(tokenizer: TextTokenizer, text: string): number[] {
  return tokenizer.encode(text, { add_special_tokens: false }).ids;
}

/**
 * Prompt ids as the checkpoint builds them: `before` = system turn + "<|im_start|>user\n";
 * `after` = "\n" + tokens("\n" + question + "<|im_end|>\n<|im_start|>assistant\n").
 */
export function buildPromptIds(tokenizer: TextTokenizer, prompt: Pick<PromptConfig, 'chatTemplate' | 'systemPrompt'>, question: string): PromptIds {
  const { before, after } = renderPromptText(prompt.chatTemplate, prompt.systemPrompt, question);
  return { before: encode(tokenizer, before), after: [...encode(tokenizer, '\n'), ...encode(tokenizer, after)] };
}

/** Total prefill length L for a block of `avTokens` rows. */
export function promptLength(ids: PromptIds, avTokens: number): number {
  return ids.before.length + avTokens + ids.after.length;
}

/**
 * Incremental detokeniser for streaming: push ids one by one, get text deltas. A delta
 * never ends in a broken multi-byte character: while the decoded text ends with U+FFFD
 * (an incomplete UTF-8 sequence split across byte-level tokens) it is held back.
 * Decodes only the tokens since the last emitted boundary, so the cost stays linear.
 */
export class StreamingDetokenizer {
  private readonly ids: number[] = [];
  private prefixOffset = 0; // start of the decode window (a character boundary)
  private readOffset = 0; // ids up to here have been emitted
  private emitted = '';

  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly skipSpecialTokens = true,
  ) {}

  /** All text emitted so far. */
  get text(): string {
    return this.emitted;
  }

  push(id: number): string {
    this.ids.push(id);
    const prefix = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const full = this.decode(this.ids.slice(this.prefixOffset));
    if (full.length <= prefix.length || full.endsWith('\uFFFD')) return '';
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return this.emit(full.slice(prefix.length));
  }

  /** Emits whatever is held back (at the end of generation), broken characters included. */
  flush(): string {
    if (this.readOffset === this.ids.length) return '';
    const prefix = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const full = this.decode(this.ids.slice(this.prefixOffset));
    this.prefixOffset = this.readOffset = this.ids.length;
    return this.emit(full.slice(prefix.length));
  }

  private decode(ids: number[]): string {
    return ids.length ? this.tokenizer.decode(ids, { skip_special_tokens: this.skipSpecialTokens }) : '';
  }

  private emit(delta: string): string {
    this.emitted += delta;
    return delta;
  }
}

/**
 * The ChatML text of one more user turn and the assistant's generation prompt, from the
 * bundle's template: render(system + user) minus render(system), so the template alone
 * decides the turn's markup ("<|im_start|>user\n…<|im_end|>\n<|im_start|>assistant\n").
 */
export function renderTurnText(prompt: Pick<PromptConfig, 'chatTemplate' | 'systemPrompt'>, question: string): string {
  const template = new Template(prompt.chatTemplate);
  const system = { role: 'system', content: prompt.systemPrompt };
  const head = template.render({ messages: [system], add_generation_prompt: false });
  const full = template.render({ messages: [system, { role: 'user', content: question.trim() }], add_generation_prompt: true });
  if (!full.startsWith(head)) throw new RangeError('the chat template does not render a conversation as a prefix of its continuation');
  return full.slice(head.length);
}
