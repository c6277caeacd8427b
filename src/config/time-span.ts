/**
 * parseTimeSpan reads an IIS configuration timeSpan (the .NET TimeSpan format web.config
 * uses): `hh:mm:ss`, `d.hh:mm:ss`, each optionally with a fraction of a second
 * (`00:00:00.5`), surrounding blanks ignored. It returns milliseconds, or undefined when
 * the text is not a timeSpan (hours above 23, minutes or seconds above 59, a sign, ...).
 */
export function parseTimeSpan(text: string): number | undefined {
  const match = TIME_SPAN.exec(text.trim());
  if (match === null) return undefined;
  const days = match[1] === undefined ? 0 : Number(match[1]);
  const hours = Number(match[2]);
  const minutes = Number(match[3]);
  const seconds = Number(match[4]);
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const fraction = match[5] === undefined ? 0 : Number(`0.${match[5]}`);
  return Math.round((((days * 24 + hours) * 60 + minutes) * 60 + seconds + fraction) * 1000);
}

const TIME_SPAN = /^(?:(\d{1,8})\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/;
