/**
 * `convert` and `inspect` tell a data file by its content alike (lib/cli/sniff.ts): an Arrow IPC
 * stream and an encrypted Parquet file, with or without a telling extension, run as users run
 * the CLI; and the top-level help and `run --memory`'s refusal say what the commands accept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS, corpusSkip, runCli, tempDir } from '../helpers.ts';
import { parseMemory } from '../../lib/cli/commands/run.ts';

const cli = runCli;

const ENCRYPTED =
  /Encrypted Parquet file \(Parquet Modular Encryption footer\) is not supported.*\[ERR_SPILLWAY_UNSUPPORTED\]/;

/** Both commands on `file`: inspect describes an Arrow stream, convert reads it to JSON lines. */
async function assertArrowStream(file: string, out: string, rows: number): Promise<void> {
  const inspect = await cli('inspect', file);
  assert.equal(inspect.code, 0, `inspect ${file}: ${inspect.stderr}`);
  assert.match(inspect.stdout, /\(IPC stream format\)/);
  assert.match(inspect.stdout, new RegExp(`\\b${rows} rows in `));
  const convert = await cli('convert', file, out, '--no-progress');
  assert.equal(convert.code, 0, `convert ${file}: ${convert.stderr}`);
  assert.match(convert.stdout, new RegExp(`: ${rows} rows`));
}

/** Both commands refuse `file` as an encrypted Parquet file, with the same coded error. */
async function assertEncrypted(file: string, out: string): Promise<void> {
  const convert = await cli('convert', file, out, '--no-progress');
  assert.equal(convert.code, 1);
  assert.match(convert.stderr, ENCRYPTED, 'convert names the encryption, not "cannot tell the format"');
  const inspect = await cli('inspect', file);
  assert.equal(inspect.code, 1);
  assert.match(inspect.stderr, ENCRYPTED);
}

test('an Arrow IPC stream without a telling extension: inspect and convert both read it', async () => {
  const dir = tempDir();
  const csv = join(dir, 'in.csv');
  writeFileSync(csv, 'id,name\n1,a\n2,b\n3,c\n');
  const made = await cli('convert', csv, join(dir, 'in.arrows'), '--no-progress');
  assert.equal(made.code, 0, made.stderr);
  for (const name of ['in.stream', 'in-no-extension']) {
    copyFileSync(join(dir, 'in.arrows'), join(dir, name));
    await assertArrowStream(join(dir, name), join(dir, `${name}.jsonl`), 3);
  }
});

test('an encrypted Parquet file (PARE): convert and inspect give the same coded error', async () => {
  const dir = tempDir();
  // the magic at both ends is all either command looks at before refusing it
  const file = join(dir, 'secret.bin');
  writeFileSync(file, Buffer.concat([Buffer.from('PARE'), Buffer.alloc(32, 7), Buffer.from('PARE')]));
  await assertEncrypted(file, join(dir, 'x.csv'));
});

test('the corpus: an Arrow stream (.stream) and an encrypted Parquet file', { skip: corpusSkip }, async () => {
  const dir = tempDir();
  const stream = join(CORPUS, 'arrow/cpp-21.0.0/generated_nested.stream');
  await assertArrowStream(stream, join(dir, 'nested.jsonl'), 17);
  const bare = join(dir, 'generated_nested');
  copyFileSync(stream, bare);
  await assertArrowStream(bare, join(dir, 'bare.jsonl'), 17);
  await assertEncrypted(join(CORPUS, 'parquet/bad/uniform_encryption.parquet.encrypted'), join(dir, 'x.csv'));
});

test('spillway --help says what inspect describes, as inspect --help does', async () => {
  const help = await cli('--help');
  const line = /^ {2}inspect +(.+)$/m.exec(help.stdout)?.[1];
  assert.ok(line, help.stdout);
  const usage = (await cli('inspect', '--help')).stdout;
  for (const what of ['spill director', 'CSV', 'Parquet', 'Arrow', 'dataset']) {
    assert.ok(usage.includes(what), `inspect --help names ${what}`);
    assert.ok(line.includes(what), `spillway --help names ${what} for inspect: ${line}`);
  }
});

test('run --memory refuses with what it accepts: at least 1 MiB or a fraction', () => {
  for (const value of ['banana', '0', '100', '1.5', '0%', '-1GB']) {
    assert.throws(
      () => parseMemory(value),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_SPILLWAY_INVALID_OPTION');
        assert.match(error.message, /^--memory must be a size of at least 1 MiB .* or a fraction in \(0, 1\]/);
        assert.doesNotMatch(error.message, /bytes >= 0/, 'no bound that 0 would pass');
        return true;
      },
      value,
    );
  }
  assert.equal(parseMemory('2MiB'), 2 * 1024 * 1024);
  assert.ok(parseMemory('50%') > 0);
});
