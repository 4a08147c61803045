import { describe, expect, it } from 'vitest';
import { describeUnknown, substitute, type Variables } from '../../core/substitution.js';

const NOTES = 'Action[Ensure traders are aware of the deployment].Output.Manual.Notes';

const variables: Variables = {
  Project: 'hello-service',
  Release: '1.4.2',
  Environment: 'production',
  'Deployment.Id': 'hello-service/production/1.4.2',
  [NOTES]: 'Checked with Rick, got the all-clear; Michelle is out at a meeting.',
  Empty: '',
};

describe('substitute', () => {
  it('replaces every known name, each time it appears', () => {
    expect(substitute('./deploy.sh "#{Project}" "#{Release}" "#{Environment}" #{Release}', variables)).toEqual({
      ok: true,
      text: './deploy.sh "hello-service" "1.4.2" "production" 1.4.2',
    });
  });

  it('knows dotted names', () => {
    expect(substitute('id=#{Deployment.Id}', variables)).toEqual({ ok: true, text: 'id=hello-service/production/1.4.2' });
  });

  it('knows names with brackets and spaces, such as a manual step\'s output', () => {
    expect(substitute(`echo "#{${NOTES}}"`, variables)).toEqual({
      ok: true,
      text: 'echo "Checked with Rick, got the all-clear; Michelle is out at a meeting."',
    });
  });

  it('ignores spaces just inside the braces', () => {
    expect(substitute('#{ Release }', variables)).toEqual({ ok: true, text: '1.4.2' });
  });

  it('a variable set to the empty string is known, and substituted as empty', () => {
    expect(substitute('[#{Empty}]', variables)).toEqual({ ok: true, text: '[]' });
  });

  it('leaves text without references as it is', () => {
    const text = 'plain # text { with } braces and #hash and # {spaced}';
    expect(substitute(text, variables)).toEqual({ ok: true, text });
    expect(substitute('', variables)).toEqual({ ok: true, text: '' });
  });

  it('is case-sensitive: #{release} is not #{Release}', () => {
    expect(substitute('#{release}', variables)).toEqual({ ok: false, unknown: ['release'] });
  });

  it('reports every unknown name, once each, in order of first appearance', () => {
    expect(substitute('#{Nope} #{Release} #{Also.Missing} #{Nope} #{Action[Missing step].Output.Manual.Notes}', variables)).toEqual({
      ok: false,
      unknown: ['Nope', 'Also.Missing', 'Action[Missing step].Output.Manual.Notes'],
    });
  });

  it('never substitutes an unknown name with an empty string', () => {
    const result = substitute('rm -rf /srv/#{Folder}', {});
    expect(result.ok).toBe(false);
    expect(result).not.toHaveProperty('text');
  });

  it('##{X} is the literal #{X}, and is not an unknown variable', () => {
    expect(substitute('echo ##{Release} is #{Release}', variables)).toEqual({ ok: true, text: 'echo #{Release} is 1.4.2' });
    expect(substitute('echo ##{Undefined}', variables)).toEqual({ ok: true, text: 'echo #{Undefined}' });
  });

  it('does not substitute again inside a value that itself holds #{…}', () => {
    const tricky: Variables = { Outer: 'value with #{Inner}', Inner: 'SHOULD NOT APPEAR', Loop: '#{Loop}' };
    expect(substitute('#{Outer}', tricky)).toEqual({ ok: true, text: 'value with #{Inner}' });
    expect(substitute('#{Loop}', tricky)).toEqual({ ok: true, text: '#{Loop}' });
    // Nor does a value naming an unknown variable make the template fail.
    expect(substitute('#{Outer}', { Outer: '#{Nowhere}' })).toEqual({ ok: true, text: '#{Nowhere}' });
  });

  it('a value holding $ patterns is inserted literally', () => {
    // String.replace gives `$&`, `$1`, `$$` meaning in replacement strings; values must not trigger it.
    expect(substitute('x=#{Money}', { Money: "$& $1 $$ $' $`" })).toEqual({ ok: true, text: "x=$& $1 $$ $' $`" });
  });

  it('substitutes multi-line instructions', () => {
    expect(substitute('Tell the trading desk that #{Release} goes live.\nThen tell #{Environment}.\n', variables)).toEqual({
      ok: true,
      text: 'Tell the trading desk that 1.4.2 goes live.\nThen tell production.\n',
    });
  });
});

describe('describeUnknown', () => {
  it('names one unknown variable and says where to define it', () => {
    expect(describeUnknown(['Pause'])).toBe(
      "unknown variable #{Pause}: define it in the project's variables or pass it when triggering the deployment",
    );
  });

  it('names all of several, in the plural', () => {
    expect(describeUnknown(['Pause', `Action[Missing step].Output.Manual.Notes`])).toBe(
      "unknown variables #{Pause}, #{Action[Missing step].Output.Manual.Notes}: define them in the project's variables or pass them when triggering the deployment",
    );
  });

  it('describes exactly what substitute reported', () => {
    const result = substitute('sleep #{Pause} && #{Pause} && #{Other}', {});
    if (result.ok) throw new Error('expected unknown variables');
    expect(describeUnknown(result.unknown)).toMatch(/^unknown variables #\{Pause\}, #\{Other\}:/);
  });
});
