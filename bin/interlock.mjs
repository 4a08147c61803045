#!/usr/bin/env node
// `npx interlock …` from this repository: the CLI is TypeScript, run through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../cli/interlock.ts');
await run();
