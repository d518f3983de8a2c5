/**
 * The deploy state directory (history, lock, journal, the Compose override) as files that can be
 * trusted: every directory from the state root down must be a real directory (a symlink is
 * refused, so a deploy never writes where a link points), files are opened with O_NOFOLLOW and
 * created 0600 (directories 0700), whole-file writes go to a temporary file that is fsync'd and
 * renamed into place, and appends are fsync'd. Every failure is a StateWriteError naming the file
 * and the cause (ENOSPC included), so a caller can stop before the stack changes.
 */
import {
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { DeployError, ExitCode } from "../errors";

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** A state file could not be read or written; the deploy must not change the stack after this. */
export class StateWriteError extends DeployError {
  constructor(
    readonly file: string,
    readonly code: string,
    detail: string,
  ) {
    super(
      `cannot write the deploy state ${file}: ${code === "ELOOP" ? "it is a symlink, which the state directory refuses" : detail}`,
      ExitCode.failed,
      code === "ENOSPC" || code === "EDQUOT"
        ? "free space on the filesystem of the state directory (--state_dir / TIMEKIT_STATE_DIR), then run the command again"
        : code === "ELOOP"
          ? "replace the symlink with a regular file or directory, or point --state_dir at a directory of its own"
          : "check the permissions of the state directory (--state_dir / TIMEKIT_STATE_DIR)",
    );
  }
}

function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === "string" ? code : "EIO";
}

function fail(file: string, error: unknown): never {
  if (error instanceof StateWriteError) throw error;
  throw new StateWriteError(file, codeOf(error), error instanceof Error ? error.message : String(error));
}

function isMissing(error: unknown): boolean {
  return codeOf(error) === "ENOENT";
}

export class StateDir {
  private ensured = false;

  /**
   * @param path the directory holding the files.
   * @param root the state root the user named; every directory from it down to `path` is checked.
   */
  constructor(
    readonly path: string,
    readonly root: string = dirname(path),
  ) {}

  file(name: string): string {
    return join(this.path, name);
  }

  /** The directories from the root down to the state dir, root first. */
  private chain(): string[] {
    const rel = relative(this.root, this.path);
    const inside = rel === "" ? [] : rel.split(sep);
    if (rel.startsWith("..")) return [this.path];
    const dirs = [this.root];
    for (const part of inside) dirs.push(join(dirs[dirs.length - 1] as string, part));
    return dirs;
  }

  /** Refuses a symlink or non-directory from the root down; `onMissing` false stops the walk. */
  private walk(onMissing: (dir: string) => boolean): boolean {
    for (const dir of this.chain()) {
      let stat: ReturnType<typeof lstatSync> | null = null;
      try {
        stat = lstatSync(dir);
      } catch (error) {
        if (!isMissing(error)) fail(dir, error);
      }
      if (stat === null) {
        if (!onMissing(dir)) return false;
        continue;
      }
      if (stat.isSymbolicLink()) throw new StateWriteError(dir, "ELOOP", "symlink");
      if (!stat.isDirectory()) throw new StateWriteError(dir, "ENOTDIR", "it is not a directory");
    }
    return true;
  }

  /** Creates the directories (0700) and refuses any that is a symlink or not a directory. */
  ensure(): void {
    if (this.ensured) return;
    this.walk((dir) => {
      try {
        mkdirSync(dir, { mode: DIR_MODE });
      } catch (made) {
        if (codeOf(made) !== "EEXIST") fail(dir, made);
        if (lstatSync(dir).isSymbolicLink()) throw new StateWriteError(dir, "ELOOP", "symlink");
      }
      return true;
    });
    this.ensured = true;
  }

  /** A file's text, or null when it (or the state dir: reading creates nothing) does not exist. */
  read(name: string): string | null {
    if (!this.ensured && !this.walk(() => false)) return null;
    const file = this.file(name);
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (isMissing(error)) return null;
      fail(file, error);
    }
    try {
      return readFileSync(fd, "utf8");
    } catch (error) {
      fail(file, error);
    } finally {
      closeSync(fd);
    }
  }

  /** Writes `text` to a new temporary file beside `name` (0600, fsync'd) and returns its path. */
  private writeTemp(name: string, text: string): string {
    this.ensure();
    const temp = this.file(`.${name}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
    let fd: number | undefined;
    try {
      fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
      const bytes = Buffer.from(text);
      let at = 0;
      while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      try {
        unlinkSync(temp);
      } catch {
        // nothing was created
      }
      fail(this.file(name), error);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return temp;
  }

  private syncDir(): void {
    try {
      const fd = openSync(this.path, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      fail(this.path, error);
    }
  }

  /** Replaces `name` with `text` in one step: readers see the old content or the new, never a part. */
  write(name: string, text: string): void {
    const temp = this.writeTemp(name, text);
    try {
      renameSync(temp, this.file(name));
    } catch (error) {
      this.discard(temp);
      fail(this.file(name), error);
    }
    this.syncDir();
  }

  /**
   * Creates `name` holding `text` only if it does not exist yet, in one step (the content is
   * complete before the name appears). False when it exists.
   */
  createExclusive(name: string, text: string): boolean {
    const temp = this.writeTemp(name, text);
    try {
      linkSync(temp, this.file(name));
      this.syncDir();
      return true;
    } catch (error) {
      if (codeOf(error) === "EEXIST") return false;
      fail(this.file(name), error);
    } finally {
      this.discard(temp);
    }
  }

  /** Appends one line (fsync'd). A line cut short by a full disk is skipped by readers. */
  append(name: string, line: string): void {
    this.ensure();
    const file = this.file(name);
    let fd: number | undefined;
    try {
      fd = openSync(
        file,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
        FILE_MODE,
      );
      const bytes = Buffer.from(line.endsWith("\n") ? line : `${line}\n`);
      let at = 0;
      while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } catch (error) {
      fail(file, error);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Removes `name`; a missing file is already removed. */
  remove(name: string): void {
    try {
      unlinkSync(this.file(name));
    } catch (error) {
      if (!isMissing(error)) fail(this.file(name), error);
    }
  }

  private discard(temp: string): void {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
  }
}
