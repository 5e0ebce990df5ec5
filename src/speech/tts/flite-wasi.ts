/**
 * Runs the flite command line compiled to WASI (preview1) against an in-memory file system.
 *
 * Why not `node:wasi`: Node 20's WASI binding keeps using the module's memory after the module
 * grows it, so a longer text (about 1000 characters with the rms voice) kills the whole process
 * with SIGSEGV. Flite needs only thirteen WASI calls, all simple; implemented here in JavaScript
 * they always see the current memory, and the output WAV is collected from flite's writes with
 * no temporary directory. Anything flite does not need (sockets, polling, directories beyond the
 * one root) is left out: the module would fail to instantiate if it imported more.
 */

// WASI preview1 numbers used below.
const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_EXIST = 20;
const ERRNO_INVAL = 28;
const ERRNO_NOENT = 44;
const FILETYPE_CHARACTER_DEVICE = 2;
const FILETYPE_DIRECTORY = 3;
const FILETYPE_REGULAR_FILE = 4;
const OFLAGS_CREAT = 1;
const OFLAGS_EXCL = 4;
const OFLAGS_TRUNC = 8;
const FDFLAGS_APPEND = 1;
const WHENCE_SET = 0;
const WHENCE_CUR = 1;
const WHENCE_END = 2;
const CLOCK_REALTIME = 0;
const ALL_RIGHTS = 0x1fffffffn;
/** The one preopened directory, "/", in which every file lives. */
const ROOT_FD = 3;

interface MemoryFile {
  data: Uint8Array;
  size: number;
}

interface OpenFile {
  file: MemoryFile;
  position: number;
  flags: number;
}

/** What `proc_exit` throws to unwind out of `_start`. */
class ProcExit {
  constructor(readonly code: number) {}
}

export interface FliteRunResult {
  exitCode: number;
  /** Contents of the output file, or null when flite did not create it. */
  wav: Uint8Array | null;
  /** What flite printed on stdout and stderr. */
  output: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One flite process: a fresh instance (flite keeps global state, so instances are not reused)
 * with its own files. Instantiating copies ~17 MB of voice data into new memory (~10 ms), so a
 * caller can create the next one ahead of time and `run` it later.
 */
export class FliteProcess {
  private readonly files = new Map<string, MemoryFile>();
  private readonly fds = new Map<number, OpenFile>();
  private readonly printed: Uint8Array[] = [];
  private nextFd = ROOT_FD + 1;
  private args: Uint8Array[] = [];
  private readonly instance: WebAssembly.Instance;
  private memory: WebAssembly.Memory | null = null;
  private used = false;

