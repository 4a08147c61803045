import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { searchAttributes } from '../workflows/messages.js';

const { temporal } = proto;

const KINDS = {
  KEYWORD: { cli: 'Keyword', proto: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
  KEYWORD_LIST: { cli: 'KeywordList', proto: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST },
} as const;

/** Interlock's custom search attributes as `Name=Type`, for `temporal server start-dev --search-attribute`. */
export function searchAttributeFlags(): string[] {
  return Object.values(searchAttributes).map((key) => `${key.name}=${KINDS[key.type as keyof typeof KINDS].cli}`);
}

/** Name → indexed value type, as `OperatorService.addSearchAttributes` takes them. */
export function searchAttributeTypes(keys = Object.values(searchAttributes)) {
  return Object.fromEntries(keys.map((key) => [key.name, KINDS[key.type as keyof typeof KINDS].proto]));
}

/**
 * Registers the custom search attributes on a cluster that lacks them (the compose file's server
 * and the dev server already have them). Needs the namespace admin permission; says so when refused.
 */
export async function ensureSearchAttributes(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.values(searchAttributes).filter((key) => !(key.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: searchAttributeTypes(missing) });
  return missing.map((key) => key.name);
}
