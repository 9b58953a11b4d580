/**
 * Every error code of src/core/errors.ts as a readable title and what to do next. The
 * worker's own message (with the file name, codec, …) is shown under the title.
 */
import type { ErrorCode, SerializedError } from '../../core/errors';

export interface ErrorText {
  title: string;
  advice: string;
}

export const ERROR_TEXT: Record<ErrorCode, ErrorText> = {
  'media/empty-file': { title: 'The file is empty', advice: 'It has 0 bytes. Pick the video again; if it was copied or downloaded, copy it again.' },
  'media/not-a-video': {
    title: 'This is not a video or audio file',
    advice: 'The file’s content is not a media container the browser can read (MP4, MOV, WebM, MKV, M4A…), whatever its name says. Pick a real video file.',
  },
  'media/corrupt': { title: 'The file is damaged', advice: 'Its container is cut off or broken. Copy or download the video again, or re-encode it (for example with ffmpeg) and try again.' },
  'media/unsupported-codec': {
    title: 'This browser cannot decode the video’s codec',
    advice: 'Re-encode the video as H.264/AAC or VP9/Opus (for example: ffmpeg -i in.mp4 -c:v libx264 -c:a aac out.mp4), or try another browser.',
  },
  'media/no-tracks': { title: 'No video or audio in the file', advice: 'The container holds neither a video nor an audio track. Pick another file.' },
  'media/bad-range': { title: 'That time range is not in the video', advice: 'Choose a range inside the video, at least one frame long.' },
  'media/no-video-track': { title: 'The file has no video track', advice: 'Choose the “audio only” modality in the settings, or pick a file with video.' },
  'media/no-audio-track': { title: 'The file has no audio track', advice: 'Choose “visual only” or “audio + visual” in the settings (the caption then uses the frames only).' },
  'media/too-short': { title: 'The video is too short', advice: 'It has no frames to sample. Pick a longer clip.' },
  'media/decode-failed': { title: 'Decoding the video failed', advice: 'Part of the file could not be decoded (often a damaged or truncated file). Re-encode or re-download it and try again.' },
  'bundle/not-found': { title: 'The model was not found', advice: 'No bundle.json at this address or in this folder. Check the URL (it must be the folder holding bundle.json), or export the model first (models/README.md).' },
  'bundle/bad-manifest': { title: 'The model’s bundle.json is invalid', advice: 'The bundle was exported wrongly or with another version. Re-export it with models/export/export.py.' },
  'bundle/missing-file': { title: 'A model file is missing', advice: 'The bundle is incomplete. Copy or upload the whole bundle folder again, then load it again.' },
  'bundle/integrity': { title: 'A model file is damaged', advice: 'Its checksum does not match bundle.json. Delete the cached copy (Cached models below) and load it again, or re-export it.' },
  'bundle/download-failed': { title: 'The model download failed', advice: 'Check your connection and load the model again; files already verified stay cached.' },
  'bundle/graph-contract': {
    title: 'A model graph does not match its manifest',
    advice: 'A graph lacks an input or output that bundle.json names (the message says which). The files come from different exports: re-export the bundle or download it again.',
  },
  'bundle/unknown-family': { title: 'This app cannot run that kind of model', advice: 'bundle.json names a model family this version does not know. Update the app or load another model.' },
  'bundle/quota': { title: 'Not enough storage for the model', advice: 'The browser does not grant this site enough space to keep the model. Free disk space or delete cached models (below), then load it again; nothing half-written was kept.' },
  'bundle/unsupported': { title: 'This model cannot run on this device', advice: 'The message says what this GPU or browser lacks. Pick a smaller or differently quantised variant, or use a machine with a GPU that has it.' },
  'runtime/no-backend': { title: 'No compute backend could run the model', advice: 'Neither WebGPU nor WASM worked in this browser. Try a current Chrome, Edge or Firefox.' },
  'runtime/session-create': { title: 'The model could not be started', advice: 'Creating the ONNX sessions failed. Turn on “Force WASM” and load again; on WebGPU, a GPU with more memory may be needed.' },
  'runtime/device-lost': { title: 'The GPU stopped working during the run', advice: 'The driver reset or ran out of memory. The model is being reloaded on WASM: run the caption again.' },
  'runtime/out-of-memory': { title: 'Out of memory', advice: 'Lower “max frames”, “frames per second” or “max new tokens”, close other tabs, or use a smaller model.' },
  'runtime/interrupted': { title: 'Cancelled', advice: 'The run was stopped. Any text generated so far is kept; start it again whenever you like.' },
  'runtime/no-conversation': { title: 'Nothing to follow up on', advice: 'Caption the video first; a question continues the conversation of its caption.' },
  'runtime/busy': { title: 'Still working', advice: 'Another run is in progress. Wait for it or cancel it first.' },
  'runtime/internal': { title: 'Something went wrong inside the app', advice: 'Reload the page and try again. If it happens again, please report it with the message below.' },
};

const UNKNOWN: ErrorText = { title: 'Unexpected error', advice: 'Reload the page and try again.' };

export function describeError(e: Pick<SerializedError, 'code'> | null | undefined): ErrorText {
  if (!e) return UNKNOWN;
  return ERROR_TEXT[e.code] ?? UNKNOWN;
}
