// Both catalogues complete, every key the code asks for present, no
// untranslated text in a template (SPEC §12).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keysOf, keysUsed, literalsIn } from './lint';
import { AUCTION_STATUSES, FEED_TYPES, RESERVATION_STATUSES } from '../domain/words';
import { PROBLEM_CODES } from '../api/errors';
import { CARD_PROBLEMS } from '../payments/pay';
import { EVENT_STATES } from '../studio/catalogue';

const src = fileURLToPath(new URL('..', import.meta.url));
const read = (name: string) => JSON.parse(readFileSync(join(src, 'i18n/locales', name), 'utf8'));
const en = read('en.json');
const tr = read('tr.json');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.(vue|ts)$/.test(name) && !/\.(test|d)\.ts$/.test(name) ? [path] : [];
  });
}
const sources = files(src);

describe('the message catalogues', () => {
  it('have the same keys in Turkish and English', () => {
    const enKeys = keysOf(en).sort();
    const trKeys = keysOf(tr).sort();
    expect(trKeys.filter((k) => !enKeys.includes(k)), 'only in tr.json').toEqual([]);
    expect(enKeys.filter((k) => !trKeys.includes(k)), 'only in en.json').toEqual([]);
  });

  it('have no empty message', () => {
    for (const [name, catalogue] of [['en', en], ['tr', tr]] as const) {
      const empty = keysOf(catalogue).filter((k) => k.split('.').reduce((node, part) => node[part], catalogue).trim() === '');
      expect(empty, name).toEqual([]);
    }
  });

  it('have every key the code asks for', () => {
    const keys = new Set(keysOf(en));
    const missing = sources.flatMap((file) =>
      keysUsed(readFileSync(file, 'utf8'))
        .filter((key) => !keys.has(key))
        .map((key) => `${relative(src, file)}: ${key}`),
    );
    expect(missing).toEqual([]);
  });

  it('word every status, problem code, card problem, feed event and event state', () => {
    const keys = new Set(keysOf(en));
    const wanted = [
      ...AUCTION_STATUSES.map((s) => `status.auction.${s}`),
      ...RESERVATION_STATUSES.map((s) => `status.reservation.${s}`),
      ...PROBLEM_CODES.map((c) => `problem.${c}`),
      ...FEED_TYPES.map((f) => `feed.${f}`),
      ...CARD_PROBLEMS.map((w) => `payment.card.${w}`),
      ...EVENT_STATES.map((s) => `catalogue.eventStatus.${s}`),
    ];
    expect(wanted.filter((k) => !keys.has(k))).toEqual([]);
  });
});

describe('the templates', () => {
  it('show no text that is not from a catalogue', () => {
    const found = sources.filter((f) => f.endsWith('.vue')).flatMap((file) => literalsIn(relative(src, file), readFileSync(file, 'utf8')));
    expect(found).toEqual([]);
  });

  it('are checked for real (the check finds what it should)', () => {
    const bad = `<template>
  <h1>Live board</h1>
  <p>{{ $t('ok') }} · {{ n }}</p>
  <button aria-label="Close">×</button>
  <input placeholder="Your name" :title="busy ? 'Please wait' : ''" />
  <p>{{ live ? 'Live now' : 'Off' }}</p>
</template>`;
    const found = literalsIn('Bad.vue', bad);
    expect(found).toHaveLength(5);
    expect(found.join('\n')).toContain('text "Live board"');
    expect(found.join('\n')).toContain('aria-label="Close"');
    expect(found.join('\n')).toContain('placeholder="Your name"');
    expect(found.join('\n')).toContain(":title literal 'Please wait'");
    expect(found.join('\n')).toContain("literal 'Live now'");
    expect(literalsIn('Good.vue', `<template><p>{{ $t('a.b') }} · <span>{{ count }}</span> &nbsp;</p></template>`)).toEqual([]);
  });
});
