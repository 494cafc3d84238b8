/**
 * Structured JSON logs, one line per event, always with the request id when there is one.
 * Secrets never reach a log line: any field whose name looks like a credential is replaced
 * by "[redacted]", however deep it sits.
 */
type Level = "debug" | "info" | "warn" | "error";
type Fields = Record<string, unknown>;

const levelRank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names whose values are secrets (passwords, tokens, UserSigs, keys, signatures). */
const secretFieldPattern = /pass(word)?|token|usersig|secret|key|sign(ature)?$|authorization|cookie/i;

function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Fields = {};
  for (const [field, inner] of Object.entries(value)) {
    out[field] = secretFieldPattern.test(field) ? "[redacted]" : redact(inner, depth + 1);
  }
  return out;
}

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  /** A logger whose lines all carry `fields` (e.g. the request id). */
  child(fields: Fields): Logger;
}

/** Where lines go; tests swap it to capture output. */
export const logSink = { write: (line: string): void => void process.stdout.write(line + "\n") };

function minimumLevel(): number {
  const configured = (process.env.LOG_LEVEL ?? "info").toLowerCase() as Level;
  return levelRank[configured] ?? levelRank.info;
}

export function createLogger(base: Fields = {}): Logger {
  const emit = (level: Level, message: string, fields?: Fields) => {
    if (levelRank[level] < minimumLevel()) return;
    const line = { level, time: new Date().toISOString(), message, ...(redact({ ...base, ...fields }) as Fields) };
    logSink.write(JSON.stringify(line));
  };
  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}

export const logger = createLogger();
