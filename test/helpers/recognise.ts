import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { PocketsphinxProvider } from '../../src/speech/stt/index.js';

export const pocketsphinxInstalled = existsSync('/usr/bin/pocketsphinx_continuous') && existsSync('/usr/share/pocketsphinx/model/en-us/en-us');

/**
 * Recognises 8 kHz speech with pocketsphinx (Debian) through the project's own adapter,
 * constrained by a grammar made from the expected text: its words in order, each optional. The
 * en-us model is 16 kHz, and telephone-band speech still loses some words, which is why callers
 * check for most key words rather than all.
 */
export async function recogniseWords(pcm: Int16Array, expectedText: string): Promise<string[]> {
  const words = expectedText.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean);
  const jsgf = `#JSGF V1.0;\ngrammar prompt;\npublic <utterance> = ${words.map((w) => `[${w}]`).join(' ')};\n`;
  const transcript = await new PocketsphinxProvider().transcribe(pcm, { language: 'en-US', jsgf });
  return transcript.text.split(/\s+/).filter(Boolean);
}

/** pocketsphinx processes this process started and that still run. */
export async function recognisersRunning(): Promise<number> {
  let count = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.startsWith('pocketsphinx_continuous') || cmdline.includes('/pocketsphinx_continuous\0')) {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      // Only our own children count: other test files may run pocketsphinx at the same time.
      if (stat.split(' ')[3] === String(process.pid)) count++;
    }
  }
  return count;
}
