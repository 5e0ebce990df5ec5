import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeWav } from '../../src/media/audio/wav.js';

const run = promisify(execFile);
const POCKETSPHINX = '/usr/bin/pocketsphinx_continuous';
export const pocketsphinxInstalled = existsSync(POCKETSPHINX) && existsSync('/usr/share/pocketsphinx/model/en-us/en-us');

/**
 * Recognises 8 kHz speech with pocketsphinx (Debian), constrained by a grammar made from the
 * expected text: its words in order, each optional. The en-us model is 16 kHz, so the audio is
 * upsampled with sox first; telephone-band speech loses some words that way, which is why callers
 * check for most key words rather than all.
 */
export async function recogniseWords(pcm: Int16Array, expectedText: string): Promise<string[]> {
  const words = expectedText.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean);
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-asr-'));
  try {
    await writeFile(join(dir, 'in8k.wav'), encodeWav(pcm));
    await run('sox', [join(dir, 'in8k.wav'), '-r', '16000', join(dir, 'in16k.wav')]);
    const grammar = `#JSGF V1.0;\ngrammar prompt;\npublic <utterance> = ${words.map((w) => `[${w}]`).join(' ')};\n`;
    await writeFile(join(dir, 'prompt.jsgf'), grammar);
    const { stdout } = await run(POCKETSPHINX, ['-infile', join(dir, 'in16k.wav'), '-jsgf', join(dir, 'prompt.jsgf'), '-logfn', '/dev/null'], { timeout: 30_000 });
    return stdout.split(/\s+/).filter(Boolean);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
