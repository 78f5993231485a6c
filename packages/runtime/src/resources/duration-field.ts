/**
 * A duration field of a resource (Component `spec.initTimeout`, Resiliency policies, Configuration
 * timeouts), parsed by the one duration grammar and refused as a {@link ResourceError} naming the file
 * and the field.
 */
import { DurationError, parseDuration } from '../util/duration.js';
import { ResourceError } from './loader.js';

/**
 * Milliseconds of a duration field; a YAML number, or a bare number in the text when `bareUnitMs` is
 * given, counts in that unit.
 */
export function durationField(file: string, field: string, value: string | number, bareUnitMs?: number): number {
  try {
    if (typeof value === 'number') {
      if (bareUnitMs === undefined || !Number.isFinite(value) || value < 0) throw new DurationError(field, String(value), 'a duration such as 1h30m, 300ms, 1.5h or 7d');
      return value * bareUnitMs;
    }
    return parseDuration(field, value, bareUnitMs === undefined ? {} : { bareUnitMs });
  } catch (err) {
    if (err instanceof DurationError) throw new ResourceError(file, field, err.message.slice(field.length + 2));
    throw err;
  }
}
