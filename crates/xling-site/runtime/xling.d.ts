// Types of xling.js, the runtime that `xling site` writes next to the index.
export type XlingMode = 'auto' | 'keyword' | 'hybrid' | 'semantic';
export interface XlingSiteSearchOptions {
  /** "auto" (default): hybrid once the model is ready, keyword before. */
  mode?: XlingMode;
  /** "any" (default) or language codes ("de", "pt-BR"…). */
  languages?: 'any' | string[];
  /** Results wanted, 1–100 (default 10). */
  k?: number;
}
export interface XlingSubResult { url: string; title: string; excerpt: string; highlight: [number, number][]; score: number; }
export interface XlingResultData {
  url: string; title: string; excerpt: string;
  /** The matched sentence as [start, end) offsets into `excerpt`. */
  highlight: [number, number][];
  language: string | null; score: number;
  subResults: XlingSubResult[];
  /** The page's other translations. */
  translations: { language: string | null; url: string }[];
  meta: Record<string, string>;
}
export interface XlingResult { score: number; language: string | null; data(): Promise<XlingResultData>; }
export interface XlingSearch { mode: Exclude<XlingMode, 'auto'>; query: string; results: XlingResult[]; }
export interface XlingStatus { state: 'idle' | 'loading' | 'ready' | 'failed'; loaded: number; total: number; error: string | null; }
export class XlingSiteError extends Error { code: 'damaged' | 'unavailable' | 'invalid_input'; }
export function init(options?: { preferred?: string[]; load?: 'focus' | 'now' }): Promise<{ pages: number; sections: number; languages: Record<string, number> }>;
export function search(query: string, options?: XlingSiteSearchOptions): Promise<XlingSearch>;
export function preload(): Promise<void>;
export function ready(): Promise<void>;
export function isReady(): boolean;
export function onStatus(listener: (status: XlingStatus) => void): () => void;
export function terms(text: string): string[];
