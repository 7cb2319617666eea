import { Decoder } from '@toondepauw/node-zstd';
import { decompress as fz } from 'fzstd';
// frame: magic, FHD, [window], FCS; blocks of RLE
function frame(fcs: number | undefined, blocks: number, fcsBytes = 4): Buffer {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd];
  if (fcs === undefined) { parts.push(0x00, 0x58); } // no FCS, not single segment, window desc: 2^(10+11)=2MB
  else { parts.push(0x80 | 0x00, 0x58); parts.push(fcs & 255, (fcs >>> 8) & 255, (fcs >>> 16) & 255, (fcs >>> 24) & 255); }
  for (let b = 0; b < blocks; b++) {
    const last = b === blocks - 1 ? 1 : 0;
    const size = 131072;
    const h = last | (1 << 1) | (size << 3); // RLE block
    parts.push(h & 255, (h >>> 8) & 255, (h >>> 16) & 255, 0);
  }
  return Buffer.from(parts);
}
const mode = process.argv[2];
const f = frame(mode === 'nofcs' ? undefined : 100, 4000);
console.log('compressed', f.length, 'expands to', 4000 * 131072);
const t = performance.now();
try { const out = process.argv[3] === 'fz' ? fz(f) : new Decoder().decodeSync(f); console.log('out', out.length); } catch (e) { console.log('error', String(e).slice(0, 200)); }
console.log('ms', Math.round(performance.now() - t), 'maxRSS MB', Math.round(process.resourceUsage().maxRSS / 1024));
