// A fake camera for Chromium (--use-file-for-fake-video-capture): a Y4M file of a few frames.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes a 4:2:0 Y4M clip of `frames` frames, a bright square moving over a dark background (a "sign").
 * @param {string} dir
 * @param {{ width?: number, height?: number, frames?: number }} [options]
 * @returns {{ file: string, width: number, height: number }}
 */
export function makeCameraY4m(dir, { width = 320, height = 240, frames = 10 } = {}) {
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`, 'ascii');
  const chroma = (width / 2) * (height / 2);
  /** @type {Buffer[]} */
  const parts = [header];
  for (let f = 0; f < frames; f++) {
    const luma = Buffer.alloc(width * height, 40);
    const x0 = (f * 16) % (width - 80);
    for (let y = 80; y < 160; y++) luma.fill(230, y * width + x0, y * width + x0 + 80);
    parts.push(Buffer.from('FRAME\n', 'ascii'), luma, Buffer.alloc(chroma, 128), Buffer.alloc(chroma, 128));
  }
  const file = path.join(dir, 'camera.y4m');
  writeFileSync(file, Buffer.concat(parts));
  return { file, width, height };
}
