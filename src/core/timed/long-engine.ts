/**
 * Long captions (long-caption.ts) run by an Engine: a clip is a local caption (`range`)
 * with the clip prompt, the merge a text-only turn (Engine.complete). The merge budget is
 * the bundle's: context = llm.maxPositions minus the answer's budget (maxNewTokens as
 * resolved from the manifest and the request), counted in the full template's tokens.
 */
import type { BundleManifest } from '../bundle/manifest';
import type { SessionEvents } from '../session';
import { resolveOptions, type CaptionRequest } from '../options';
import type { CaptionReport, CompletionReport } from '../report';
import type { LongCaptionModel } from './long-caption';
import type { TimeRange } from './track';

/** What the long caption needs of an engine (InProcessEngine; WorkerEngine has the same requests). */
export interface LongCaptionEngine {
  caption(mediaId: string, request?: CaptionRequest, events?: SessionEvents): Promise<CaptionReport>;
  complete(prompt: string, request?: CaptionRequest, events?: SessionEvents): Promise<CompletionReport>;
}

/** LongCaptioning's clip level (PIPELINE §10): 10 s windows every 5 s. */
export const LONG_CLIP_SECONDS = 10;
export const LONG_STRIDE_SECONDS = 5;
/** The app's default target length (words) of a long caption; the CLI's --long always names one. */
export const LONG_TARGET_WORDS = 300;

/** Tokens a merge prompt may take: the model's positions minus the answer's budget. */
export function mergeContextTokens(manifest: Pick<BundleManifest, 'llm' | 'sampling' | 'interleave' | 'prompt' | 'generation'>, request: CaptionRequest = {}): number {
  return manifest.llm.maxPositions - resolveOptions(manifest, request).maxNewTokens;
}

export interface EngineLongCaptionModel extends LongCaptionModel {
  /** Every clip's caption report and every merge's completion report, in call order. */
  readonly clipReports: CaptionReport[];
  readonly mergeReports: CompletionReport[];
}

export interface EngineLongCaptionSetup {
  manifest: BundleManifest;
  /** Prompt tokens of a text-only turn (InProcessEngine.completionTokens). */
  countTokens: (text: string) => number;
  /** The run's settings (decoding, sampling…) for clips and merges alike; `prompt` and `range` are the long caption's. */
  request?: CaptionRequest;
  events?: SessionEvents;
  /** Override of the merge budget (tests: a small context forces hierarchical merges). */
  contextTokens?: number;
}

export function engineLongCaptionModel(engine: LongCaptionEngine, mediaId: string, setup: EngineLongCaptionSetup): EngineLongCaptionModel {
  const request = setup.request ?? {};
  const clipReports: CaptionReport[] = [];
  const mergeReports: CompletionReport[] = [];
  return {
    clipReports,
    mergeReports,
    async captionClip(clip: TimeRange, prompt: string) {
      const r = await engine.caption(mediaId, { ...request, prompt, range: { start: clip.start, end: clip.end } }, setup.events);
      clipReports.push(r);
      return r.caption;
    },
    async complete(prompt: string) {
      const r = await engine.complete(prompt, request, setup.events);
      mergeReports.push(r);
      return r.answer;
    },
    countTokens: setup.countTokens,
    contextTokens: setup.contextTokens ?? mergeContextTokens(setup.manifest, request),
  };
}
