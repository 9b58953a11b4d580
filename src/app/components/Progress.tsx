import { memo } from 'react';
import type { Stage } from '../../core/report';
import type { StageProgress } from '../state/engine';
import { formatBytes, formatPercent, formatRate, formatTime } from '../lib/format';

export const STAGE_LABEL: Record<Stage, string> = {
  bundle: 'Model download',
  session: 'Model setup',
  decode: 'Decoding',
  features: 'Features',
  vision: 'Vision encoder',
  audio: 'Audio encoder',
  prefill: 'Prefill',
  generate: 'Generation',
};

interface Props {
  stages: Partial<Record<Stage, StageProgress>>;
  order: Stage[];
  active: Stage | null;
  tokensPerSecond?: number;
  /** Stages that will not run (e.g. audio in a visual-only run). */
  skipped?: Stage[];
  /** The run has ended: every stage that started counts as done. */
  finished?: boolean;
}

/** One progress line per stage: bar, percent, and the stage's own facts. */
export function StageList({ stages, order, active, tokensPerSecond, skipped = [], finished = false }: Props) {
  return (
    <ol className="stages" aria-label="Progress by stage">
      {order.map((stage) => {
        const p = stages[stage];
        const skip = skipped.includes(stage) && !p;
        const state = skip ? 'skipped' : !p ? 'pending' : finished || (p.fraction >= 1 && stage !== active) ? 'done' : 'active';
        return <StageRow key={stage} stage={stage} state={state} fraction={p ? Math.min(1, p.fraction) : 0} facts={skip ? 'not used' : p ? facts(stage, p, tokensPerSecond) : 'waiting'} />;
      })}
    </ol>
  );
}

/** One stage; memoised, so a token re-renders only the generation row. */
const StageRow = memo(function StageRow({ stage, state, fraction, facts }: { stage: Stage; state: string; fraction: number; facts: string }) {
  return (
    <li className={`stage stage-${state}`} data-testid={`stage-${stage}`} data-state={state}>
      <span className="stage-name">{STAGE_LABEL[stage]}</span>
      <progress max={1} value={fraction} aria-label={`${STAGE_LABEL[stage]} progress`} />
      <span className="stage-facts">{facts}</span>
    </li>
  );
});

/** While bytes come over the network: the speed, and the time left once it is known. */
function downloadFacts(p: StageProgress): string[] {
  if (p.fromCache !== false || !p.bytesPerSecond || p.fraction >= 1) return [];
  return [`${formatBytes(p.bytesPerSecond)}/s`, p.etaSeconds === null || p.etaSeconds === undefined ? '' : `${formatTime(p.etaSeconds)} left`];
}

function facts(stage: Stage, p: StageProgress, tps?: number): string {
  const pct = formatPercent(p.fraction, 0);
  if (stage === 'bundle') {
    const bytes = p.totalBytes ? `${formatBytes(p.loadedBytes ?? 0)} of ${formatBytes(p.totalBytes)}` : '';
    return [pct, bytes, p.fromCache === undefined ? '' : p.fromCache ? 'from cache' : 'downloading', ...downloadFacts(p)].filter(Boolean).join(' · ');
  }
  if (stage === 'generate') return [pct, tps ? formatRate(tps) : ''].filter(Boolean).join(' · ');
  return [pct, p.detail ?? ''].filter(Boolean).join(' · ');
}
