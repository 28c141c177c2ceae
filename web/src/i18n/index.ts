// The two languages (SPEC §12). Messages live in ./locales/*.json and are
// compiled to functions at build time by @intlify/unplugin-vue-i18n; the
// bundle carries vue-i18n's runtime-only build (no message compiler, so no
// `new Function` under a strict CSP). Turkish for a `tr` browser, English
// otherwise; the header's switch overrides it and is remembered.
import { createI18n } from 'vue-i18n';
import { computed, watch } from 'vue';
import en from './locales/en.json';
import tr from './locales/tr.json';

export type Lang = 'tr' | 'en';
export const LANGS: readonly { code: Lang; short: string; name: string }[] = [
  // Endonyms: each language named in itself, never translated.
  { code: 'tr', short: 'TR', name: 'Türkçe' },
  { code: 'en', short: 'EN', name: 'English' },
];
export const LANG_KEY = 'hothour.lang';

/** The BCP 47 tag Intl formats with for each language. */
export const INTL_LOCALE: Record<Lang, string> = { tr: 'tr-TR', en: 'en-GB' };

export type MessageSchema = typeof en;

export const i18n = createI18n<[MessageSchema], Lang, false>({
  legacy: false,
  locale: 'en',
  fallbackLocale: 'en',
  messages: { en, tr: tr as MessageSchema },
  missingWarn: false,
  fallbackWarn: false,
});

/** The language in use (reactive: templates that format through it follow a switch). */
export const lang = computed<Lang>(() => i18n.global.locale.value);
export const intlLocale = computed(() => INTL_LOCALE[lang.value]);
export const t = i18n.global.t;

/** The first of the browser's languages that we speak, else English. */
export function preferredLang(languages: readonly string[]): Lang {
  for (const tag of languages) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'tr' || base === 'en') return base;
  }
  return 'en';
}

function stored(): Lang | null {
  try {
    const value = localStorage.getItem(LANG_KEY);
    return value === 'tr' || value === 'en' ? value : null;
  } catch {
    return null;
  }
}

/** Picks the language at start-up and keeps `<html lang>` in step with it. */
export function startLanguage(): void {
  i18n.global.locale.value = stored() ?? preferredLang(navigator.languages?.length ? navigator.languages : [navigator.language]);
  watch(lang, (value) => (document.documentElement.lang = value), { immediate: true });
}

export function setLang(value: Lang): void {
  i18n.global.locale.value = value;
  try {
    localStorage.setItem(LANG_KEY, value);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}
