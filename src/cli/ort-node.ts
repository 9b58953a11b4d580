/** onnxruntime-node for the CLI and the Node tests: the same API as onnxruntime-web. */
import * as ort from 'onnxruntime-node';
import type { Ort } from '../core/runtime/ort';

export function ortNode(): Ort {
  return ort as unknown as Ort;
}
