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

/**
 * A text-only turn (no media block): the bundle's template over the system prompt and one
 * user message, with the assistant's generation prompt (the long caption's merge, §10).
 */
export function renderTextPrompt(chatTemplate: string, systemPrompt: string, prompt: string): string {
  const messages = [
    { role: 'system', content: systemPrompt },
    { role: 'user', content: prompt.trim() },
  ];
  return new Template(chatTemplate).render({ messages, add_generation_prompt: true });
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

/**
 * Prompt variants (PIPELINE §5). "official": what the released checkpoint's inference feeds
 * the LLM. train.py:328-329 sets pad_token = bos_token (None for Qwen2); the collator then
 * pads with 151643 only when the tokenizer path contains "qwen", else with eos_token_id =
 * <|im_end|> (av_dataset.py:240-244), builds attention_mask = input_ids != pad_id
 * (av_dataset.py:294), and prepare_inputs_labels_for_multimodal keeps only the unmasked
 * ids (video_salmonn_2.py:416). With the released model's path (no "qwen" in it) every
 * <|im_end|> of the prompt — the system and user turns' — is deleted. "training": the ids
 * as built (training loaded the tokenizer from the OV-Qwen2 base path, so pad = 151643 and
 * nothing was deleted; model/utils.py:41).
 */
export type PromptVariant = 'official' | 'training';
export const PROMPT_VARIANTS: readonly PromptVariant[] = ['official', 'training'];
export const DEFAULT_PROMPT_VARIANT: PromptVariant = 'official';
/** <|im_end|>: Qwen2's eos_token_id, the pad id of the official inference. */
export const OFFICIAL_PAD_ID = 151645;

/** The prompt ids of a variant: "official" drops every id equal to `padId`; "training" keeps all. */
export function applyPromptVariant(ids: PromptIds, variant: PromptVariant, padId: number = OFFICIAL_PAD_ID): PromptIds {
  if (variant === 'training') return { before: [...ids.before], after: [...ids.after] };
  if (variant !== 'official') throw new RangeError(`unknown prompt variant "${String(variant)}"`);
  return { before: ids.before.filter((id) => id !== padId), after: ids.after.filter((id) => id !== padId) };
}

/**
 * The text parts for a report (the CLI's --json promptTokenIds): the ids before and after
 * the audio-visual block in one list, and the index in it where the block goes.
 */
export function promptTokenIdsReport(ids: PromptIds): { ids: number[]; avBlockAt: number } {
  return { ids: [...ids.before, ...ids.after], avBlockAt: ids.before.length };
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
