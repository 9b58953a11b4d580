/** File-type sniffing from the first bytes (pure), for precise "not a video" messages. */

/** What the first bytes say the file is, for the error message when no demuxer accepts it. */
export function sniffKind(head: Uint8Array): { kind: string; video: boolean } {
  const s = (o: number, t: string) => [...t].every((c, i) => head[o + i] === c.charCodeAt(0));
  if (s(0, '\x89PNG')) return { kind: 'a PNG image', video: false };
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { kind: 'a JPEG image', video: false };
  if (s(0, 'GIF8')) return { kind: 'a GIF image', video: false };
  if (s(0, '%PDF')) return { kind: 'a PDF document', video: false };
  if (s(0, 'PK\x03\x04')) return { kind: 'a ZIP archive', video: false };
  if (s(4, 'ftyp') || s(4, 'moov') || s(4, 'mdat') || s(4, 'free') || s(4, 'wide')) return { kind: 'an MP4/QuickTime file', video: true };
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return { kind: 'a Matroska/WebM file', video: true };
  if (s(0, 'RIFF')) return { kind: 'a RIFF (WAV/AVI) file', video: true };
  const n = Math.min(head.length, 512);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i];
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0xc2) printable++;
  }
  if (n > 0 && printable / n > 0.95) return { kind: 'a text file', video: false };
  return { kind: 'not a recognised media file', video: false };
}
