import { existsSync } from 'node:fs';
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