  constructor(module: WebAssembly.Module) {
    this.instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: this.imports() });
    this.memory = this.instance.exports.memory as WebAssembly.Memory;
  }

  /** Runs `flite <args>`; `outputFile` is the path given to `-o`, relative to "/". */
  run(args: readonly string[], outputFile: string): FliteRunResult {
    if (this.used) throw new Error('a FliteProcess runs once');
    this.used = true;
    this.args = args.map((arg) => encoder.encode(`${arg}\0`));
    let exitCode = 0;
    try {
      (this.instance.exports._start as () => void)();
    } catch (error) {
      if (!(error instanceof ProcExit)) throw error;
      exitCode = error.code;
    }
    const file = this.files.get(outputFile.replace(/^\/+/, ''));
    const output = decoder.decode(concatBytes(this.printed));
    // Let the instance's memory go as soon as possible; it is the size of all the voices.
    this.memory = null;
    return { exitCode, wav: file ? file.data.slice(0, file.size) : null, output };
  }

  private bytes(): Uint8Array {
    return new Uint8Array((this.memory as WebAssembly.Memory).buffer);
  }

  private view(): DataView {
    return new DataView((this.memory as WebAssembly.Memory).buffer);
  }

  private iovecs(iovs: number, count: number): Array<[number, number]> {
    const view = this.view();
    const list: Array<[number, number]> = [];
    for (let i = 0; i < count; i++) list.push([view.getUint32(iovs + 8 * i, true), view.getUint32(iovs + 8 * i + 4, true)]);
    return list;
  }

  private imports(): Record<string, (...args: never[]) => number> {
    return {
      args_sizes_get: (countPtr: number, sizePtr: number): number => {
        const view = this.view();
        view.setUint32(countPtr, this.args.length, true);
        view.setUint32(sizePtr, this.args.reduce((n, arg) => n + arg.length, 0), true);
        return ERRNO_SUCCESS;
      },
      args_get: (argvPtr: number, bufPtr: number): number => {
        const view = this.view();
        const bytes = this.bytes();
        let at = bufPtr;
        this.args.forEach((arg, i) => {
          view.setUint32(argvPtr + 4 * i, at, true);
          bytes.set(arg, at);
          at += arg.length;
        });
        return ERRNO_SUCCESS;
      },
      clock_time_get: (id: number, _precision: bigint, timePtr: number): number => {
        const now = id === CLOCK_REALTIME ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint();
        this.view().setBigUint64(timePtr, now, true);
        return ERRNO_SUCCESS;
      },
      fd_prestat_get: (fd: number, ptr: number): number => {
        if (fd !== ROOT_FD) return ERRNO_BADF;
        const view = this.view();
        view.setUint8(ptr, 0); // preopen type: directory
        view.setUint32(ptr + 4, 1, true); // name length: "/"
        return ERRNO_SUCCESS;
      },
      fd_prestat_dir_name: (fd: number, ptr: number, length: number): number => {
        if (fd !== ROOT_FD) return ERRNO_BADF;
        if (length < 1) return ERRNO_INVAL;
        this.bytes()[ptr] = 0x2f;
        return ERRNO_SUCCESS;
      },
      fd_fdstat_get: (fd: number, ptr: number): number => {
        const open = this.fds.get(fd);
        let type: number;
        if (fd <= 2) type = FILETYPE_CHARACTER_DEVICE;
        else if (fd === ROOT_FD) type = FILETYPE_DIRECTORY;
        else if (open !== undefined) type = FILETYPE_REGULAR_FILE;
        else return ERRNO_BADF;
        const view = this.view();
        view.setUint8(ptr, type);
        view.setUint16(ptr + 2, open?.flags ?? 0, true);
        view.setBigUint64(ptr + 8, ALL_RIGHTS, true);
        view.setBigUint64(ptr + 16, ALL_RIGHTS, true);
        return ERRNO_SUCCESS;
      },
      fd_fdstat_set_flags: (fd: number, flags: number): number => {
        const open = this.fds.get(fd);
        if (open !== undefined) open.flags = flags;
        return ERRNO_SUCCESS;
      },
      path_open: (
        dirFd: number,
        _dirFlags: number,
        pathPtr: number,
        pathLength: number,
        oflags: number,
        _rightsBase: bigint,
        _rightsInheriting: bigint,
        fdflags: number,
        fdPtr: number,
      ): number => {
        if (dirFd !== ROOT_FD) return ERRNO_BADF;
        const name = decoder.decode(this.bytes().subarray(pathPtr, pathPtr + pathLength)).replace(/^\/+/, '');
        let file = this.files.get(name);
        if (file !== undefined && oflags & OFLAGS_CREAT && oflags & OFLAGS_EXCL) return ERRNO_EXIST;
        if (file === undefined) {
          if (!(oflags & OFLAGS_CREAT)) return ERRNO_NOENT;
          file = { data: new Uint8Array(0), size: 0 };
          this.files.set(name, file);
        }
        if (oflags & OFLAGS_TRUNC) file.size = 0;
        const fd = this.nextFd++;
        this.fds.set(fd, { file, position: 0, flags: fdflags });
        this.view().setUint32(fdPtr, fd, true);
        return ERRNO_SUCCESS;
      },
      fd_write: (fd: number, iovs: number, count: number, writtenPtr: number): number => {
        const bytes = this.bytes();
        let written = 0;
        if (fd === 1 || fd === 2) {
          for (const [at, length] of this.iovecs(iovs, count)) {
            this.printed.push(bytes.slice(at, at + length));
            written += length;
          }
        } else {
          const open = this.fds.get(fd);
          if (open === undefined) return ERRNO_BADF;
          if (open.flags & FDFLAGS_APPEND) open.position = open.file.size;
          for (const [at, length] of this.iovecs(iovs, count)) {
            reserve(open.file, open.position + length);
            open.file.data.set(bytes.subarray(at, at + length), open.position);
            open.position += length;
            open.file.size = Math.max(open.file.size, open.position);
            written += length;
          }
        }
        this.view().setUint32(writtenPtr, written, true);
        return ERRNO_SUCCESS;
      },
      fd_read: (fd: number, iovs: number, count: number, readPtr: number): number => {
        let read = 0;
        const open = this.fds.get(fd);
        if (open !== undefined) {
          const bytes = this.bytes();
          for (const [at, length] of this.iovecs(iovs, count)) {
            const n = Math.max(0, Math.min(length, open.file.size - open.position));
            bytes.set(open.file.data.subarray(open.position, open.position + n), at);
            open.position += n;
            read += n;
            if (n < length) break;
          }
        } else if (fd !== 0) {
          return ERRNO_BADF;
        }
        this.view().setUint32(readPtr, read, true);
        return ERRNO_SUCCESS;
      },
      fd_seek: (fd: number, offset: bigint, whence: number, resultPtr: number): number => {
        const open = this.fds.get(fd);
        if (open === undefined) return ERRNO_BADF;
        const base =
          whence === WHENCE_SET ? 0 : whence === WHENCE_CUR ? open.position : whence === WHENCE_END ? open.file.size : -1;
        if (base < 0) return ERRNO_INVAL;
        const target = base + Number(offset);
        if (target < 0) return ERRNO_INVAL;
        open.position = target;
        this.view().setBigUint64(resultPtr, BigInt(target), true);
        return ERRNO_SUCCESS;
      },
      fd_close: (fd: number): number => (this.fds.delete(fd) || fd <= ROOT_FD ? ERRNO_SUCCESS : ERRNO_BADF),
      proc_exit: (code: number): number => {
        throw new ProcExit(code);
      },
    };
  }
}

function reserve(file: MemoryFile, size: number): void {
  if (size <= file.data.length) return;
  const grown = new Uint8Array(Math.max(size, file.data.length * 2, 65536));
  grown.set(file.data.subarray(0, file.size));
  file.data = grown;
}

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
