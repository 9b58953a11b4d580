/** The chosen input file: its preview URL, duration (from the <video> element) and waveform. */
import { create } from 'zustand';
import type { TimeRange } from '../../core/timed/track';
import { decodeWaveform, type Waveform } from '../lib/waveform';

interface MediaState {
  file: File | null;
  /** Object URL of the file for the preview element. */
  url: string | null;
  /** Seconds, once the preview has read the metadata (null for files it cannot play). */
  duration: number | null;
  /** The preview element could not play the file. */
  previewFailed: boolean;
  waveform: Waveform | null;
  waveformStatus: 'none' | 'loading' | 'ready' | 'unavailable';
  /** The time range chosen on the timeline for a local caption; null: the whole file. */
  range: TimeRange | null;
  setRange: (range: TimeRange | null) => void;
  setFile: (file: File | null) => void;
  setDuration: (seconds: number | null) => void;
  setPreviewFailed: () => void;
}

export const useMedia = create<MediaState>((set, get) => ({
  file: null,
  url: null,
  duration: null,
  previewFailed: false,
  waveform: null,
  waveformStatus: 'none',
  range: null,
  setRange: (range) => set({ range }),
  setFile: (file) => {
    const old = get().url;
    if (old) URL.revokeObjectURL(old);
    if (!file) {
      set({ file: null, url: null, range: null, duration: null, previewFailed: false, waveform: null, waveformStatus: 'none' });
      return;
    }
    set({ file, url: URL.createObjectURL(file), range: null, duration: null, previewFailed: false, waveform: null, waveformStatus: 'loading' });
    void decodeWaveform(file).then((waveform) => {
      if (get().file !== file) return;
      set({ waveform, waveformStatus: waveform ? 'ready' : 'unavailable' });
    });
  },
  setDuration: (seconds) => set({ duration: seconds !== null && Number.isFinite(seconds) && seconds > 0 ? seconds : null }),
  setPreviewFailed: () => set({ previewFailed: true }),
}));
