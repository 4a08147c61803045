import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../config/load.js';

/** The problems a config is refused for, each `path: message`; fails the test if it is accepted. */
export function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'interlock.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('the config was accepted');
}
