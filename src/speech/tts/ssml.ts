/**
 * Turns a speak payload into a plan: stretches of plain text, each with a speaking rate, and
 * pauses. Engines only ever see plain text, so every engine honours the same SSML subset in the
 * same way and none has to parse markup.
 *
 * The XML reader is hand-written because SSML payloads are small and flat, and because the
 * interesting decisions are about tolerance: unknown elements (`<amazon:effect>`, `<emphasis>`)
 * are dropped with their text kept, a bare `&` is read as itself, but structure that cannot be
 * understood (unclosed or mismatched tags, a `<` that starts no tag) is `invalid_ssml` rather than
 * spoken as garbage.
 */
import { TtsError } from './errors.js';
import { sayAs } from './spoken-forms.js';

export type SpeechPlanItem = { text: string; rate: number } | { pauseMs: number };
export type SpeechPlan = SpeechPlanItem[];

export interface PlanOptions {
  /** Language of the speech; say-as wording depends on it. Defaults to `en-US`. */
  language?: string;
}

/**
 * Pauses by `<break strength>`. `<s>` ends with a medium pause and `<p>` with a strong one; a
 * `<break>` with neither attribute is medium, as in SSML 1.1.
 */
export const BREAK_STRENGTH_MS: Readonly<Record<string, number>> = {
  'none': 0,
  'x-weak': 100,
  'weak': 250,
  'medium': 400,
  'strong': 700,
  'x-strong': 1000,
};
const SENTENCE_PAUSE_MS = BREAK_STRENGTH_MS.medium as number;
const PARAGRAPH_PAUSE_MS = BREAK_STRENGTH_MS.strong as number;
/** Polly's limit for one break; longer values are clamped to it. */
export const MAX_BREAK_MS = 10_000;

/** `<prosody rate>` keywords as multipliers of the normal pace. */
export const PROSODY_RATES: Readonly<Record<string, number>> = {
  'x-slow': 0.6,
  'slow': 0.8,
  'medium': 1,
  'default': 1,
  'fast': 1.2,
  'x-fast': 1.5,
};
const MIN_RATE = 0.2;
const MAX_RATE = 4;

/** The plan for a payload: plain text is one stretch at normal rate; SSML is parsed. */
export function planSpeech(payload: string, payloadType: 'text' | 'ssml', options: PlanOptions = {}): SpeechPlan {
  if (payloadType === 'ssml') return parseSsml(payload, options);
  const text = normalizeSpace(payload);
  return text === '' ? [] : [{ text, rate: 1 }];
}

export function parseSsml(ssml: string, options: PlanOptions = {}): SpeechPlan {
  const builder = new PlanBuilder();
  const walker = new Walker(builder, options.language ?? 'en-US');
  for (const node of parseMarkup(ssml)) walker.visit(node, 1);
  return builder.finish();
}

// ---------------------------------------------------------------------------------------------
// Markup → tree

interface Element {
  name: string;
  attributes: Map<string, string>;
  children: Node[];
}
type Node = Element | string;

const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

