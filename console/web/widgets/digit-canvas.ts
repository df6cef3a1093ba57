/** A 28x28 grey picture of an input, drawn at 3x with crisp pixels. */
import { h } from '../dom.js';

const SIDE = 28;

export function digitCanvas(grey: readonly number[], label: string): HTMLCanvasElement {
  const canvas = h('canvas', { width: SIDE, height: SIDE, role: 'img', 'aria-label': label });
  const context = canvas.getContext('2d');
  if (!context) return canvas;
  const image = context.createImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const value = grey[i] ?? 0;
    image.data.set([value, value, value, 255], i * 4);
  }
  context.putImageData(image, 0, 0);
  return canvas;
}
