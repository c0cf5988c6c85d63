// Go's wording for the errno values a plugin folder scan meets (strerror, lower case).
const GO_ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
  EMFILE: "too many open files",
};

// Node's syscall names where Go's os package names the operation differently.
const GO_OPERATION: Readonly<Record<string, string>> = { scandir: "open" };

/**
 * Describes a failed file-system call the way Go's `*fs.PathError` prints, e.g.
 * `open /x/manifest.json: no such file or directory`, so error texts read as Navidrome's do.
 */
export function describeFsError(error: unknown, path?: string): string {
  if (!(error instanceof Error)) return String(error);
  const { code, syscall, path: errorPath } = error as NodeJS.ErrnoException;
  if (code === undefined || syscall === undefined) return error.message;
  const reason =
    GO_ERRNO_TEXT[code] ??
    error.message
      .replace(/^[A-Z0-9_]+: /, "")
      .replace(new RegExp(`, ${syscall}\\b.*$`), "");
  const operation = GO_OPERATION[syscall] ?? syscall;
  const target = errorPath ?? path;
  return target === undefined ? `${operation}: ${reason}` : `${operation} ${target}: ${reason}`;
}