const OPEN_TAG = /<([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*(\/?)>/y;
const CLOSE_TAG = /<\/\s*([A-Za-z_][\w.:-]*)\s*>/y;
const ATTRIBUTE = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
const ENTITY = /&(#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);/y;

function malformed(message: string): TtsError {
  return new TtsError('invalid_ssml', `invalid SSML: ${message}`);
}

function decodeEntities(text: string): string {
  let out = '';
  let at = 0;
  while (at < text.length) {
    const amp = text.indexOf('&', at);
    if (amp < 0) break;
    out += text.slice(at, amp);
    ENTITY.lastIndex = amp;
    const match = ENTITY.exec(text);
    const body = match?.[1];
    let decoded: string | undefined;
    if (body !== undefined) {
      if (body.startsWith('#x')) decoded = fromCodePoint(parseInt(body.slice(2), 16));
      else if (body.startsWith('#')) decoded = fromCodePoint(parseInt(body.slice(1), 10));
      else decoded = NAMED_ENTITIES[body];
    }
    if (match !== null && decoded !== undefined) {
      out += decoded;
      at = amp + match[0].length;
    } else {
      // "AT&T" and HTML entities such as &nbsp; are read literally rather than rejected.
      out += '&';
      at = amp + 1;
    }
  }
  return out + text.slice(at);
}

function fromCodePoint(code: number): string | undefined {
  return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
}

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of source.matchAll(ATTRIBUTE)) {
    const name = match[1];
    if (name === undefined) continue;
    attributes.set(name.toLowerCase(), decodeEntities(match[2] ?? match[3] ?? match[4] ?? ''));
  }
  return attributes;
}

function parseMarkup(source: string): Node[] {
  const root: Element = { name: '#root', attributes: new Map(), children: [] };
  const stack: Element[] = [root];
  const top = (): Element => stack[stack.length - 1] as Element;
  let at = 0;

  const skipPast = (terminator: string, what: string): void => {
    const end = source.indexOf(terminator, at);
    if (end < 0) throw malformed(`unterminated ${what} at offset ${at}`);
    at = end + terminator.length;
  };

  while (at < source.length) {
    const lt = source.indexOf('<', at);
    const textEnd = lt < 0 ? source.length : lt;
    if (textEnd > at) top().children.push(decodeEntities(source.slice(at, textEnd)));
    at = textEnd;
    if (lt < 0) break;

    if (source.startsWith('<!--', at)) {
      skipPast('-->', 'comment');
    } else if (source.startsWith('<![CDATA[', at)) {
      const end = source.indexOf(']]>', at);
      if (end < 0) throw malformed(`unterminated CDATA section at offset ${at}`);
      top().children.push(source.slice(at + 9, end));
      at = end + 3;
    } else if (source.startsWith('<?', at)) {
      skipPast('?>', 'processing instruction');
    } else if (source.startsWith('<!', at)) {
      skipPast('>', 'declaration');
    } else if (source.startsWith('</', at)) {
      CLOSE_TAG.lastIndex = at;
      const match = CLOSE_TAG.exec(source);
      if (match === null) throw malformed(`malformed closing tag at offset ${at}`);
      const name = match[1] as string;
      const open = top();
      if (open === root) throw malformed(`</${name}> at offset ${at} closes nothing`);
      if (open.name !== name) throw malformed(`</${name}> at offset ${at} does not close <${open.name}>`);
      stack.pop();
      at += match[0].length;
    } else {
      OPEN_TAG.lastIndex = at;
      const match = OPEN_TAG.exec(source);
      if (match === null) {
        const excerpt = source.slice(at, at + 20).replace(/\s+/g, ' ');
        throw malformed(`"<" at offset ${at} does not start a tag ("${excerpt}"); write &lt; for a literal "<"`);
      }
      const element: Element = { name: match[1] as string, attributes: parseAttributes(match[2] ?? ''), children: [] };
      top().children.push(element);
      if (match[3] !== '/') stack.push(element);
      at += match[0].length;
    }
  }
  if (stack.length > 1) throw malformed(`<${top().name}> is never closed`);
  return root.children;
}

// ---------------------------------------------------------------------------------------------
// Tree → plan

type DraftItem = { text: string; rate: number } | { pauseMs: number; soft: boolean };

/**
 * Collects the plan. Pauses that come from structure (`<s>`, `<p>`) are soft: next to another
 * pause they merge by taking the longer, and at the very start or end they vanish. Explicit
 * `<break>`s are hard: two in a row add up, and one at the start or end is kept.
 */
class PlanBuilder {
  private readonly items: DraftItem[] = [];

  text(text: string, rate: number): void {
    const last = this.items[this.items.length - 1];
    if (last !== undefined && 'text' in last && last.rate === rate) last.text += text;
    else this.items.push({ text, rate });
  }

  pause(ms: number, soft: boolean): void {
    // strength="none" asks for no break at all, not for a zero-length one between two stretches.
    if (ms <= 0) return;
    // Whitespace between tags is not speech: it must not separate two pauses.
    let index = this.items.length - 1;
    while (index >= 0) {
      const item = this.items[index] as DraftItem;
      if (!('text' in item) || item.text.trim() !== '') break;
      index--;
    }
    const last = this.items[index];
    if (last !== undefined && 'pauseMs' in last) {
      this.items.length = index + 1;
      if (last.soft || soft) last.pauseMs = Math.max(last.pauseMs, ms);
      else last.pauseMs += ms;
      last.soft = last.soft && soft;
      return;
    }
    if (soft && index < 0) return;
    this.items.push({ pauseMs: ms, soft });
  }

  finish(): SpeechPlan {
    const plan: SpeechPlan = [];
    for (const item of this.items) {
      if ('text' in item) {
        // say-as output is padded with spaces; "one two three ." would otherwise keep the gap.
        const text = normalizeSpace(item.text).replace(/\s+([.,!?;:])(?=\s|$)/g, '$1');
        if (text === '') continue;
        const last = plan[plan.length - 1];
        if (last !== undefined && 'text' in last && last.rate === item.rate) last.text += ` ${text}`;
        else plan.push({ text, rate: item.rate });
      } else {
        const last = plan[plan.length - 1];
        if (last !== undefined && 'pauseMs' in last) last.pauseMs += item.pauseMs;
        else plan.push({ pauseMs: item.pauseMs });
      }
    }
    // A structural pause at the end is not wanted; an explicit break there is.
    const tail = this.items.filter((item) => !('text' in item) || normalizeSpace(item.text) !== '').pop();
    if (tail !== undefined && 'pauseMs' in tail && tail.soft && 'pauseMs' in (plan[plan.length - 1] ?? {})) plan.pop();
    return plan;
  }
}

class Walker {
  constructor(
    private readonly plan: PlanBuilder,
    private readonly language: string,
  ) {}

  visit(node: Node, rate: number): void {
    if (typeof node === 'string') {
      this.plan.text(node, rate);
      return;
    }
    switch (node.name.toLowerCase()) {
      case 'break':
        this.plan.pause(breakMs(node), false);
        return;
      case 's':
        this.block(node, rate, SENTENCE_PAUSE_MS);
        return;
      case 'p':
        this.block(node, rate, PARAGRAPH_PAUSE_MS);
        return;
      case 'prosody':
        this.children(node, prosodyRate(node.attributes.get('rate'), rate));
        return;
      case 'say-as':
        this.sayAs(node, rate);
        return;
      case 'sub': {
        const alias = node.attributes.get('alias');
        if (alias !== undefined) this.plan.text(` ${alias} `, rate);
        else this.children(node, rate);
        return;
      }
      default:
        // speak, voice, lang, emphasis, phoneme, w, mark, audio (its content is the fallback
        // text), vendor extensions and anything unknown: the text inside is still spoken.
        this.children(node, rate);
    }
  }

  private children(node: Element, rate: number): void {
    for (const child of node.children) this.visit(child, rate);
  }

  private block(node: Element, rate: number, pauseMs: number): void {
    this.plan.pause(pauseMs, true);
    this.children(node, rate);
    this.plan.pause(pauseMs, true);
  }

  private sayAs(node: Element, rate: number): void {
    const interpretAs = node.attributes.get('interpret-as');
    const content = normalizeSpace(textContent(node));
    if (interpretAs === undefined || content === '') {
      this.children(node, rate);
      return;
    }
    for (const part of sayAs(content, interpretAs, node.attributes.get('format'), this.language)) {
      if (typeof part === 'string') this.plan.text(` ${part} `, rate);
      else this.plan.pause(part.pauseMs, false);
    }
  }
}

function textContent(node: Node): string {
  return typeof node === 'string' ? node : node.children.map(textContent).join('');
}

function breakMs(node: Element): number {
  const time = node.attributes.get('time');
  if (time !== undefined) {
    const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s)\s*$/i.exec(time);
    if (match === null) throw malformed(`<break time="${time}">: expected a duration such as "500ms" or "2s"`);
    const ms = Number(match[1]) * (match[2]?.toLowerCase() === 's' ? 1000 : 1);
    return Math.min(MAX_BREAK_MS, Math.round(ms));
  }
  const strength = node.attributes.get('strength');
  if (strength === undefined) return BREAK_STRENGTH_MS.medium as number;
  const ms = BREAK_STRENGTH_MS[strength.trim().toLowerCase()];
  if (ms === undefined) {
    throw malformed(`<break strength="${strength}">: expected one of ${Object.keys(BREAK_STRENGTH_MS).join(', ')}`);
  }
  return ms;
}

/** Rates nest: a percentage or keyword inside another prosody scales the enclosing rate. */
function prosodyRate(value: string | undefined, enclosing: number): number {
  if (value === undefined) return enclosing;
  const text = value.trim().toLowerCase();
  let factor = PROSODY_RATES[text];
  if (factor === undefined) {
    const match = /^([+-]?)(\d+(?:\.\d+)?)(%?)$/.exec(text);
    if (match === null) {
      throw malformed(`<prosody rate="${value}">: expected x-slow, slow, medium, fast, x-fast or a percentage`);
    }
    const amount = Number(match[2]);
    if (match[3] === '%') factor = match[1] === '' ? amount / 100 : 1 + (match[1] === '-' ? -amount : amount) / 100;
    else factor = match[1] === '-' ? NaN : amount;
    if (!(factor > 0)) throw malformed(`<prosody rate="${value}"> would stop speech altogether`);
  }
  return Math.min(MAX_RATE, Math.max(MIN_RATE, enclosing * factor));
}

function normalizeSpace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
