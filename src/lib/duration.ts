import ms from 'ms';

/**
 * Durations in configuration: a bare number is seconds (`900`), otherwise `ms` syntax
 * (`900s`, `15m`, `1h`, `30d`). Returns whole seconds, or undefined when the text is not one.
 */
export function parseDurationSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!/^\d+(\.\d+)?\s*[a-zA-Z]+$/.test(trimmed)) return undefined;
  const millis = ms(trimmed as ms.StringValue);
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis < 0) return undefined;
  return Math.round(millis / 1000);
}
