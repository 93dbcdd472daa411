// xling page: numbers, sizes, durations, language names and error messages as the page
// words them (the user's locale for numbers). Pure functions, no DOM.

const integerFormat = new Intl.NumberFormat();
const decimalFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** A whole number in the user's locale. */
export const formatInt = (n) => integerFormat.format(Math.round(Number(n) || 0));
/** A number with one decimal. */
export const formatDecimal = (n) => decimalFormat.format(Number(n) || 0);
/** "1 document", "3 documents". */
export const plural = (n, one, many) => `${formatInt(n)} ${Number(n) === 1 ? one : many}`;
/** Bytes as megabytes, without the unit. */
export const formatMB = (bytes) => formatDecimal(bytes / 1e6);

/** Bytes with a unit: B, kB or MB. */
export function formatBytes(bytes) {
  if (bytes < 1e3) return `${formatInt(bytes)} B`;
  if (bytes < 1e6) return `${formatDecimal(bytes / 1e3)} kB`;
  return `${formatMB(bytes)} MB`;
}

/** A duration: "2.5 s", "42 s", "3 min 5 s". */
export function formatDuration(seconds) {
  if (seconds < 9.95) return `${formatDecimal(seconds)} s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${formatInt(whole)} s`;
  return `${formatInt(Math.floor(whole / 60))} min ${formatInt(whole % 60)} s`;
}

/** Time left: "about 12 s left", "about 3 min left". */
export function formatEta(seconds) {
  if (seconds < 60) return `about ${formatInt(Math.max(1, seconds))} s left`;
  return `about ${formatInt(seconds / 60)} min left`;
}

/** How long ago a time (ms since epoch) was. */
export function formatAgo(ms) {
  const seconds = Math.max(0, (Date.now() - ms) / 1000);
  if (seconds < 60) return `${formatInt(seconds)} s ago`;
  if (seconds < 3600) return `${formatInt(seconds / 60)} min ago`;
  return `at ${new Date(ms).toLocaleString()}`;
}

let displayNames = null;
try {
  displayNames = new Intl.DisplayNames([navigator.language, 'en'], { type: 'language' });
} catch {
  displayNames = null;
}

/** A language code's name in the user's language, else the code. */
export function languageName(code) {
  if (code === 'und') return 'undetermined';
  try {
    const name = displayNames && displayNames.of(code);
    return name && name !== code ? name : code;
  } catch {
    return code;
  }
}

/** The message of anything thrown. */
export function errorMessage(err) {
  if (err && typeof err.message === 'string' && err.message) return err.message;
  return String(err || 'Something went wrong.');
}
